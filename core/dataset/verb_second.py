"""German questions in the order people ask them: the question word first, the finite verb second.

An echo keeps the sentence's order ('Am Samstag, 12. April, findet wann unser Flohmarkt statt?'), which German
asks only in surprise; people ask 'Wann findet am Samstag, 12. April, unser Flohmarkt statt?'. A German main
clause has its finite verb second, after one constituent (the Vorfeld); the question puts its phrase in that
place and the Vorfeld after the verb. Finding the finite verb takes a part-of-speech tagger: capitals tell
nouns, but not a verb from an adjective ('Die neue Halle öffnet …'). HanTa (the Hanover Tagger, LGPL) carries
its German model in its wheel (core/dataset/tagging.py).
"""

from __future__ import annotations

import re

from core.dataset.language import Lang
from core.dataset.spans import Span, after_span, article_led, ask, is_person, question_phrase
from core.dataset.tagging import tags

FINITE = frozenset({"VV(FIN)", "VA(FIN)", "VM(FIN)"})
VORFELD = frozenset({"ART", "NN", "NE", "APPR", "APPRART", "APPO", "ADV", "CARD", "ADJ(A)", "PPOSAT", "PIAT",
                     "PDAT", "PIS", "PPER", "$,", "$(", "$."})
"""Tags one constituent before the verb is made of. Anything else (a conjunction, a subordinate clause's word,
a predicative adjective, another verb) says the tagger's verb is not the main clause's second constituent."""
ADVERBIAL = frozenset({"APPR", "APPRART", "ADV", "CARD"})
"""Tags a Vorfeld opens with when it is no subject: a person after the verb is then the subject, asked 'wer'."""


def _finite_verb(sentence: str, tagged: tuple[tuple[int, int, str], ...]) -> int | None:
    """Index of the main clause's finite verb when it stands second, after one constituent; else None."""
    verb = next((i for i, (_, _, tag) in enumerate(tagged) if tag in FINITE), None)
    if not verb or any(tag not in VORFELD for _, _, tag in tagged[:verb]):
        return None
    vorfeld = sentence[: tagged[verb][0]]
    if vorfeld.count("(") > vorfeld.count(")"):  # 'Wahl eines Kassenwarts (Herbert Lenz tritt …)': its own clause
        return None
    return verb


def is_subject(sentence: str, span: Span, lang: Lang) -> bool:
    """Whether `span` is a person the word order shows to be the subject: a German main clause whose Vorfeld
    opens with an adverbial ('Ab Dienstag, 8. April, bietet Sabine Kühn …') has its subject after the verb, and
    no preposition or article comes right before the name. After any other Vorfeld the case is open
    ('Kuchenspenden nimmt Gisela Brandt entgegen': wer; 'Der Vorstand dankt Gisela Brandt': wem)."""
    if lang.code != "de" or span.kind != "name" or not is_person(span.text):
        return False
    tagged = tags(sentence)
    verb = _finite_verb(sentence, tagged)
    if verb is None or tagged[0][2] not in ADVERBIAL or span.start < tagged[verb][1]:
        return False
    _, thing = article_led(sentence[: span.start], span, lang)
    return not thing and _tag_before(tagged, span.start) not in ("APPR", "APPRART")


def _tag_before(tagged: tuple[tuple[int, int, str], ...], at: int) -> str:
    """The tag of the last token that ends at or before `at` ('' if none)."""
    return next((tag for _, e, tag in reversed(tagged) if e <= at), "")


def verb_second(sentence: str, span: Span, lang: Lang) -> str:
    """The question for `span` with its phrase first and the verb second, '' where the sentence's order is not
    one main clause's (no finite verb second, the span before it or in a clause of its own) or the phrase needs
    a case the sentence does not show (a person after a Vorfeld that may be the subject)."""
    if lang.code != "de":
        return ""
    tagged = tags(sentence)
    verb = _finite_verb(sentence, tagged)
    if verb is None:
        return ""
    v_start, v_end, _ = tagged[verb]
    if span.start < v_end:  # the span is the Vorfeld: the echo asks it first already
        return ""
    inside = [tag for s, _, tag in tagged[verb + 1:] if s < span.start]
    if sentence[v_end:span.start].count(",") % 2 or any(tag in FINITE or tag in ("KON", "KOUS", "PRELS")
                                                        for tag in inside):
        return ""  # the span is in a clause of its own ('…, für Mitglieder nur 5 Euro'), or after a second verb
    before, thing = article_led(sentence[: span.start], span, lang)
    drop, phrase = question_phrase(span, before, lang, thing, is_subject(sentence, span, lang))
    if span.kind == "name" and not thing and is_person(span.text) and phrase == lang.what:
        return ""  # 'Kuchenspenden nimmt Gisela Brandt entgegen': wer, wen or wem?
    if not phrase:
        return ""
    middle = before[v_end:]
    if drop:
        middle = middle.rstrip()[: -len(drop)]
    middle = middle.rstrip()
    if _tag_before(tagged, v_end + len(middle)) in ("APPR", "APPRART") \
            and not phrase.startswith(prep := middle.split()[-1].lower()):
        # the preposition goes with its phrase: 'Auf wie viele Kinder ist …', 'nach wie vielen Jahren'
        phrase, middle = f"{prep} {phrase}", middle[: -len(prep)]
    vorfeld = sentence[:v_start].strip()
    if tagged[0][2] not in ("NN", "NE"):  # 'Die Jahreshauptversammlung' → 'die …'; 'Kinder' stays a noun
        vorfeld = vorfeld[0].lower() + vorfeld[1:]
    # what follows in its own clause stays out
    tail = re.split(rf",(?!\d)|\s{lang.conjunction}\s", after_span(sentence, span))[0]
    return ask(f"{phrase} {sentence[v_start:v_end]} {vorfeld} {middle.strip()} {tail.strip()}", lang)
