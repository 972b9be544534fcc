"""Causal-LM loss on answer tokens only, without materialising all logits.

With a 49k-token vocabulary the logits of a (4 × 384) batch are ~75 M floats
(300 MB in fp32) and the LM head is ~20% of the model's FLOPs. Only answer
positions need logits, so we run the decoder, pick those positions, and apply
the head to them alone. On a CPU the head, the cross-entropy and its gradient
are one fused pass over pieces of rows (_head_loss); elsewhere the head +
cross-entropy run in checkpointed chunks past a size limit, so their logits are
never all stored for backward.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

from core.training.attention import NAME as CPU_ATTENTION
from core.training.data import answer_positions, packed

CHUNK_ROWS = 1024

LOGIT_ELEMENTS = 1 << 23
"""Rows of logits computed at once: ~8 M (170 rows of a 49k vocabulary, 16 MB in bf16) — enough rows
that the head matmul runs at full speed, few enough that the buffers stay small."""


def piece_rows(vocab: int) -> int:
    return max(16, min(256, LOGIT_ELEMENTS // vocab))


def _head_loss(hidden: Any, weight: Any, targets: Any, want_grad: bool, teacher: Any = None,
               soft: Any = None, said: Any = None) -> tuple[Any, Any]:
    """Summed cross-entropy of `hidden @ weight.T` against `targets`, and its gradient w.r.t. `hidden`.

    The gradient is computed here, in the forward pass, a piece of rows at a time (what Liger's fused
    linear cross-entropy does on GPUs): a piece's logits are written once, turned into softmax − one-hot
    in place and multiplied back, so no (N × vocab) tensor exists and none is kept for backward. Against
    autocast + F.cross_entropy (bf16 logits, an fp32 copy, log-softmax, its backward, a bf16 copy of the
    gradient), this is 467 vs 765 ms for the 658 answer tokens of a demo-model step here.
    Precision is that path's: log-softmax in fp32 over the same bf16 logits; the target's gradient
    p − 1 is formed in fp32 (a bf16 p would round a confident 0.999 to 1 and lose it).

    Rows where `soft` (a weight w in (0, 1], one per row, 0 elsewhere) is set learn a distribution: q =
    softmax(teacher @ weight.T) from the base model's hidden states (core/training/distil.py), mixed with their
    target. Their loss is w·KL(q ‖ p) + (1 − w)·CE and their gradient p − (w·q + (1 − w)·one-hot), the same
    kernel with that mixture in place of the one-hot (w = 1: replay rows, the distribution alone).

    `said` (bool, one per row), when given, is set where the target is the row's most likely token (see
    answer_loss's `said`).
    """
    import torch

    rows, vocab = hidden.shape[0], weight.shape[0]
    piece = piece_rows(vocab)
    grad = torch.empty_like(hidden) if want_grad else None
    logits, log_probs, probs = _buffers(piece, vocab, hidden.dtype)
    total = torch.zeros((), dtype=torch.float64)
    with torch.no_grad():
        for i in range(0, rows, piece):
            n = min(piece, rows - i)
            lg, lp, y, at = logits[:n], log_probs[:n], targets[i : i + n], torch.arange(n)
            torch.mm(hidden[i : i + n], weight.t(), out=lg)  # (n, V)
            # In place in one fp32 buffer: logsumexp would subtract into a fresh tensor (2.5× slower here).
            torch.log_softmax(lp.copy_(lg), -1, out=lp)
            target = lp[at, y]
            if said is not None:
                # The target's log-probability against the row's largest: fp32 amax is vectorised, a bf16
                # argmax over the logits is not (0.5 against 15 ms for a piece of 170 rows here).
                torch.ge(target, lp.amax(-1), out=said[i : i + n])
            learn = soft[i : i + n].nonzero().squeeze(1) if soft is not None else at[:0]
            q = w = None
            if len(learn):
                w = soft[i : i + n][learn].float()  # how much of each such row is the distribution
                teacher_lp = torch.log_softmax(torch.mm(teacher[i : i + n][learn], weight.t()).float(), -1)
                q = teacher_lp.exp()
                total += (w[:, None] * q * (teacher_lp - lp[learn])).sum(dtype=torch.float64)
                hard = torch.ones(n, dtype=torch.float32)
                hard[learn] = 1 - w
                total -= (target * hard).sum(dtype=torch.float64)
            else:
                total -= target.sum(dtype=torch.float64)
            if grad is not None:
                p = probs[:n]
                torch._softmax(lg, -1, False, out=p)
                if q is None:
                    p[at, y] = (target.exp() - 1).to(p.dtype)
                else:
                    # p − (w·q + (1 − w)·one-hot), formed in fp32 (see above) at the target
                    at_target = target.exp() - hard
                    at_target[learn] -= w * q[torch.arange(len(learn)), y[learn]]
                    p[learn] = (lp[learn].exp() - w[:, None] * q).to(p.dtype)
                    p[at, y] = at_target.to(p.dtype)
                torch.mm(p, weight, out=grad[i : i + n])
    return total.float(), grad


@functools.lru_cache(maxsize=1)
def _buffers(rows: int, vocab: int, dtype: Any) -> tuple[Any, Any, Any]:
    """The same three buffers every step (~67 MB for the demo model). Fresh ones cost more than the
    work done in them: allocations this large are new pages from the OS, and first-touching them
    took 58 ms a piece against 2 ms for the copy itself (page faults in this VM)."""
    import torch

    logits = torch.empty(rows, vocab, dtype=dtype)
    return logits, torch.empty(rows, vocab, dtype=torch.float32), torch.empty_like(logits)


@functools.cache
def _head_loss_function() -> Any:
    """The autograd Function around _head_loss (built on first use: torch is imported lazily)."""
    import torch

    class HeadLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, hidden: Any, weight: Any, targets: Any, teacher: Any = None, soft: Any = None,
                    said: Any = None) -> Any:
            loss, grad = _head_loss(hidden, weight, targets, ctx.needs_input_grad[0], teacher, soft, said)
            ctx.save_for_backward(grad if grad is not None else hidden.new_empty(0))
            return loss

        @staticmethod
        def backward(ctx: Any, upstream: Any) -> Any:
            (grad,) = ctx.saved_tensors
            return grad * upstream.to(grad.dtype), None, None, None, None, None

    return HeadLoss


def _head_ce(head: Any, hidden: Any, targets: Any) -> Any:
    import torch.nn.functional as F

    return F.cross_entropy(head(hidden).float(), targets, reduction="sum")


def _head_mix(head: Any, hidden: Any, teacher: Any, targets: Any, w: Any) -> Any:
    """Summed w·KL(q ‖ p) + (1 − w)·CE: p from `hidden`, q from the base model's `teacher` states
    (see _head_loss)."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        target = F.log_softmax(head(teacher).float(), -1)
    log_p = F.log_softmax(head(hidden).float(), -1)
    kl = (target.exp() * (target - log_p)).sum(-1)
    ce = -log_p.gather(1, targets[:, None]).squeeze(1)
    w = w.float()
    return (w * kl + (1 - w) * ce).sum()


def _mixed(head: Any, hidden: Any, teacher: Any, targets: Any, w: Any) -> Any:
    """_head_mix in CHUNK_ROWS pieces recomputed in backward, like _chunked."""
    from torch.utils.checkpoint import checkpoint

    return sum(checkpoint(_head_mix, head, hidden[i : i + CHUNK_ROWS], teacher[i : i + CHUNK_ROWS],
                          targets[i : i + CHUNK_ROWS], w[i : i + CHUNK_ROWS], use_reentrant=False)
               for i in range(0, hidden.shape[0], CHUNK_ROWS)) if hidden.shape[0] else hidden.sum() * 0.0


def _said(head: Any, hidden: Any, targets: Any) -> Any:
    """Where `targets` is the head's most likely token, in CHUNK_ROWS pieces: an extra head pass, without
    gradients, on the paths whose logits live inside autograd (GPUs, a trained head)."""
    import torch

    with torch.no_grad():
        return torch.cat([head(hidden[i : i + CHUNK_ROWS]).argmax(-1) == targets[i : i + CHUNK_ROWS]
                          for i in range(0, hidden.shape[0], CHUNK_ROWS)])


def _chunked(loss: Any, head: Any, hidden: Any, other: Any) -> Any:
    """`loss` summed over pieces of CHUNK_ROWS rows, each recomputed in backward: their logits are never
    all stored at once."""
    from torch.utils.checkpoint import checkpoint

    if hidden.shape[0] <= CHUNK_ROWS:
        return loss(head, hidden, other)
    return sum(checkpoint(loss, head, hidden[i : i + CHUNK_ROWS], other[i : i + CHUNK_ROWS], use_reentrant=False)
               for i in range(0, hidden.shape[0], CHUNK_ROWS))


def _fusable_head(head: Any, on: str = "cpu") -> bool:
    """A frozen, bias-free Linear head whose weight is on the CPU (`on` "meta": a weightless copy that
    core/support.py plans for a CPU)."""
    weight = getattr(head, "weight", None)
    return (weight is not None and weight.ndim == 2 and not weight.requires_grad
            and getattr(head, "bias", None) is None and type(head).__name__ == "Linear" and weight.device.type == on)


def whole_model_reason(base: Any) -> str | None:
    """Why the loss must come from the model's own forward (its logits), or None. Gemma 2 soft-caps its
    final logits (tanh(z/c)·c) in the CausalLM class, after the head: a plain head + cross-entropy would
    skip it. A multimodal wrapper keeps the cap in its text config, hence get_text_config()."""
    text_config = base.config.get_text_config() if hasattr(base.config, "get_text_config") else base.config
    cap = getattr(text_config, "final_logit_softcapping", None) or getattr(base.config, "final_logit_softcapping", None)
    if cap:
        return f"final-logit soft-capping ({cap})"
    if not hasattr(base, "get_decoder") or base.get_decoder() is None or base.get_output_embeddings() is None:
        return "no separate decoder and output head"
    return None


def head_loss_declined(model: Any, on: str = "cpu") -> str | None:
    """Why answer_loss will not use the fused CPU head loss for this model, or None when it will (`on`: see
    _fusable_head)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    reason = whole_model_reason(base)
    if reason is None and not _fusable_head(base.get_output_embeddings(), on):
        reason = "the head is not a frozen, bias-free CPU Linear"
    return reason


def answer_loss(model: Any, batch: dict[str, Any], fused_head: bool = True,
                said: list[Any] | None = None) -> tuple[Any, int]:
    """Return (mean loss over answer tokens, number of answer tokens).

    `said`: a list to which one bool tensor is appended, for each answer token (in answer_positions' order)
    whether it was the model's most likely next token, so whether the model already says the answer, word for
    word, given what came before. Read from the log-probabilities the loss computes anyway (in the fused CPU
    head, one max per row: a few ms for 660 answer tokens, against ~250 ms for their head loss); the training loop
    rests examples the model already says (loop.py).

    A batch with "teacher" and "soft" (core/training/data.collate) has rows that learn the base model's
    distribution (core/training/distil.py); the model's own forward (whole_model_reason) learns their tokens.
    `fused_head` False keeps our fused CPU head loss off even where it applies: under FSDP the head's weight
    is a DTensor shard between forwards, and the kernel is not measured on sharded modules (core/training/fsdp.py)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if _packs(base, batch):
        batch = packed(batch, share=shares_prefix(base.config), multiple=row_multiple(base.dtype))
    whole = whole_model_reason(base)
    labels = batch["labels"]
    targets = labels[:, 1:]  # (B, T-1): token t predicts t+1
    keep = answer_positions(labels)
    n = int(keep.sum())
    if whole is not None:
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels)
        if said is not None:
            said.append(out.logits[:, :-1][keep].argmax(-1) == targets[keep])
        return out.loss, n
    decoder, head = base.get_decoder(), base.get_output_embeddings()
    # Batches are padded on the right (core/training/data.collate) and attention is causal, so no real
    # token ever attends to a pad, and pads carry no labels: the padding mask changes no loss. Without
    # it, SDPA runs its fused causal kernel instead of materialising a masked one, forward and backward.
    # Where our CPU attention runs, the rows are packed instead (_packs), so pads are not computed at all.
    hidden = decoder(input_ids=batch["input_ids"], position_ids=batch.get("position_ids"),
                     use_cache=False).last_hidden_state  # no KV cache to build
    picked = hidden[:, :-1][keep]  # (N, C)
    y = targets[keep]  # (N,)
    if n == 0:
        if said is not None:
            said.append(y == y)
        return hidden.sum() * 0.0, 0
    soft = batch.get("soft")
    if soft is not None and not bool(soft.any()):
        soft = None  # every row here learns its tokens
    teacher = batch["teacher"] if soft is not None else None
    if fused_head and _fusable_head(head):
        import torch

        dtype = compute_dtype("cpu", picked.dtype)
        weight = head.weight if head.weight.dtype == dtype else head.weight.to(dtype)  # once, not per piece
        if teacher is not None:
            teacher = teacher.to(dtype)
        flags = torch.empty(n, dtype=torch.bool) if said is not None else None
        total = _head_loss_function().apply(picked.to(dtype), weight, y, teacher, soft, flags)
        if flags is not None:
            said.append(flags)
        return total / n, n
    if said is not None:
        said.append(_said(head, picked, y))
    if teacher is None:  # a trained, biased or GPU head: autograd through its logits
        total = _chunked(_head_ce, head, picked, y)
    else:
        hard, some = soft == 0, soft > 0
        total = (_chunked(_head_ce, head, picked[hard], y[hard])
                 + _mixed(head, picked[some], teacher[some].to(picked.dtype), y[some], soft[some]))
    return total / n, n


def packs_rows(model: Any) -> bool:
    """answer_loss packs this model's batches into one row (core/training/data.packed), each example computed on
    its own by our CPU attention (core/training/attention.py), so padding costs nothing. On the realistic dev
    set's training data as it was then (session 25, with questions that carry passages in their prompt, off by
    default since session 28) a fifth of the padded batches' tokens were pads (66,119 real of 81,602 per epoch),
    most in the batches that hold such a question (~450 tokens) beside short ones."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return (getattr(base.config, "_attn_implementation", None) == CPU_ATTENTION
            and whole_model_reason(base) is None)


def shares_prefix(config: Any) -> bool:
    """Whether packed rows hold their examples' shared prompt once (data.shared_prefix), for a model with this
    config. Only where every layer attends to the whole sequence: a sliding window counts distances in the
    packed row, where a later example sits further from the prefix than it would in its own row. Attention
    dropout, fp16 or anything else our attention declines goes to SDPA with a mask that shows the prefix.
    A multimodal wrapper keeps its layers' kinds in its text config."""
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    types = getattr(config, "layer_types", None)
    if types:
        return all(t == "full_attention" for t in types)
    return getattr(config, "sliding_window", None) is None or getattr(config, "use_sliding_window", True) is False


def prompt_rows(model: Any, rows: Sequence[Any]) -> list[tuple[list[int], list[int]]] | None:
    """(input_ids, labels) of these Encoded examples where a packed batch of them computes their shared prompt
    once (shares_prefix), for the clock and the estimate to count it (core/training/eta.batch_shared); None
    where the loss does not share."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return planned_prompt_rows(packs_rows(base), base.config, rows)


def planned_prompt_rows(packs: bool, config: Any, rows: Sequence[Any]) -> list[tuple[list[int], list[int]]] | None:
    """prompt_rows before a model is loaded, from its config: `packs`, whether its run packs the rows (a CPU
    run: packs_rows). The one rule the pre-flight estimate and bench/train_speed.py plan with."""
    if not (packs and shares_prefix(config)):
        return None
    return [(e.input_ids, e.labels) for e in rows]


ROW_MULTIPLE = 32
"""Packed rows are made up to a multiple of this many tokens. Every matmul of a step has the row's length as
its first size, and oneDNN (PyTorch's CPU matmul) builds a kernel for each new size it meets (~2 ms, ~0.8 MB
each) and keeps the last 1,024: on the realistic benchmark's run a step's ~20 matmul shapes at ~100 lengths
overflowed that, and the steps kept rebuilding kernels. Made up to multiples of 32, the lengths of a run fit:
an eager step in that run's second epoch took 488 ms instead of 541 (two threads, Intel Xeon with AMX, one run
each, session 37), with a lower peak RSS (3.09 against 3.23 GB); multiples of 16 and 64 gained less."""


def row_multiple(model_dtype: Any) -> int:
    """ROW_MULTIPLE where the step's matmuls run in bf16 or fp16 (oneDNN's kernels); 1 in fp32, whose matmuls
    PyTorch sends to its BLAS, which builds nothing per size (checked: no oneDNN kernel for 10 new fp32 sizes),
    so a filler there would be only extra tokens (a CPU without bf16, where training runs in fp32)."""
    import torch

    return 1 if compute_dtype("cpu", model_dtype) == torch.float32 else ROW_MULTIPLE


def _packs(base: Any, batch: dict[str, Any]) -> bool:
    """Batches without padding are packed too, so every step has one shape, (1, tokens), and torch.compile
    does not compile a second."""
    mask = batch["attention_mask"]
    return mask.shape[0] > 1 and mask.device.type == "cpu" and packs_rows(base)


def compute_dtype(device_type: str, default: Any) -> Any:
    """The dtype autocast would compute a matmul in here, else `default`: what our own kernels,
    which run outside autocast, cast their operands to."""
    import torch

    return torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else default


def autocast_for(precision: str, device: str) -> Any:
    """bf16 autocast where base weights are bf16 (or NF4 computing in bf16)."""
    import contextlib

    import torch

    if precision in ("bf16", "nf4_bf16"):
        return torch.autocast(device_type="cuda" if device == "cuda" else "cpu", dtype=torch.bfloat16)
    if precision == "fp16":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()
