"""Yes/no questions for statements that name nothing to ask for: 'Dogs are not allowed in the growing areas.'

A rule, a condition or a decision ('Children must be supervised at all times', 'No se permite comer en las
gradas') holds no name, number or date, so the span rules (core/dataset/spans.py) find nothing to put a question
word in place of, and such an element got no question at all. People ask about it with yes or no: 'Are dogs
allowed in the growing areas?'. The statement itself is the answer, negation and all, so a 'no' is taught as
plainly as a 'yes'.

How a statement becomes a question is the language's (`Lang.yes_no`): English and German put the auxiliary
first ('Are dogs allowed …?', 'Sind Hunde … erlaubt?'), French leads with 'Est-ce que', Spanish only marks it.
A rule written as an order is asked as the person it is for asks (`Lang.orders`): 'Do not leave bags in the
hall' → 'Can I leave bags in the hall?', 'Bitte Hallenschuhe mitbringen' → 'Muss ich Hallenschuhe mitbringen?'.
An order with no marker of one ('Bring your own gloves') is not told from a statement, and is not asked.
"""

from __future__ import annotations

import re
from typing import Collection, Iterable

from core.dataset.language import NEUTRAL, Lang, fill
from core.dataset.spans import ARTICLES, FUNCTION_WORDS

MAX_SUBJECT_WORDS = 5
"""An auxiliary further in than this is not the main verb's ('Members who joined before 2020 and … can …')."""
CLAUSE_WORDS = frozenset("""as that which who whom whose when where if because while than weil dass wenn als welche
welcher welches qui quand si lorsque parce quien cuando porque como donde""".split())
"""Words that open a clause of its own in the supported languages: an auxiliary after one is that clause's
('Rents stay as they are for 2025'), not the sentence's."""


def yes_no_question(sentence: str, lang: Lang, common: Collection[str] = (), named: Collection[str] = ()) -> str:
    """The yes/no question a statement answers, in its language; '' where the language has no rule or the
    statement has no auxiliary (`Lang.auxiliaries`) among its first words. `common` holds the document's words
    seen in lower case, `named` those it writes as names (named_words): a sentence's first word is lower-cased
    inside the question ('Dogs' → 'Are dogs …'), unless it is a name ('Declan') or the language capitalises
    every noun."""
    if lang is NEUTRAL or not lang.yes_no:
        return ""
    words = sentence.strip().rstrip(".!;").split()
    if len(words) < 3 or sentence.rstrip().endswith("?"):
        return ""
    order = _order_question(" ".join(words), lang)
    if order is not None:
        return order
    at = next((i for i, w in enumerate(words[:MAX_SUBJECT_WORDS + 1]) if _plain(w, lang) in lang.auxiliaries), -1)
    if at < 0 or words[0].lower() in lang.pronouns:  # 'It is free': what 'it' is, the question would not say
        return ""
    if any(re.search(r"[,;:()—–]", w) or w.lower() in CLAUSE_WORDS | lang.pronouns for w in words[:at]):
        return ""
    negated = any(w.lower() in lang.negations or _plain(w, lang) != w.lower() for w in words[max(0, at - 1):at + 3])
    if negated and (allowed := dict(lang.forbids).get(_plain(words[at], lang))):
        words[at] = allowed  # 'must not change' asks 'Can … change?'
    if lang.yes_no == "invert":
        if at == 0:
            return ""  # an order or a question already ('Must be …'), not a statement with a subject
        if words[0].lower() in FUNCTION_WORDS and words[0].lower() not in ARTICLES:
            return ""  # 'In winter the pool is closed': what stands first is no subject to follow the verb
        rest = _without_negation(words[at + 1:], lang)
        body = " ".join([words[at].capitalize(), _inside(words[0], common, named, lang), *words[1:at], *rest])
        return f"{lang.open_q}{body}{lang.close_q}"
    body = _without_negation(words, lang)
    if lang.yes_no.startswith(lang.open_q + "{s}"):  # the statement opens the question: its capital stays
        text = " ".join(body)
        return fill(lang.yes_no, lang, s=text[:1].upper() + text[1:])
    return fill(lang.yes_no, lang, s=" ".join([_inside(body[0], common, named, lang), *body[1:]]))


def _order_question(text: str, lang: Lang) -> str | None:
    """A house rule written as an order, asked as the person it is for asks ('Do not leave bags in the hall' → 'Can
    I leave bags in the hall?'); None where the text opens as no order of the language's (`Lang.orders`), '' where
    it does but cannot be asked ('votre': 'mon' or 'ma'?)."""
    for pattern, template in lang.orders:
        m = re.match(pattern, text, re.IGNORECASE)
        if not m:
            continue
        swaps, subjects = dict(lang.own_words), dict(lang.own_subject)
        words = text[m.end():].split()
        rest = []
        for i, word in enumerate(words):
            core = word.strip(",;:").lower()
            after = words[i + 1].lower() if i + 1 < len(words) and core == word.lower() else ""
            swap = subjects.get(core) if after and after not in FUNCTION_WORDS else None  # 'you switch off'
            swap = swaps.get(core) if swap is None else swap
            if swap == "":
                return ""
            rest.append(word.replace(word.strip(",;:"), swap) if swap else word)
        said = " ".join(rest)
        if len(rest) < 2 or (lang.order_ends and not re.search(lang.order_ends, said)):
            return ""
        return fill(template, lang, s=said)
    return None


def _plain(word: str, lang: Lang) -> str:
    """A word without an elided negation ("n'est" → 'est'), in lower case."""
    plain = word.lower()
    return next((plain[len(n):] for n in lang.negations if n.endswith("'") and plain.startswith(n)), plain)


def _inside(word: str, common: Collection[str], named: Collection[str], lang: Lang) -> str:
    """A sentence's first word as it is written inside one: lower case where it is an ordinary word. A word seen
    nowhere else ('Tickets sold online are not refundable', 'Children must be accompanied') is one too, where the
    language capitalises only names and the document never writes it as one."""
    plain = word.lower()
    if not word[1:].islower():
        return word  # an acronym, a code, 'iPad'
    if plain in common or plain in ARTICLES or plain in FUNCTION_WORDS:
        return plain
    return word if lang.nouns_capitalised or word in named else plain


def named_words(texts: Iterable[str]) -> set[str]:
    """The capitalised words `texts` write as names: inside a sentence ('… asked Declan to …'), or in a run of
    capitalised words ('Declan Byrne', 'St Aldhelm's Church'). A capital at a sentence's or a line's start says
    nothing: every first word has one."""
    named: set[str] = set()
    for text in texts:
        words = list(re.finditer(r"[^\W\d_][\w'’-]*", text))
        capital = [m.group()[:1].isupper() for m in words]
        for i, m in enumerate(words):
            if not capital[i]:
                continue
            before = text[:m.start()]
            said = before.rstrip()
            mid_sentence = bool(said) and "\n" not in before[len(said):] and said[-1] not in ".!?:;•*#|-–—"
            run = any(0 <= j < len(words) and capital[j] and re.fullmatch(r"[ \t]+", text[a.end():b.start()])
                      for j, a, b in ((i - 1, words[i - 1], m), (i + 1, m, words[min(i + 1, len(words) - 1)])))
            if mid_sentence or run:
                named.add(m.group())
    return named


def _without_negation(words: list[str], lang: Lang) -> list[str]:
    """The words with the language's negation dropped ('not', 'nicht', 'ne … pas', 'no'): the question asks
    whether, and the answer says no."""
    return [word[len(word) - len(_plain(word, lang)):] for word in words if word.lower() not in lang.negations]
