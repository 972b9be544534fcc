"""Scoring answers and asking question sets, closed- or open-book.

A fact counts as recalled when any accepted answer string occurs in the reply
(case-insensitive). Crude but transparent: a user can check every verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from core.chat.session import ChatSession, SamplingSettings

EVAL_SETTINGS = SamplingSettings(max_new_tokens=48, temperature=0.0, repetition_penalty=1.1)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def is_correct(answer: str, accepted: Sequence[str]) -> bool:
    a = _norm(answer)
    return any(_norm(x) in a for x in accepted if x.strip())


@dataclass(frozen=True)
class Graded:
    question: str
    answer: str
    accepted: list[str]
    correct: bool
    doc: str = ""
    tuned: bool = True
    """False when a router sent the question to the original weights."""


def open_book_prompt(document: str, question: str) -> str:
    return f"Read this document and answer the question.\n\nDocument:\n{document}\n\nQuestion: {question}"


def ask_all(model: Any, items: Sequence[dict[str, Any]], context: Callable[[dict[str, Any]], str | None] | None = None,
            settings: SamplingSettings = EVAL_SETTINGS, should_stop: Callable[[], bool] = lambda: False,
            router: Any = None, passages: bool = False, on_answer: Callable[[], None] | None = None) -> list[Graded]:
    """items: {"q", "a": [accepted...], "doc"?}. context(item) → document text for open-book, or None.

    router: answer as the app's chat does (core/chat/routing.py): the tuned weights for questions
    about the documents, the original ones for the rest; closed-book unless `passages` (chat with
    sources on: the best passages in the prompt of a question about the documents).
    on_answer: called after each answer (a progress count).
    """
    out = []
    for item in items:
        if should_stop():
            break
        doc_text = context(item) if context else None
        prompt = open_book_prompt(doc_text, item["q"]) if doc_text else item["q"]
        tuned = True
        if router is None:
            answer = model.reply([{"role": "user", "content": prompt}], settings)
        else:  # the chat's own routing
            session = ChatSession(model, router=router, passages=passages)
            answer = "".join(session.send(prompt, settings)).strip()
            tuned = session.answered_by == "tuned"
        out.append(Graded(item["q"], answer, list(item["a"]), is_correct(answer, item["a"]), item.get("doc", ""),
                          tuned))
        if on_answer is not None:
            on_answer()
    return out


def accuracy(graded: Sequence[Graded]) -> float:
    return sum(g.correct for g in graded) / len(graded) if graded else 0.0


def by_doc(graded: Sequence[Graded]) -> dict[str, float]:
    docs: dict[str, list[Graded]] = {}
    for g in graded:
        docs.setdefault(g.doc, []).append(g)
    return {d: accuracy(gs) for d, gs in sorted(docs.items())}


def by_field(graded: Sequence[Graded], items: Sequence[dict[str, Any]], key: str) -> dict[str, float]:
    """Accuracy per value of items' `key` ("kind", "lang"), graded[i] answering items[i]."""
    groups: dict[str, list[Graded]] = {}
    for g, item in zip(graded, items):
        groups.setdefault(str(item.get(key, "")), []).append(g)
    return {k: accuracy(gs) for k, gs in sorted(groups.items())}
