"""Causal-LM loss on answer tokens only, without materialising all logits.

With a 49k-token vocabulary the logits of a (4 × 384) batch are ~75 M floats
(300 MB in fp32) and the LM head is ~20% of the model's FLOPs. Only answer
positions need logits, so we run the decoder, pick those positions, and apply
the head to them alone; past a size limit the head + cross-entropy run in
checkpointed chunks so their logits are never all stored for backward.
"""

from __future__ import annotations

from typing import Any

from core.training.data import IGNORE

CHUNK_ROWS = 1024


def _head_ce(head: Any, hidden: Any, targets: Any) -> Any:
    import torch.nn.functional as F

    return F.cross_entropy(head(hidden).float(), targets, reduction="sum")


def answer_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Return (mean loss over answer tokens, number of answer tokens)."""
    from torch.utils.checkpoint import checkpoint

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    labels = batch["labels"]
    targets = labels[:, 1:]  # (B, T-1): token t predicts t+1
    keep = targets != IGNORE
    n = int(keep.sum())
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    head = base.get_output_embeddings()
    if decoder is None or head is None or getattr(base.config, "final_logit_softcapping", None):
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels)
        return out.loss, n
    # Batches are padded on the right (core/training/data.collate) and attention is causal, so no real
    # token ever attends to a pad, and pads carry no labels: the padding mask changes no loss. Without
    # it, SDPA runs its fused causal kernel instead of materialising a masked one, forward and backward.
    hidden = decoder(input_ids=batch["input_ids"], use_cache=False).last_hidden_state  # no KV cache to build
    picked = hidden[:, :-1][keep]  # (N, C)
    y = targets[keep]  # (N,)
    if n == 0:
        return hidden.sum() * 0.0, 0
    if n <= CHUNK_ROWS:
        total = _head_ce(head, picked, y)
    else:
        total = sum(
            checkpoint(_head_ce, head, picked[i : i + CHUNK_ROWS], y[i : i + CHUNK_ROWS], use_reentrant=False)
            for i in range(0, n, CHUNK_ROWS)
        )
    return total / n, n


def autocast_for(precision: str, device: str) -> Any:
    """bf16 autocast where base weights are bf16 (or NF4 computing in bf16)."""
    import contextlib

    import torch

    if precision in ("bf16", "nf4_bf16"):
        return torch.autocast(device_type="cuda" if device == "cuda" else "cpu", dtype=torch.bfloat16)
    if precision == "fp16":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()
