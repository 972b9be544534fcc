"""Answer a question about the documents with the documents' own statement, when a passage holds one.

With sources on, the chat used to let the tuned model answer closed-book, silently, keep that draft
when a retrieved passage contained its words, and otherwise answer again with the passages in its
context. On the dev half of bench/data/realistic (three trained runs, seeds 1234 / 7 / 42) that gave
41.0 / 49.2 / 57.4% of the hand-written questions, although the two passages found held the answer
for 59 of 61 questions (the first one for 51): a 135M model reads two 200-token passages poorly, and
a draft was "confirmed" whenever it restated *some* statement of the passage, right for its question
or not (20 of the 39 drafts kept at seed 1234 were wrong).

So the chat now answers with a statement of the documents: among the run's own fact statements (the
answers its questions were trained on, core/dataset/questions.py: one table cell with its row and
column, one key-value line, one sentence, step or list item with its section) those that a retrieved
passage supports are the candidates, and the one ranked highest is the answer, quoted as the document
states it, with its passage first among the sources. Three voices rank them, each standardised over
the candidates and added, with no weight fitted: the tuned weights' log-probability of each as the
reply, the search encoder's similarity of each to the question, and to the weights' own closed-book
answer (a silent draft). On the same three runs: 68.9 / 72.1 / 63.9%; on the tidy prose set 80.6 /
82.3% (recall-then-read 82.3 / 83.9%, seeds 1234 / 7). A first version, the mean log-probability per
token and the question's similarity, read 65.6 / 68.9 / 68.9% on dev but 75.8% on the tidy set: a long
statement naming the document's subject outranked the short one asked for. The test half, scored for
each version once: 61.4 / 62.9% (first 65.7 / 65.7%) against 45.7 / 48.6% before; the original weights
in the same pipeline 68.6%, so the gain is the pipeline's, not the tuning's (README, results). When no
statement is supported (a run trained without questions, a passage the questions did not cover), the
model reads the passages as before.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

_WORD = re.compile(r"\w+")

SUPPORT_SHARE = 0.8
"""Share of a statement's own words (those not in the question) that one passage must contain."""


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower())}


def _content(text: str) -> set[str]:
    """Words that carry content in any language: three letters or more, or any word with a digit."""
    return {w for w in _words(text) if len(w) >= 3 or any(c.isdigit() for c in w)}


def supporting_passage(answer: str, question: str, passages: Sequence[str],
                       share: float = SUPPORT_SHARE) -> int | None:
    """Index of the passage that says what `answer` says, else None.

    What the answer adds to the question must stand in one passage: all of its numbers (a statement
    of another row or document differs there first), and `share` of its other words. An answer that
    adds nothing (it restates the question) is never supported.
    """
    novel = _content(answer) - _words(question)
    if not novel:
        return None
    numbers = {w for w in novel if any(c.isdigit() for c in w)}
    best: tuple[float, int] | None = None
    for n, text in enumerate(passages):
        words = _words(text)
        if numbers - words:
            continue
        covered = len(novel & words) / len(novel)
        if covered >= share and (best is None or covered > best[0]):
            best = (covered, n)
    return best[1] if best else None


def run_statements(examples: Sequence[Any]) -> tuple[str, ...]:
    """The documents' statements a run's questions were trained to answer, each once, in order: the
    answers of its Q&A examples (training and validation alike: both are what the documents say) that
    state one thing. A whole list, procedure or profile (several lines) answers a question about a
    group, and a passage's recitation is a passage: neither is one statement."""
    out: dict[str, None] = {}
    for example in examples:
        answer = example.answer.strip() if example.kind == "qa" else ""
        if answer and "\n" not in answer:
            out.setdefault(answer)
    return tuple(out)


def supported(statements: Sequence[str], passages: Sequence[str]) -> list[tuple[str, int]]:
    """(statement, the passage that supports it) for each statement one of the passages holds."""
    out = []
    for statement in statements:
        n = supporting_passage(statement, "", passages)
        if n is not None:
            out.append((statement, n))
    return out


def _standard(values: Sequence[float]) -> list[float]:
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return [(v - mean) / spread if spread > 1e-9 else 0.0 for v in values]


DRAFT_TOKENS = 96
"""The silent closed-book draft's length limit: it is one of the voices that rank the statements, and a
statement is a sentence or two."""


def best_statement(signals: Sequence[Sequence[float]]) -> int:
    """Index of the candidate the signals rank highest together: each standardised over the candidates, then
    added, with no weight fitted (a signal that does not tell them apart counts for nothing; ties go to the
    earlier candidate)."""
    scores = [sum(values) for values in zip(*(_standard(list(signal)) for signal in signals))]
    return max(range(len(scores)), key=lambda i: (scores[i], -i))
