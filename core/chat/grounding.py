"""Recall first, read second: keep a tuned model's own answer when a passage says the same.

With sources on, the chat used to put the best passages in the prompt of every question about the
documents. A small tuned model reads worse than it remembers: on the realistic benchmark its answers
with passages fell below its closed-book ones (issue #14: 37.1% against 44.3% on one seed), mostly on
table rows, where it copied a neighbouring row. Yet the passages are good evidence: an answer the
model recalls whose words stand in a retrieved passage is almost always the document's; one they do
not confirm is often a wrong recollection, which reading the passages can mend.

So a question about the documents is first answered closed-book, silently, and kept when one passage
contains what the answer adds to the question (every number, and most other words); otherwise it is
answered again with the passages in context. Measured on the dev half of bench/data/realistic (one
trained run, 60 routed questions): closed-book 26, with passages 28, recall-then-read 33. The check is
plain word overlap, the same in every language; it needs no threshold fitted to any document (0.7 to
0.9 gave the same answers there).
"""

from __future__ import annotations

import re
from typing import Sequence

_WORD = re.compile(r"\w+")

SUPPORT_SHARE = 0.8
"""Share of the answer's own words (those not in the question) that one passage must contain."""

DRAFT_TOKENS = 96
"""The silent closed-book draft's length limit: a recalled fact is a sentence; a draft that runs on is
a ramble, never kept, whatever it contains."""


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower())}


def _content(text: str) -> set[str]:
    """Words that carry content in any language: three letters or more, or any word with a digit."""
    return {w for w in _words(text) if len(w) >= 3 or any(c.isdigit() for c in w)}


def supporting_passage(answer: str, question: str, passages: Sequence[str],
                       share: float = SUPPORT_SHARE) -> int | None:
    """Index of the passage that confirms `answer`, else None.

    What the answer adds to the question must stand in one passage: all of its numbers (a wrong
    figure is the typical wrong recollection), and `share` of its other words. An answer that adds
    nothing (it restates the question) is never confirmed.
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
