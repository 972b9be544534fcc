"""Build, split and write the dataset files a run trains on.

Files are plain JSONL so users can read exactly what the model was taught.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from core.dataset.examples import Example, passage_examples
from core.store import TRAIN_FILE, VALIDATION_FILE, atomic_write_text, read_jsonl, write_jsonl


@dataclass(frozen=True)
class DatasetInfo:
    train: int
    validation: int
    by_kind: dict[str, int]
    sources: list[str]
    train_path: str
    validation_path: str

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.by_kind.items()))
        return f"{self.train} training and {self.validation} validation examples ({kinds})"


def split_examples(examples: Sequence[Example], val_fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Hold out a share of examples, but never every framing of one passage or every wording of one fact.

    Holding out whole passages would hide their facts from training; holding
    out one framing keeps validation honest (an unseen prompt) without that.

    Which groups give a member, and which member, is drawn from what they say (_draw: the seed, the
    document, the answer, the question), not from their position in the list: editing one fact, or a
    document gaining a table row, moves that fact's rows and no other's. Drawn by position, session 47's
    20 changed question rows of 605 moved ~40 unrelated rows each way between training and validation,
    and a method change was measured through that re-draw as much as through itself.
    """
    groups: dict[tuple[str, Any], list[Example]] = {}
    for ex in examples:
        groups.setdefault((ex.source, ex.meta.get("chunk", id(ex)) if ex.kind != "replay" else id(ex)), []).append(ex)
    train: list[Example] = []
    val: list[Example] = []
    want_val = round(len(examples) * val_fraction)
    ordered = sorted(groups.values(), key=lambda members: min(_draw(seed, m, by_answer=True) for m in members))
    for members in ordered:
        if len(val) < want_val and len(members) > 1:
            pick = min(members, key=lambda m: _draw(seed, m))
            val.append(pick)
            train.extend(m for m in members if m is not pick)
        else:
            train.extend(members)
    if val_fraction > 0 and not val and len(train) > 1:  # tiny sets: still keep one aside
        val.append(train.pop(min(range(len(train)), key=lambda i: _draw(seed, train[i]))))
    train.sort(key=lambda m: _draw(seed, m))
    return train, val


def _draw(seed: int, example: Example, by_answer: bool = False) -> bytes:
    """A random-looking, repeatable rank for an example, from the seed and what it says (a group ranks by its
    answer: every wording of a fact, every framing of a passage, has the same one)."""
    said = example.answer if by_answer else json.dumps(example.messages, ensure_ascii=False)
    return hashlib.blake2b(f"{seed}\x1f{example.source}\x1f{said}".encode(), digest_size=8).digest()


def load_examples(path: Path) -> list[Example]:
    return [Example.from_json(item) for item in read_jsonl(path)]


def build_dataset(chunks: Sequence[Any], out_dir: Path, val_fraction: float, seed: int,
                  extra: Sequence[Example] = (), passages: bool = True,
                  languages: dict[str, str] | None = None) -> DatasetInfo:
    """chunks: objects with .source, .index, .text (core.documents.Chunk); extra: Q&A, replay;
    languages: document name → language code, for the recitation prompts."""
    examples: list[Example] = []
    if passages:
        for chunk in chunks:
            language = (languages or {}).get(chunk.source, "")
            examples.extend(passage_examples(chunk.source, chunk.index, chunk.text, language))
    examples.extend(extra)
    train, val = split_examples(examples, val_fraction, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_path, val_path = out_dir / TRAIN_FILE, out_dir / VALIDATION_FILE
    write_jsonl(train_path, (e.to_json() for e in train))
    write_jsonl(val_path, (e.to_json() for e in val))
    by_kind: dict[str, int] = {}
    for ex in train + val:
        by_kind[ex.kind] = by_kind.get(ex.kind, 0) + 1
    info = DatasetInfo(len(train), len(val), by_kind, sorted({c.source for c in chunks}), str(train_path), str(val_path))
    atomic_write_text(out_dir / "dataset.json", json.dumps({**asdict(info), "val_fraction": val_fraction, "seed": seed}, indent=2))
    return info
