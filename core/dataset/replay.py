"""General-chat replay: the model's own answers to everyday questions.

Mixed into training so a tuned model keeps answering general questions the way
it did (self-distillation replay: the targets are the base model's own greedy
answers, so they teach nothing new and pull the adapter back toward the base
behaviour). The prompts are ours (resources/replay_prompts.txt, same licence as
TuneDesk); the answers are generated once per base model and cached.

The demo model's answers ship with the app (resources/replay_answers/, keyed by the
weights' fingerprint): writing them took 1.5 of the first run's ~2 minutes of
preparation on a 2-core CPU, for output that is the same greedy text on every machine
(issue #21: a first run should start training within a couple of minutes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from core.dataset.examples import Example
from core.paths import models_dir, resources_dir
from core.store import read_jsonl, write_jsonl


def replay_prompts() -> list[str]:
    path = resources_dir() / "replay_prompts.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def shipped_answers_path(fingerprint: str) -> Path:
    """Where the app carries ready answers for the model with these weights (core/models/identity.py)."""
    return resources_dir() / "replay_answers" / f"{fingerprint}.jsonl"


def cache_path(model_dir: Path, fingerprint: str = "") -> Path:
    """This machine's answers for a model: keyed by its weights when known, so a folder whose weights
    were replaced gets new answers, else by the folder's path."""
    key = fingerprint or hashlib.sha1(str(Path(model_dir).resolve()).encode()).hexdigest()[:12]
    return models_dir() / "replay-cache" / f"{Path(model_dir).name}-{key}.jsonl"


Generate = Callable[[list[str]], list[str]]
"""prompts → the base model's greedy answers, in order (core/chat/batch.py `greedy_replies`)."""


def cached_answers(model_dir: Path, fingerprint: str = "") -> list[dict[str, str]] | None:
    """The answers already written for these prompts (this machine's cache, else the shipped ones), or None."""
    prompts = replay_prompts()
    places = [cache_path(model_dir, fingerprint)] + ([shipped_answers_path(fingerprint)] if fingerprint else [])
    for place in places:
        if place.is_file():
            rows = read_jsonl(place)
            if [r["q"] for r in rows] == prompts:  # one row per prompt, an empty answer too: else stale
                return rows
    return None


def replay_examples(model_dir: Path, generate: Generate, fingerprint: str = "") -> list[Example]:
    """Cached replay examples; `generate` is only called on a cache miss.

    It is passed in, not imported from core.chat, so the dataset never depends on the chat
    (core/chat/routing.py reads the replay prompts: the import would go in a circle)."""
    rows = cached_answers(model_dir, fingerprint)
    if rows is None:
        prompts = replay_prompts()
        answers = generate(prompts)
        rows = [{"q": q, "a": a} for q, a in zip(prompts, answers)]
        write_jsonl(cache_path(model_dir, fingerprint), rows)
    return [_example(r["q"], r["a"]) for r in rows if r["a"]]


def _example(q: str, a: str) -> Example:
    return Example([{"role": "user", "content": q}, {"role": "assistant", "content": a}], "", "replay", {})
