"""Issue #14, passages must not make answers worse: with sources on, a question about the documents is answered
with the documents' own statement that a retrieved passage holds, ranked by the tuned model and the search together;
where the passages hold none of the run's statements, the model answers with the passages in context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.chat import SamplingSettings
from core.chat.grounding import best_statement, run_statements, supported, supporting_passage
from core.dataset.examples import Example
from core.events import AnswerPiece, AnswerSources

SHORT = SamplingSettings(max_new_tokens=24)


def test_a_passage_supports_a_statement_only_with_its_numbers_and_most_of_its_words():
    table = "Grade: G3 Team leader; Annual leave: 27 days; Carry-over limit: 5 days"
    pool = "Early swim, weekdays, 06:30–08:00; General swim, weekends, 12:00–18:00"
    question = "How much annual leave does a team leader get?"
    assert supporting_passage("G3 Team leader, annual leave: 27 days (Entitlement by grade)", question,
                              [pool, table + "\n## Entitlement by grade"]) == 1
    # the right row's words with a wrong figure: not supported, whatever else matches
    assert supporting_passage("G3 Team leader, annual leave: 28 days (Entitlement by grade)", question,
                              [table + "\n## Entitlement by grade", pool]) is None
    # a figure found in another document's passage, but not the statement's other words
    assert supporting_passage("G4 Depot manager, days: 12:00–18:00 (Sessions and prices)", question, [table, pool]) is None
    # a statement that only restates the question adds nothing a passage could hold
    assert supporting_passage("A team leader gets annual leave.", question, [table]) is None
    # any language: the words are compared as they are
    assert supporting_passage("Der Flohmarkt ist am Samstag, 5. April, in der Sporthalle.",
                              "Wann ist der Flohmarkt?", ["Unser Flohmarkt: Samstag, 5. April, Sporthalle Hohenmoor"]) == 0
    # a run's statements, with no question yet: each with the passage that holds it
    assert supported(["Flohmarkt: Samstag, 5. April (Sporthalle Hohenmoor)", "Tickets cost 5 euros.",
                      "G3 Team leader, annual leave: 27 days"],
                     [table, "Unser Flohmarkt: Samstag, 5. April, Sporthalle Hohenmoor"]) == [
        ("Flohmarkt: Samstag, 5. April (Sporthalle Hohenmoor)", 1), ("G3 Team leader, annual leave: 27 days", 0)]


def _qa(question: str, answer: str, kind: str = "qa") -> Example:
    return Example([{"role": "user", "content": question}, {"role": "assistant", "content": answer}], "d.md", kind)


def test_a_runs_statements_are_its_one_line_question_answers_each_once_in_order():
    examples = [_qa("Who founded it?", "Marta Okonkwo founded it in 1987."),
                _qa("What does the handbook say?", "Harbor Lane Bakery\nIt was founded in 1987.", "passage"),
                _qa("What is listed under Shops?", "- Harbor Lane\n- Pellridge station"),  # a whole list
                _qa("Founded when?", "Marta Okonkwo founded it in 1987."),  # the same statement, asked again
                _qa("What is the capital of France?", "Paris.", "replay"),
                _qa("When does it open?", " It opens at 7:00. ")]
    assert run_statements(examples) == ("Marta Okonkwo founded it in 1987.", "It opens at 7:00.")


def test_the_rankings_are_standardised_and_added_with_ties_to_the_earlier():
    # the model prefers the first, the search the second by far: together, the second
    assert best_statement([[-1.0, -2.0, -3.0], [0.1, 0.9, 0.2]]) == 1
    # a third voice that agrees with the first tips it back
    assert best_statement([[-1.0, -2.0, -3.0], [0.1, 0.9, 0.2], [0.9, 0.1, 0.2]]) == 0
    # a ranking that does not tell them apart counts for nothing; a full tie goes to the earlier
    assert best_statement([[-1.0, -1.0], [0.2, 0.4]]) == 1
    assert best_statement([[-1.0, -1.0], [0.3, 0.3]]) == 0
    assert best_statement([[-5.0], [0.0]]) == 0


@dataclass
class _Route:
    about_documents: bool
    score: float
    passages: list = field(default_factory=list)


class _FixedPassages:
    """A router that finds the given passages for every question: what is under test is what the session does
    with passages, not which ones the search finds (tests/test_routing.py tests that)."""

    def __init__(self, texts: list[str], router) -> None:
        from core.retrieval import Source

        self.passages = [Source("doc.md", n, text, 0.9) for n, text in enumerate(texts)]
        self.statements, self.similarity = router.statements, router.similarity  # the run's, as the chat's

    def route(self, question: str, previous: str | None = None) -> _Route:
        return _Route(True, 0.9, list(self.passages))


@pytest.fixture(scope="module")
def switchable(trained_run: Path):
    from core.chat import load_chat_model

    return load_chat_model(trained_run, switchable=True)


@pytest.fixture(scope="module")
def router(trained_run: Path):
    from core.chat.routing import Router

    return Router.for_run(trained_run)


def _answer(session, question: str) -> tuple[AnswerSources, str]:
    events = list(session.answer(question, SHORT))
    sources = next(e for e in events if isinstance(e, AnswerSources))
    return sources, "".join(e.text for e in events if isinstance(e, AnswerPiece)).strip()


def test_the_statement_its_passages_hold_is_quoted_and_its_passage_comes_first(switchable, router):
    from core.chat import ChatSession

    question = "Who founded Harbor Lane Bakery?"
    session = ChatSession(switchable, router=router)
    sources, text = _answer(session, question)
    assert sources.quoted and text in router.statements
    assert "Marta Okonkwo" in text  # the statement about the founding, not another one of the same passage
    assert supporting_passage(text, "", [sources.passages[0].text]) == 0  # the passage that holds it

    # found second, it is listed first: the one the answer rests on
    founding = next(c["text"] for c in router.index.chunks if "Marta Okonkwo" in c["text"])
    other = next(c["text"] for c in router.index.chunks if c["source"] != "harbor_lane_bakery_handbook.md")
    session = ChatSession(switchable, router=_FixedPassages([other, founding], router))
    sources, again = _answer(session, question)
    assert sources.quoted and again == text and [p.text for p in sources.passages] == [founding, other]
    assert session.history[-2:] == [{"role": "user", "content": question}, {"role": "assistant", "content": text}]


def test_with_no_statement_in_its_passages_the_model_reads_them(switchable, router):
    from core.chat import ChatSession
    from core.retrieval import Source, grounded_prompt

    question = "How many rovers does the Tycho base keep?"
    texts = ["Moon base › Fleet\nThe Tycho base keeps 14 rovers and 3 landers in its northern hangar."]
    session = ChatSession(switchable, router=_FixedPassages(texts, router))
    sources, text = _answer(session, question)
    with switchable.adapter(True):
        read = switchable.reply([{"role": "user", "content": grounded_prompt(
            question, [Source("doc.md", 0, texts[0], 0.9)])}], SHORT)
    assert not sources.quoted and text == read
    assert session.history[-2:] == [{"role": "user", "content": question}, {"role": "assistant", "content": read}]


def test_a_reply_the_model_would_say_is_likelier_than_another_and_batching_changes_no_score(switchable):
    """reply_likelihoods reads each reply's tokens where the template puts them: its own greedy reply scores far
    above an unrelated one (the prompt's tokens scored instead loses that), and a reply scored beside a longer
    one (padded) scores as it does alone. The exact sums, token by token, are tests/test_model_families.py's."""
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    greedy = switchable.reply(messages, SamplingSettings(max_new_tokens=32, repetition_penalty=1.0))
    other = "Bread rises because yeast turns sugar into carbon dioxide gas during a long, slow proof."
    together = switchable.reply_likelihoods(messages, [greedy, other])
    alone = switchable.reply_likelihoods(messages, [greedy]) + switchable.reply_likelihoods(messages, [other])
    assert together[0] > together[1] + 10.0
    # bf16 in another order: 0.13 seen over a ~10-token reply, 0.48 over an 83-nat one (0.6%); exactness in fp32,
    # padded batches on a shared conversation cache included, is tests/test_model_families.py's
    assert together == pytest.approx(alone, rel=0.01, abs=0.3)
