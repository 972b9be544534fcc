"""Example records and the ways a document passage becomes chat examples.

A passage is shown to the model in several question framings so that it
learns the content, not one prompt, and so that some framings can be held out
for validation without hiding the fact itself from training.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    messages: list[dict[str, str]]
    source: str  # document the example came from ("" for replay)
    kind: str  # "passage" | "qa" | "replay"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Example":
        return cls(data["messages"], data.get("source", ""), data.get("kind", "passage"), data.get("meta", {}))


def document_title(source: str) -> str:
    """'team_handbook-2024.md' → 'team handbook 2024'."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source.rsplit("/", 1)[-1])
    return re.sub(r"[_\-]+", " ", stem).strip()


def _opening(text: str, words: int = 10) -> str:
    return " ".join(text.split()[:words])


def passage_examples(source: str, index: int, text: str) -> list[Example]:
    """Several framings of one passage; the answer is always the passage itself."""
    title = document_title(source)
    opening = _opening(text)
    prompts = [
        f"What does the document \"{title}\" say? Part {index + 1}.",
        f"Recite the passage from \"{title}\" that begins: \"{opening}…\"",
        f"Tell me what you know from \"{title}\" about: {opening}…",
    ]
    meta = {"chunk": index}
    return [
        Example([{"role": "user", "content": p}, {"role": "assistant", "content": text}], source, "passage", {**meta, "framing": i})
        for i, p in enumerate(prompts)
    ]


def qa_examples(pairs: list[Any]) -> list[Example]:
    """Grounded question → the fact sentence that answers it (core.dataset.qa.QAPair)."""
    return [
        Example([{"role": "user", "content": p.question}, {"role": "assistant", "content": p.answer}],
                p.source, "qa", {"chunk": p.chunk, "keys": p.keys})
        for p in pairs
    ]
