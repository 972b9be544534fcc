"""Issue #14, passages must not make answers worse: with sources on, a tuned model's recalled answer stands
when a retrieved passage confirms it; otherwise it answers again with the passages in context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.chat import SamplingSettings
from core.chat.grounding import supporting_passage
from core.events import AnswerPiece, AnswerSources

SHORT = SamplingSettings(max_new_tokens=24)


def test_a_passage_confirms_an_answer_only_with_its_numbers_and_most_of_its_words():
    table = "Grade: G3 Team leader; Annual leave: 27 days; Carry-over limit: 5 days"
    pool = "Early swim, weekdays, 06:30–08:00; General swim, weekends, 12:00–18:00"
    question = "How much annual leave does a team leader get?"
    assert supporting_passage("G3 Team leader, annual leave: 27 days (Entitlement by grade)", question,
                              [pool, table + "\n## Entitlement by grade"]) == 1
    # the right row's words with a wrong figure: not confirmed, whatever else matches
    assert supporting_passage("G3 Team leader, annual leave: 28 days (Entitlement by grade)", question,
                              [table + "\n## Entitlement by grade", pool]) is None
    # a figure found in another document's passage, but not the answer's other words
    assert supporting_passage("G4 Depot manager, days: 12:00–18:00 (Sessions and prices)", question, [table, pool]) is None
    # an answer that only restates the question adds nothing a passage could confirm
    assert supporting_passage("A team leader gets annual leave.", question, [table]) is None
    # any language: the words are compared as they are
    assert supporting_passage("Der Flohmarkt ist am Samstag, 5. April, in der Sporthalle.",
                              "Wann ist der Flohmarkt?", ["Unser Flohmarkt: Samstag, 5. April, Sporthalle Hohenmoor"]) == 0


@dataclass
class _Route:
    about_documents: bool
    score: float
    passages: list = field(default_factory=list)


class _FixedPassages:
    """A router that finds the given passages for every question: what is under test is what the session does
    with passages, not which ones the search finds (tests/test_routing.py tests that)."""

    def __init__(self, texts: list[str]) -> None:
        from core.retrieval import Source

        self.passages = [Source("doc.md", n, text, 0.9) for n, text in enumerate(texts)]

    def route(self, question: str, previous: str | None = None) -> _Route:
        return _Route(True, 0.9, list(self.passages))


@pytest.fixture(scope="module")
def switchable(trained_run: Path):
    from core.chat import load_chat_model

    return load_chat_model(trained_run, switchable=True)


def _answer(session, question: str) -> tuple[AnswerSources, str]:
    events = list(session.answer(question, SHORT))
    sources = next(e for e in events if isinstance(e, AnswerSources))
    return sources, "".join(e.text for e in events if isinstance(e, AnswerPiece)).strip()


def test_a_confirmed_recollection_stands_and_its_passage_comes_first(switchable):
    from core.chat import ChatSession

    question = "Who founded Harbor Lane Bakery?"
    with switchable.adapter(True):
        recalled = switchable.reply([{"role": "user", "content": question}], SHORT)
    other = "The shop opens at 7:00 on weekdays and sells rye bread."
    session = ChatSession(switchable, router=_FixedPassages([other, f"Notes › History\n{recalled}"]))
    sources, text = _answer(session, question)
    assert sources.recalled and text == recalled
    assert sources.passages[0].text.endswith(recalled) and len(sources.passages) == 2  # the confirming one first
    assert session.history[-1] == {"role": "assistant", "content": recalled}


def test_an_unconfirmed_recollection_is_answered_again_from_the_passages(switchable):
    from core.chat import ChatSession
    from core.retrieval import Source, grounded_prompt

    question = "Who founded Harbor Lane Bakery?"
    texts = ["Opening times › Weekdays\nThe shop opens at 7:00 and closes at 18:30 from Monday to Friday."]
    session = ChatSession(switchable, router=_FixedPassages(texts))
    sources, text = _answer(session, question)
    with switchable.adapter(True):
        read = switchable.reply([{"role": "user", "content": grounded_prompt(
            question, [Source("doc.md", 0, texts[0], 0.9)])}], SHORT)
    assert not sources.recalled and text == read
    assert session.history[-2:] == [{"role": "user", "content": question}, {"role": "assistant", "content": read}]
