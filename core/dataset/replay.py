"""General-chat replay: the model's own answers to everyday questions.

Mixed into training so a tuned model keeps answering general questions the way
it did (self-distillation replay: the targets are the base model's own greedy
answers, so they teach nothing new and pull the adapter back toward the base
behaviour). The prompts are ours (resources/replay_prompts.txt, same licence as
TuneDesk); the answers are generated once per base model and cached.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from core.dataset.examples import Example
from core.paths import models_dir, resources_dir
from core.store import atomic_write_text


def replay_prompts() -> list[str]:
    path = resources_dir() / "replay_prompts.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _cache_path(model_dir: Path) -> Path:
    key = hashlib.sha1(str(Path(model_dir).resolve()).encode()).hexdigest()[:12]
    return models_dir() / "replay-cache" / f"{Path(model_dir).name}-{key}.jsonl"


Generate = Callable[[list[str]], list[str]]
"""prompts → the base model's greedy answers, in order (core/chat/batch.py `greedy_replies`)."""


def replay_examples(model_dir: Path, generate: Generate) -> list[Example]:
    """Cached replay examples; `generate` is only called on a cache miss.

    It is passed in, not imported from core.chat, so the dataset never depends on the chat
    (core/chat/routing.py reads the replay prompts: the import would go in a circle)."""
    prompts = replay_prompts()
    cache = _cache_path(model_dir)
    if cache.is_file():
        rows = [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines() if line.strip()]
        if [r["q"] for r in rows] == prompts:
            return [_example(r["q"], r["a"]) for r in rows]
    answers = generate(prompts)
    rows = [{"q": q, "a": a} for q, a in zip(prompts, answers) if a]
    atomic_write_text(cache, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return [_example(r["q"], r["a"]) for r in rows]


def _example(q: str, a: str) -> Example:
    return Example([{"role": "user", "content": q}, {"role": "assistant", "content": a}], "", "replay", {})
