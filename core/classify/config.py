"""The classifier's training settings: one dataclass, saved in run.json, validated all at once.

Its own dataclass rather than more fields on TrainConfig: the chat task's settings (passages, replay,
questions) mean nothing to a classifier, and a classifier's (columns, class weights) nothing to chat.
The defaults were chosen on the dev half of bench/classify.py's data only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError

DEFAULT_ENCODER = "minilm"
"""The built-in encoder (all-MiniLM-L6-v2, core/models/encoder.py): what a classify run trains by default."""


@dataclass
class ClassifyConfig:
    text_column: str = "text"
    """The column that holds each row's text."""

    label_column: str = "label"
    """The column that holds each row's label."""

    model: str = DEFAULT_ENCODER
    """'minilm' (built in), an encoder or decoder model folder, or a name from `tunedesk models list`."""

    preset: str = "standard"
    """Shown in run lists beside the chat task's presets."""

    epochs: float = 6.0
    """Passes over the training rows. Chosen on bench/classify.py's dev half only (1,000 tweets, 2,000 scored,
    seeds 1234 and 7): macro-F1 over the frozen-encoder baseline +3.5/+4.6 points at 3 epochs, +5.2/+6.9 at 6
    (1.8 min); a learning rate of 2e-3 gave +5.9/+4.6, rank 16 -1.8/+2.2."""

    max_steps: int = 0
    """Stop after this many optimiser steps (0 = no limit beyond the epochs)."""

    batch_size: int = 16
    """Rows per optimiser step."""

    learning_rate: float = 1e-3
    """Peak learning rate of the LoRA weights and the classification head."""

    max_length: int = 128
    """Longest text in tokens; longer ones are cut (a review's first 128 tokens say most of its label)."""

    lora_r: int = 8
    """LoRA rank of the adapters on every attention and feed-forward layer."""

    lora_alpha: int = 16
    """LoRA scaling numerator (the update is scaled by alpha / r)."""

    lora_dropout: float = 0.1
    """Dropout on the LoRA input: a classifier sees the same rows each epoch and overfits without it."""

    class_weights: bool = True
    """Weigh each label's loss by how rare it is, so a 10:1 imbalance does not teach 'always the common one'."""

    warmup_ratio: float = 0.1
    """Share of steps spent ramping the learning rate up from zero."""

    val_fraction: float = 0.15
    """Share of each label's rows kept aside (never trained on) for the metrics."""

    eval_every: int = 0
    """Steps between validation checks (0 = once per epoch, and always at the end)."""

    save_every: int = 20
    """Steps between resumable checkpoints."""

    keep_checkpoints: int = 2
    """How many of the newest checkpoints to keep on disk."""

    seed: int = 1234
    """Fixes the split, the data order and the head's initialisation, so runs repeat and resume exactly."""

    def validate(self) -> None:
        """Raise one ConfigError listing every problem."""
        problems: list[str] = []
        if not self.text_column.strip() or not self.label_column.strip():
            problems.append("text_column and label_column must name columns")
        elif self.text_column == self.label_column:
            problems.append("text_column and label_column must be different columns")
        if self.epochs <= 0 and self.max_steps <= 0:
            problems.append("epochs must be > 0, or max_steps set")
        if self.max_steps < 0:
            problems.append(f"max_steps must be ≥ 0 (got {self.max_steps})")
        if self.batch_size < 1:
            problems.append(f"batch_size must be ≥ 1 (got {self.batch_size})")
        if not 0 < self.learning_rate <= 1e-1:
            problems.append(f"learning_rate must be in (0, 0.1] (got {self.learning_rate})")
        if not 8 <= self.max_length <= 4096:
            problems.append(f"max_length must be between 8 and 4096 (got {self.max_length})")
        if not 1 <= self.lora_r <= 256:
            problems.append(f"lora_r must be between 1 and 256 (got {self.lora_r})")
        if self.lora_alpha < 1:
            problems.append(f"lora_alpha must be ≥ 1 (got {self.lora_alpha})")
        if not 0 <= self.lora_dropout < 1:
            problems.append(f"lora_dropout must be in [0, 1) (got {self.lora_dropout})")
        if not 0 <= self.warmup_ratio < 1:
            problems.append(f"warmup_ratio must be in [0, 1) (got {self.warmup_ratio})")
        if not 0 <= self.val_fraction < 0.9:
            problems.append(f"val_fraction must be in [0, 0.9) (got {self.val_fraction})")
        if self.eval_every < 0 or self.save_every < 0:
            problems.append("eval_every and save_every must be ≥ 0")
        if self.keep_checkpoints < 1:
            problems.append(f"keep_checkpoints must be ≥ 1 (got {self.keep_checkpoints})")
        if problems:
            raise ConfigError(problems)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClassifyConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError([f"unknown setting {name!r}" for name in unknown])
        return cls(**data)
