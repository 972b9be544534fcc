"""The report's recall across the documents' text: each kind of fact weighed by its share of the words.

The report asks held-out facts in proportion to how many facts of each kind qualify, and table rows make
many small facts, each with several wordings: on the realistic dev set two thirds of its questions were
table cells, where a quarter of the words are tables. Tables are learned best, so the plain share of
facts recalled read 62% where people's own questions got 43% (session 10, seed 1234). People ask about
what a document says, so this figure weighs each kind's recall by how many of the documents' words that
kind holds; kinds the report did not ask are left out of both sides.
"""

from __future__ import annotations

from typing import Any, Mapping


def text_weighted(recall_by_kind: Mapping[str, float], words_by_kind: Mapping[str, int]) -> float | None:
    """Σ words_k · recall_k / Σ words_k over the kinds asked; None when no asked kind has words."""
    weights = {k: words_by_kind.get(k, 0) for k in recall_by_kind}
    total = sum(weights.values())
    if not total:
        return None
    return sum(weights[k] * recall_by_kind[k] for k in recall_by_kind) / total


def words_of(coverage: Mapping[str, Any]) -> dict[str, int]:
    """Words per kind over all documents, from run.json's qa_stats coverage (a run prepared before
    session 10 has none: empty)."""
    out: dict[str, int] = {}
    for doc in coverage.values():
        for kind, n in ((doc.get("words") or {}) if isinstance(doc, dict) else {}).items():
            out[kind] = out.get(kind, 0) + int(n)
    return out
