"""Spans a question can ask for, found by their shape, and the questions that ask for them.

A name, a number with its unit, a date, a time, a price, a phone number or a code looks the
same in English, German, French and Spanish, so finding them needs no grammar; only the words
that replace them in a question ("when", "wann", "quand", "cuándo") differ, and those come from
core/dataset/language.py. An echo question keeps the sentence's word order and replaces the
span ("The office opens at what time?"): grammatical in every supported language. English
also gets the order people ask in, where a rule can get it right (`fronted`); German gets it from a
part-of-speech tagger (core/dataset/verb_second.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from core.dataset.language import DURATION_UNITS, NEUTRAL, Lang, fill, names_a_place
from core.dataset.tagging import tags


MONTHS = ("january february march april may june july august september october november december "
          "januar jänner februar märz april mai juni juli august september oktober november dezember "
          "janvier février mars avril mai juin juillet août septembre octobre novembre décembre "
          "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre "
          "jan feb mar apr jun jul aug sep sept oct nov dec okt dez")
WEEKDAYS = ("monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag freitag "
            "samstag sonnabend sonntag lundi mardi mercredi jeudi vendredi samedi dimanche lunes martes miércoles "
            "jueves viernes sábado domingo "
            # the plural a day takes for every one of it ('on Saturdays', 'montags', 'les lundis', 'los sábados')
            "mondays tuesdays wednesdays thursdays fridays saturdays sundays montags dienstags mittwochs donnerstags "
            "freitags samstags sonntags lundis mardis mercredis jeudis vendredis samedis dimanches sábados domingos")
DAY_ABBREVIATIONS = "mon tue tues wed thu thur thurs fri sat sun mo di mi do fr sa so"
"""Short day names are words too ('do', 'so', 'sat', 'sun', French 'sa'): one counts as a day only as a timetable
writes it, capitalised and followed by a range, a time, a date or a separator ('Mo–Fr', 'Sat 10:00', 'Sa, 12. April')."""
FUNCTION_WORDS = frozenset("""a an the and or but of to in on at by for with from as is are was were be been has have had
will would can could may must not no if than then that this these those it its who which what when before after per
der die das ein eine und oder von zu im am um für mit aus ist sind war hat haben wird kann nicht bis pro
le la les un une et ou de du des à au en par pour avec est sont a ont sera peut pas
el los las uno una y o del al en por para con es son ha han será puede no""".split())
"""Words that never name a unit, in the supported languages: '9 has' is a number, not nine 'has'."""


def _alternation(words: str) -> str:
    return "|".join(sorted(set(words.split()), key=len, reverse=True))


_MONTH = _alternation(MONTHS)
_FULL_DAY = _alternation(WEEKDAYS)
_ABBREVIATED = _alternation(" ".join(f"{w.capitalize()} {w.upper()}" for w in DAY_ABBREVIATIONS.split()))
_DAY_NAME = rf"(?:(?i:{_FULL_DAY})|{_ABBREVIATED})"
"""Any day as a timetable writes it: the end of a range ('Mo–Fr')."""
_DAY = (rf"(?:(?i:{_FULL_DAY})|(?:{_ABBREVIATED})"
        r"(?=\.?(?:\s*[–—/,:-]|\s*\d|\s*$|\s+(?:to|bis|au|à|a|al|und|and|et|y)\s)))")
"""A day where a sentence names one: a full name, or an abbreviation as a timetable writes it (DAY_ABBREVIATIONS)."""
_HOUR_H = r"(?:[01]?\d|2[0-3])\s?h"  # French and Spanish clocks: '9 h', '13 h 30', '9h30'
_CLOCK = (r"\d{1,2}[:.]\d{2}(?!\d|[.,]\d|\s?(?:[€$£%]|(?i:euros?|eur|chf|usd|gbp|dollars?|pounds?|francs?)\b))"
          r"(?:\s*(?:Uhr|h|am|pm|a\.m\.|p\.m\.))?|\d{1,2}\s*(?:am|pm|Uhr)\b"
          rf"|{_HOUR_H}\s?[0-5]\d\b|{_HOUR_H}(?=\s*(?:[–-]|à|a)\s*{_HOUR_H}\b)"
          rf"|(?:(?<=\bà\s)|(?<=\bvers\s)|(?<=\bdès\s)){_HOUR_H}\b"
          r"|(?:[01]?\d|2[0-3])(?=\s*(?:[–-]|bis)\s*\d{1,2}\s*Uhr\b)")
"""A clock time, never the start of a bigger number or an amount ('3.500 euros', '12.50 Euro'). '2 h' alone is as
often a duration, so an hour in 'h' is a time with its minutes, where a range of hours opens ('de 9 h à 13 h'), or
after a word that says 'at' ('à 20 h', 'vers 9 h', 'dès 7 h'); a bare hour is one where a range ends in 'Uhr'
('von 9 bis 13 Uhr')."""
_NTH = ("first|second|third|fourth|last|premier|première|deuxième|troisième|quatrième|dernier|dernière"
        "|erste[nmr]?|zweite[nmr]?|dritte[nmr]?|vierte[nmr]?|letzte[nmr]?|primer|segundo|tercer|cuarto|último")
_DAY_PART = "mornings?|afternoons?|evenings?|nights?|matin|après-midi|soirs?|nuit"
_OF_MONTH = (r"(?:of\s+(?:the|each|every)\s+month|du\s+mois|de\s+chaque\s+mois|im\s+Monat|des\s+Monats|del\s+mes"
             r"|de\s+cada\s+mes)\b")
_DATE = (rf"(?:{_DAY}\.?,?\s+)?(?:\d{{1,2}}\.?\s*(?:(?:[–—-]|bis|to|au|al)\s*\d{{1,2}}\.?\s*)?"
         rf"(?:de\s+)?(?i:{_MONTH})\.?"
         rf"(?:\s+(?:de\s+)?\d{{4}})?\b|(?i:{_MONTH})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?)"
         r"|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
         rf"|\b(?:(?:(?i:the|le|la|der|den|am|el)\s+)?(?i:{_NTH})\s+)?{_DAY}\b"
         rf"(?:(?:\s*[–—-]\s*|\s+(?:to|bis|au|à|a|al)\s+){_DAY_NAME}\b)?(?:\s+(?i:{_DAY_PART})\b)?(?:\s+{_OF_MONTH})?")
"""A date: a day and month, a date in figures, or a day named: one, a range, or which one of the month, with the part
of the day that goes with it ('the last Thursday of each month', 'le premier jeudi du mois', 'lundi soir')."""
_NUMBER = r"\d+(?:[.,]\d+)*"
_SPANS = re.compile(
    rf"(?P<time>\b(?:{_CLOCK})(?:\s*(?:[–—-]|bis|to|à|a|al)\s*(?:{_CLOCK}|{_HOUR_H}\b))?)"
    rf"|(?P<date>\b{_DATE})"
    r"|(?P<phone>\+?\(?\d[\d()/.-]*(?:\s\d[\d()/.-]*){1,4}(?=\D|$))"
    rf"|(?P<money>(?:[€$£]|\b(?:CHF|EUR|USD|GBP)\b)\s?{_NUMBER}|\b{_NUMBER}p\b(?!\.)"  # 45p, not '48 places'
    rf"|\b{_NUMBER}\s?(?:[€$£]|(?:CHF|EUR|USD|GBP|euros?|Euro|dollars?|pounds?|francs?|pence)\b))"
    rf"|(?P<month>\b(?i:{_MONTH})\b(?:(?:\s*[–—-]\s*|\s+(?:to|until|bis|au|à|a|al|hasta)\s+)(?i:{_MONTH})\b)?"
    r"(?:\s+\d{4}\b)?)"
    r"|(?P<code>\b[A-Z]{1,4}-?\d{1,4}[A-Z]?\b)"
    r"|(?P<year>\b(?:1[6-9]|20)\d{2}\b)"
    rf"|(?P<ordinal>\b\d+(?:st|nd|rd|th)\b|\b\d{{1,2}}\.(?=\s+(?:des|der|dem|den|eines|jedes|jeden|jeder)\b))"
    rf"|(?P<number>\b{_NUMBER}(?:\s*[–—-]\s*{_NUMBER})?(?:\s?(?:%|°C|°F|[^\W\d_]{{1,14}}\b))?)"
)
_NAMES = re.compile(r"\b(?:[A-ZÀ-ÖØ-Þ][a-zß-ÿ]{0,3}\.\s+(?=[A-ZÀ-ÖØ-Þ]))?"
                    r"[A-ZÀ-ÖØ-Þ][\w'’\-]*(?:\s+(?:of|de|la|del|von|van|der|du|&)?\s*[A-ZÀ-ÖØ-Þ][\w'’\-]*)*")
"""A capitalised run: a name. Its first word may be a short abbreviation with its full stop ('Dr. Helen Okafor', 'M.
Paul Girard', 'St. Anne's Hall', 'J. Brook'): inside one sentence (the splitter has already kept it from ending
there) such a word and a capitalised word after it are one name, where the run used to stop at the stop ('Spills
are reported to what . Helen Okafor?')."""
_MONTH_RE = re.compile(rf"^(?:{_MONTH}|{_DAY_NAME})\.?,?$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    text: str


def find_spans(sentence: str, lang: Lang) -> list[Span]:
    """Names, numbers, dates, times, prices, phone numbers and codes a question can ask for, in order."""
    out: list[Span] = []
    taken = [False] * (len(sentence) + 1)
    matches: list[re.Match[str]] = []

    def take(m: re.Match[str]) -> None:
        matches.append(m)
        taken[m.start():m.end()] = [True] * (m.end() - m.start())

    for m in _SPANS.finditer(sentence):
        take(m)
    for m in _counts(lang).finditer(sentence):  # 'eleven plot holders', before names: 'Elf Mitglieder'
        word, *unit = m.group(0).split()
        opens = m.start() == 0 or re.search(r"[.!?:]\s*$", sentence[: m.start()])
        named = (not opens and word[0].isupper()) or (unit and unit[0][0].isupper() and not lang.nouns_capitalised)
        if not any(taken[m.start():m.end()]) and not named:  # not 'the Seven Sisters', 'Seven Sisters opens'
            take(m)
    for m in _NAMES.finditer(sentence):  # names after the rest, so 'Am Samstag, 12. April' stays a date
        if not any(taken[m.start():m.end()]):
            take(m)
    for m in sorted(matches, key=lambda m: m.start()):
        kind, text, start = m.lastgroup or "name", m.group(0).strip(), m.start()
        words = text.split()
        if kind == "name" and len(words) > 1 and (words[0].lower() in ARTICLES  # 'The Harbor Lane' → 'Harbor Lane'
                                                  or _imperative_before_name(sentence, start, lang)):
            start = sentence.index(words[1], start)
            text = sentence[start: m.start() + len(m.group(0).rstrip())]
        if kind == "phone" and sum(ch.isdigit() for ch in text) < 6:
            kind, text = _renumber(text)
        if kind == "name" and not _is_name(sentence, start, text, lang):
            continue
        if kind == "name" and _labels_a_number(sentence, start + len(text), matches):
            continue  # 'Pier 4', 'Room 12': the number after it is the label's, asked 'what number', not 'at what 4'
        if kind == "number":
            text = _without_trailing_function_word(text)
        if kind == "month":
            if not _month_is_date(sentence[:start], text, lang):
                continue
            kind = "date"
        if kind == "ordinal":
            continue  # '20th of the month': no question phrase asks for it in every language
        if kind == "year" and not re.search(rf"\b(?:{'|'.join(map(re.escape, lang.drop_before)) or '$^'})\s*$",
                                            sentence[: m.start()].lower()):
            continue  # 'their 2025 rent' is not a date: only 'in 2011' asks 'in which year'
        out.append(Span(kind, start, start + len(text), text))
    return _coordinated(out, sentence, lang)


def _coordinated(spans: list[Span], sentence: str, lang: Lang) -> list[Span]:
    """Days or times joined by a comma or 'and' are one value ('Tuesday and Thursday evenings', 'Mo und Mi'):
    asked apart, each question kept the other ('Rehearsals are on Tuesday and when in the church hall?') and each
    answer was half the value."""
    joint = re.compile(rf"\s*,\s*|\s*,?\s+{re.escape(lang.conjunction)}\s+" if lang.conjunction else r"\s*,\s*")
    out: list[Span] = []
    for span in spans:
        prev = out[-1] if out else None
        if prev and span.kind == prev.kind and span.kind in ("date", "time") \
                and joint.fullmatch(sentence[prev.end:span.start]):
            out[-1] = span = Span(span.kind, prev.start, span.end, sentence[prev.start:span.end])
            continue
        out.append(span)
    return out


def _imperative_before_name(sentence: str, start: int, lang: Lang) -> bool:
    """Whether an English sentence's capitalised first word is a verb or a common noun before a name ('Call
    Reception on …', 'Ask Tom Baker …', 'Contact Mary Jones …' tagged as a noun), not the name's own first word
    ('Rose Miller runs …', 'Harbour Office opens …'): its capital says only that it opens the sentence. It was
    asked 'Who on 0117 496 0311 to book?'."""
    if lang.code != "en" or (start and not re.search(r"[.!?:]\s*$", sentence[:start])):
        return False
    tagged = [tag for s, _, tag in tags(sentence, "en") if s >= start][:2]
    return len(tagged) == 2 and (tagged[0].startswith("VV") or tagged[0].startswith("NN") and tagged[1] == "NP0")


def _month_is_date(before: str, text: str, lang: Lang) -> bool:
    """A month named alone is a date where a preposition of time leads it ('from April to September', 'im März',
    'en mars', 'every October') or it is a range or carries its year; not the English modal 'may'."""
    if lang.calendar_capitalised and not text[:1].isupper():
        return False
    words = before.lower().split()
    prev = words[-1] if words else ""
    two = " ".join(words[-2:])
    return (prev in lang.drop_before or prev in lang.range_from or prev in lang.every or two in lang.every
            or bool(re.search(r"\d{4}$|\s\S", text)))


@lru_cache(maxsize=None)
def _counts(lang: Lang) -> re.Pattern[str]:
    """A number written as a word, with the word after it as its unit, as the `number` group of _SPANS."""
    words = _alternation(" ".join(lang.counts)) or "$^"
    return re.compile(rf"(?P<number>\b(?i:{words})\b(?:\s[^\W\d_]{{1,14}}\b)?)")


def number_unit(text: str) -> str:
    """What a number span counts: '18 weeks' → 'weeks', '5.8kg' → 'kg', '10 – 12 weeks' → 'weeks', 'eleven
    plot' → 'plot'; '' for a bare number ('4', 'eleven')."""
    words = text.split()
    last = words[-1] if words else ""
    unit = re.sub(r"^[\d.,–—-]+", "", last)
    return "" if len(words) == 1 and unit == last else unit


def _labels_a_number(sentence: str, end: int, matches: list[re.Match[str]]) -> bool:
    """Whether a bare number follows a name that ends at `end` ('Pier 4', 'Version 4.2'; not 'Priya Raman 3
    times'): the two are one label."""
    gap = re.match(r"\s+", sentence[end:])
    after = end + (gap.end() if gap else 0)
    following = next((m for m in matches if m.start() == after and m.lastgroup == "number"), None)
    if not gap or following is None:
        return False
    return not number_unit(_without_trailing_function_word(following.group(0).strip()))


def _without_trailing_function_word(text: str) -> str:
    """A number span without the function word its unit pattern took ('4 at' → '4')."""
    parts = text.split()
    return " ".join(parts[:-1]) if len(parts) > 1 and parts[-1].lower() in FUNCTION_WORDS else text


def _renumber(text: str) -> tuple[str, str]:
    """A short digit group taken for a phone number ('4 2') is only its first number."""
    return "number", text.split()[0]


ARTICLES = frozenset("the a an this our your der die das ein eine unser le la les un une l el los las una".split())
"""Words that start a sentence's capitalised run without being part of a name, in every supported language."""


def _is_name(sentence: str, start: int, text: str, lang: Lang) -> bool:
    """A capitalised run that is a name, not a sentence's first word or (in German) any noun."""
    words = text.split()
    if _MONTH_RE.match(words[0]):
        return False
    if start == 0 or re.search(r"[.!?:]\s*$", sentence[:start]):
        # A sentence's first word is capitalised anyway; German nouns are too, so there only inner runs count.
        return not lang.nouns_capitalised and len(words) >= 2 and words[0].lower() not in ARTICLES
    if text.isupper() and len(text) >= 2:
        return text.lower() not in FUNCTION_WORDS  # RESET, ECO: buttons and modes; 'NOT' is emphasis
    if lang.nouns_capitalised:  # every German noun is capitalised: only runs, or words with digits or inner capitals
        said = [w.lower() for w in words]
        if any(w in lang.pronouns for w in said) or any(w in lang.articles for w in said[1:-1]):
            return False  # nouns, not a name: 'Grüßen Ihr Kita-Team' (a letter's closing), 'Garten der Kita'
        return len(words) >= 2 or bool(re.search(r"\d|[a-zäöü][A-ZÄÖÜ]", text))
    return lang is not NEUTRAL


def key_of(text: str, lang: Lang) -> str:
    """The part of a value that a right answer must say: its first span, else its first words.

    A bare number inside the value ('Lindenweg 4', 'by plot 17 before 15 March') is not that part: any answer
    with a 4 in it would count as recalled. The next span is, else the value's first words."""
    spans = [s for s in find_spans(text, lang)
             if not (s.kind == "number" and s.start > 0 and not number_unit(s.text))]
    if spans:
        return spans[0].text
    words = text.split()
    return " ".join(words[:3]).rstrip(".,;:") if words else ""


# ---------------------------------------------------------------- echo questions from a sentence's spans

_RANGE = re.compile(r"\S\s*(?:[–—-]|\s(?:to|bis|au|à|a|al|y|et)\s)\s*\S")
_NUMERIC_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}$")  # '2024-05-12' is one day, not a range


def _label_number(span: Span, before: str) -> bool:
    """A number with no unit that follows a capitalised word ('Molino 14', 'Room 4') or has a decimal point
    ('Version 4.2') names something; only a whole number after a verb or noun ('seats 120') counts."""
    if number_unit(span.text):
        return False
    words = before.split()
    return bool(re.search(r"\d[.,]\d", span.text)) or bool(words and words[-1][:1].isupper())


def question_phrase(span: Span, before: str, lang: Lang, thing: bool = False,
                    subject: bool = False) -> tuple[str, str]:
    """(words before the span that the phrase replaces, the question phrase). `thing`: a name an article led
    ('the Silver Heron'), which is no person. `subject`: a person the sentence's word order shows to be its
    subject (core/dataset/verb_second.py is_subject), asked `who` where it stands ('Ab Dienstag bietet wer …')."""
    words = before.lower().split()
    prev = words[-1] if words else ""
    drop = ""
    if span.kind in ("date", "time", "year"):  # 'a las 9:30' → 'a qué hora': the longest preposition that goes
        drop = next((" ".join(words[-n:]) for n in (2, 1) if len(words) >= n
                     and " ".join(words[-n:]) in lang.drop_before | lang.every), "")
    if span.kind in ("date", "time") and prev in lang.range_from and _RANGE.search(span.text) \
            and not _NUMERIC_DATE.match(span.text):
        return prev, lang.when  # 'open from Monday to Friday' → 'open when', not 'open from when'
    if span.kind == "time" and not drop and _RANGE.search(span.text):
        return "", lang.when  # 'open Mo und Mi 17–19 Uhr' → 'wann', not 'wie viel Uhr': a range is no time of day
    if span.kind == "time":
        return drop, lang.what_time if drop else lang.what_time_bare
    if span.kind == "date":
        return drop, lang.when
    if span.kind == "year":
        return drop, lang.which_year
    if span.kind == "money":
        return "", lang.how_much
    if span.kind == "code":
        return "", lang.which_code
    if span.kind == "phone":
        return "", lang.which_number
    if span.kind == "number" and _label_number(span, before):
        return "", lang.which_number  # 'calle del Molino 14', 'Room 4', 'Version 4.2': a label, not a count
    if span.kind == "number":
        cased, how_many = lang.how_many_after
        return "", fill(how_many if prev in cased else lang.how_many, lang, unit=number_unit(span.text)).strip()
    if prev == lang.by_whom[0]:
        return prev, lang.by_whom[1]
    if span.kind == "name" and not thing and is_person(span.text):
        two = " ".join(words[-2:])
        for preposition, phrase in lang.to_whom:
            if preposition in (prev, two):
                return preposition, phrase
    opens = not before.strip() or before.rstrip().endswith("(")  # a clause's first words, in brackets too
    if span.kind == "name" and not thing and (prev in lang.copulas or opens or subject) and is_person(span.text):
        return "", lang.who  # 'Our director is who since 2019?', 'Who will update the website?', not 'what'
    if span.kind == "name" and not before.strip() and lang.what_first is not None:
        return "", lang.what_first
    return "", lang.what


def ask(text: str, lang: Lang) -> str:
    """'the filter is cleaned when' → 'The filter is cleaned when?' with the language's marks."""
    text = re.sub(r"\s+", " ", text).strip().rstrip(" ,;:.!?")
    text = text.replace(" ,", ",").replace("( ", "(")
    if not text:
        return ""
    body = text[0].upper() + text[1:]
    if lang.open_q:
        body = lang.open_q + body
    return body + lang.close_q


def article_led(before: str, span: Span, lang: Lang) -> tuple[str, bool]:
    """(`before` without its last word, True) where that word is an article before a name or code ('the Silver
    Heron', 'die F-12'): the article goes with the name into the question phrase ('the what is moored', 'Les quoi
    sont prêtés' ask nothing), and an article-led name is a thing, no person. Else (`before`, False)."""
    words = before.split()
    if span.kind in ("name", "code") and words and words[-1].lower() in lang.articles:
        return before.rstrip()[: -len(words[-1])], True
    return before, False


def after_span(sentence: str, span: Span) -> str:
    """What follows the span, without the comma that closed it where it holds one: 'am Freitag, 21. März, um
    19:30 Uhr' → 'um 19:30 Uhr' ('Ab wann, bietet' kept it)."""
    after = sentence[span.end:]
    return re.sub(r"^\s*,", "", after) if "," in span.text else after


def echo_question(sentence: str, span: Span, lang: Lang, subject: bool = False) -> str:
    """The sentence with the span's question phrase in its place. `subject`: see question_phrase."""
    before, after = sentence[: span.start], after_span(sentence, span)
    if span.kind == "name" and is_person(span.text) and (noun := _apposition(before, after, lang)):
        return _who_is(noun, lang)  # 'Our secretary, Dorothy Penhale, keeps …'
    before, thing = article_led(before, span, lang)
    drop, phrase = question_phrase(span, before, lang, thing, subject)
    if not phrase:
        return ""
    if drop:
        before = before.rstrip()[: -len(drop)]
    if span.kind == "time":
        after = re.sub(rf"^\s*(?:{'|'.join(map(re.escape, lang.time_words)) or '$^'})\b", "", after, flags=re.I)
    if not before.strip():  # 'Am Samstag, 12. April, findet …' → 'Wann findet …', not 'Wann, findet …'
        after = re.sub(r"^\s*,", "", after)
    if glued := re.match(r"['’](?=\s)", after):  # "24 hours' notice": "how many hours' notice", not "hours ' notice"
        phrase, after = phrase + glued.group(), after[glued.end():]
    return ask(f"{before.rstrip()} {phrase} {after.lstrip()}", lang)


def _apposition(before: str, after: str, lang: Lang) -> str:
    """The few words a name set between commas names ('Our secretary, Dorothy Penhale, keeps …', '… behind, the
    finance officer, Grace Adeyemi, will …'), else '': an echo would ask 'Our secretary, who, keeps …?'.
    The words may follow the name too ('When you arrive, Grace Adeyemi, our finance officer, will …'), and a name
    may end the sentence ('Send it to the treasurer, Mark Lee.'); inside a sentence the words open with an article
    or a possessive (Lang.articles, Lang.pronouns), and a sentence's opening words with no function word first, so
    a clause beside the name ('When you arrive,') is none (it was asked 'Who is when you arrive?')."""
    head, tail = before.rstrip(), after.lstrip()
    if not head.endswith(","):
        return ""
    if not tail.strip(" .!;"):  # the name ends the sentence: the words from the last article on ('… escriba a la
        words = head[:-1].split()  # directora, Rosa Ferrándiz.' → 'la directora')
        at = max((i for i, w in enumerate(words) if w.lower() in lang.articles), default=-1)
        return " ".join(words[at:]) if at >= 0 and 2 <= len(words) - at <= 4 else ""
    if not tail.startswith(","):
        return ""
    earlier, _, noun = head[:-1].rpartition(",")
    after_name = tail[1:].partition(",")[0].strip() if "," in tail[1:] else ""
    for noun, opens in ((noun.strip(), not earlier), (after_name, False)):
        words = noun.split()
        first = words[0].lower() if words else ""
        led = first in lang.articles or first in lang.pronouns  # 'the finance officer', 'its botanist'
        if 1 <= len(words) <= 5 and (led or (opens and first not in FUNCTION_WORDS | SUBORDINATORS)):
            return noun  # a sentence may open with the bare noun: 'Treasurer, Mark Lee, said …'
    return ""


def _who_is(noun: str, lang: Lang) -> str:
    """'Our secretary' → 'Who is our secretary?' in the language's own words; '' where it has none."""
    template = dict(lang.typed).get("person", "")
    words = noun.split()
    if len(words) < 2 or not words[1][:1].isupper() or lang.nouns_capitalised:  # its capital was the sentence's
        noun = noun[0].lower() + noun[1:]
    return fill(template, lang, x=noun) if template else ""


AUXILIARIES = {"is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would"}
CLAUSE_OPENERS = {"if", "when", "whenever", "unless", "although", "though", "because", "while", "where"}
SUBORDINATORS = CLAUSE_OPENERS | {"once", "until", "since", "as", "after", "before"}
"""Words that open a clause; these six are prepositions too ('available after 12 weeks'), so only a subject
that holds one is taken for a clause."""
PREPOSITIONS = {"in", "on", "at", "from", "to", "by", "of", "for", "with", "near", "into", "through", "until", "after",
                "before", "within", "during", "since"}


HEDGES = [["up", "to"], ["at", "least"], ["at", "most"], ["more", "than"], ["less", "than"], ["fewer", "than"],
          ["over"], ["under"], ["about"], ["around"], ["nearly"], ["almost"]]
"""Words that hedge a quantity ('up to 7 days'): the question asks the quantity, 'how many days'."""
MEASURES = frozenset("old ahead long wide high tall deep away ago later earlier apart".split())
"""Adjectives and adverbs a quantity takes after it ('3 years old', '7 days ahead'): they go with the question
phrase ('how many years old'), or stay behind it garbled ('From how many years can children join … old?')."""


def fronted(sentence: str, span: Span, lang: Lang) -> str:
    """English only: the order people ask in, when the sentence has an auxiliary verb before the span.

    'The office opens at 8:00 on weekdays' has none and keeps only the echo form;
    'Parental leave is 18 weeks for grade 3' → 'How many weeks is parental leave for grade 3?'.
    Moving a plain verb needs do-support and its base form, which a rule gets wrong too often.
    """
    if lang.code != "en":
        return ""
    before, after = sentence[: span.start], sentence[span.end:]
    drop, phrase = question_phrase(span, before, lang)
    if drop:
        before = before.rstrip()[: -len(drop)]
    words = before.split()
    idx = next((i for i, w in enumerate(words) if w.lower() in AUXILIARIES), None)
    if idx is None or idx == 0 or "," in before:
        return ""
    subject, aux, middle = " ".join(words[:idx]), words[idx].lower(), words[idx + 1:]
    if middle and middle[-1].lower() in ("the", "a", "an", "and", "or"):
        return ""
    # Where moving the auxiliary takes more than a rule knows, the echo form is the question: a clause
    # opened by 'if' or 'when', a subject that negates ('No leave can be taken …'), a second verb
    # ('is counted … and includes 3 days'), a span that heads an 'of' phrase ('after 12 weeks of service').
    # A subject opened by a preposition ('In 2025 the pool is closed …') is no subject either, and 'has' before
    # its object ('has 60 spaces') is a verb that needs do-support, not an auxiliary.
    if (any(w.lower() in SUBORDINATORS for w in words[:idx]) or any(w.lower() in CLAUSE_OPENERS for w in middle) or words[0].lower() in PREPOSITIONS
            or words[0].lower() in ("no", "none", "nobody", "nothing")
            or any(w.lower() in ("and", "or") for w in middle) or re.match(r"\s*of\b", after)
            or (aux in ("has", "have", "had") and (not middle or middle[0].lower() in ARTICLES))):
        return ""
    if span.kind == "number" and _label_number(span, sentence[: span.start]):
        return ""  # 'Pier 4' is asked where it stands: 'How many is the boat moored at Pier?' was fronted
    if span.kind == "number":
        phrase = fill(lang.how_many, lang, unit=number_unit(span.text)).strip()
    hedge = next((n for n in (2, 1) if [w.lower() for w in middle[-n:]] in HEDGES), 0)
    if hedge and len(middle) > hedge:  # 'book up to 7 days ahead' asks 'how many days', not 'to how many'
        middle = middle[:-hedge]
    measure = re.match(r"\s+([a-z]+)\b", after)
    if measure and measure.group(1) in MEASURES and span.kind in ("number", "date"):
        phrase, after = f"{phrase} {measure.group(1)}", after[measure.end():]  # 'how many years old'
    if middle and middle[-1].lower() in PREPOSITIONS and not phrase.startswith(middle[-1].lower()):
        phrase, middle = f"{middle[-1].lower()} {phrase}", middle[:-1]
    if subject.split()[0] in ("The", "A", "An", "Our", "Your", "This"):
        subject = subject[0].lower() + subject[1:]
    tail = re.split(r",(?!\d)| and | who | which ", after)[0].strip()  # '10,000 miles' is one number, not a clause
    return ask(f"{phrase} {aux} {subject} {' '.join(middle)} {tail}", lang)


MAX_TYPE_LEAD = 2
"""Words before a value's first span that still leave the value of its type ('up to 13 hours', 'ab 9 Uhr'); more,
and the span is a detail of a value that is something else."""


def value_type(value: str, lang: Lang) -> tuple[str, str]:
    """(type, unit) of a value by its first span: 'up to 13 hours' → ('duration', 'hours'), '£38 a year' →
    ('money', ''), 'Priya Raman' → ('person', ''); ('', '') when no question word fits it better than 'what'."""
    spans = find_spans(value, lang)
    if not spans or len(value[:spans[0].start].split()) > MAX_TYPE_LEAD:
        return "", ""  # 'Stand and tools for 2 hours' is no duration, 'Lost key, fee £10' no price
    span = spans[0]
    if span.kind in ("time", "date", "money", "phone"):
        return span.kind, ""
    if span.kind == "number":
        unit = number_unit(span.text)
        if unit.lower() in DURATION_UNITS:
            return "duration", unit
        return ("count", unit) if unit and unit.isalpha() else ("", "")
    if (span.kind == "name" and span.start == 0 and is_person(span.text)
            and re.match(r"\s*(?:$|[,;(]|[—–-]\s)", value[span.end:])):  # not 'Mill Lane car park'
        return "person", ""
    return "", ""


def is_person(name: str, least: int = 2) -> bool:
    """A name that reads as a person's: `least` to three capitalised words ('Priya Raman', 'Dr. Hale'), none in
    capitals ('Motor BLOCKED'), none with a digit ('G3 Driver'), none naming a place or an organisation ('St
    Brides Church', 'Sporthalle Nord'). One word is a person only where a label stands for one ('Gwen — book
    the hall'): in a sentence a single capitalised word is as often a thing."""
    words = name.replace(".", "").split()
    return (least <= len(words) <= 3 and all(w[:1].isupper() and not w[1:].isupper() for w in words)
            and not re.search(r"\d", name) and not names_a_place(name))
