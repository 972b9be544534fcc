"""A model's shape: layer sizes, parameter counts and bytes on disk, the numbers the pre-flight estimate computes with.

Read from a model folder's small files (config.json, safetensors headers, file sizes) in
milliseconds, so the estimate (core/training/estimate.py) stays a pure function of this
record and the catalogue can count parameters for a folder whose weights have no header.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.models.folders import count_params


@dataclass(frozen=True)
class ModelShape:
    hidden: int
    layers: int
    vocab: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    params: int
    linear_params: int
    experts: int = 1
    file_bytes: int = 0
    """Bytes of the weight files: loading reads them whole before converting (0: a model described by config alone)."""

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim


def shape_from_config(config: dict[str, Any], counted: int = 0, file_bytes: int = 0) -> ModelShape:
    """The shape a config.json describes; `counted` (parameters from the weight headers) wins over the formula."""
    c = config.get("text_config") or config
    h = int(c.get("hidden_size") or c.get("n_embd") or c.get("d_model") or 0)
    layers = int(c.get("num_hidden_layers") or c.get("n_layer") or c.get("num_layers") or 0)
    vocab = int(c.get("vocab_size") or 0)
    heads = int(c.get("num_attention_heads") or c.get("n_head") or 1)
    kv = int(c.get("num_key_value_heads") or heads)
    head_dim = int(c.get("head_dim") or (h // max(1, heads)))
    inter = int(c.get("intermediate_size") or c.get("n_inner") or 4 * h)
    experts = int(c.get("num_local_experts") or c.get("num_experts") or 1)
    attn = h * heads * head_dim * 2 + h * kv * head_dim * 2
    mlp = 3 * h * inter * experts
    linear = layers * (attn + mlp)
    embed = vocab * h * (1 if c.get("tie_word_embeddings", True) else 2)
    params = counted or linear + embed + layers * 2 * h + h
    linear = min(linear, params) if counted else linear
    return ModelShape(h, layers, vocab, inter, heads, kv, head_dim, params, linear, experts, file_bytes)


def params_from_config(config: dict[str, Any]) -> int:
    return shape_from_config(config).params


def model_shape(folder: Path) -> ModelShape:
    """The shape of the model in `folder`, from config.json, the safetensors headers and the weight files' sizes."""
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    files = list(folder.glob("*.safetensors")) or list(folder.glob("*.bin"))
    return shape_from_config(config, count_params(folder), sum(f.stat().st_size for f in files))
