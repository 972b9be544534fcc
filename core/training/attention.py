"""Causal self-attention for training on a CPU: SDPA's forward, and a backward of our own, a slice of heads
at a time.

Why not SDPA's backward: on a CPU, PyTorch's fused (flash) attention is quick forward but
its backward is not. Measured on this 2-core machine, one thread, bf16, the
demo model's shape (batch 4, 9 query / 3 key-value heads, head size 64):

    tokens    SDPA fwd+bwd    this fwd+bwd
      130       20.4 ms          9.5 ms
      264       45.5 ms         25.3 ms
      384       72.4 ms         45.1 ms

In a training step that was ~21% of the time, as much as every elementwise op
together. Plain batched matmuls do better if the (T × T) scores never leave the
cache: the memory bandwidth here is ~9 GB/s, so a full fp32 score tensor makes
each elementwise pass cost more than the matmuls. So each piece of work is one
key/value head of one sequence (its `groups` query heads stacked: no repeat_kv
copy), sized to ~512 KB of bf16 scores, and the backward recomputes those
scores instead of storing them — peak memory stays what SDPA's is.

The forward was built the same way until session 37, which measured it on a
2-core Intel Xeon with AMX, two threads, one example of 100 / 150 / 300 tokens:
139 / 265 / 745 µs against SDPA's 83 / 134 / 388, and 0.42% from fp64 on the
demo model's real q/k/v against SDPA's 0.18%. The backward needs nothing the
forward kept (it recomputes the scores), so the forward is SDPA's own.

Numerics of the backward match SDPA's bf16 path: relative error against an
fp32 reference of 0.4–0.5% (SDPA bf16: 0.3–0.6%); softmax and its backward
compute in fp32 inside the kernel. Anything other than plain causal self-attention (a padding
mask, sliding windows, dropout, a KV cache, soft-capping) goes to SDPA unchanged.

Packed rows (core/training/data.packed: a batch's examples end to end in one
row, positions restarting at each) are causal attention within each example:
transformers states that as a block-causal mask built from the position ids,
and where the mask is exactly that, each example is computed here on its own,
so the rows' padding is neither multiplied nor attended. A packed row may
also hold its examples' shared prompt once (data.packed `share`): the first
example's positions start at 0, every later one's where that prefix ends, and
each later example attends to the prefix and then to itself.

It is a torch custom op so that torch.compile keeps it whole inside a
compiled layer instead of tracing (and re-specialising on) its loop.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)

NAME = "tunedesk_cpu"
SCORE_BYTES = 1 << 19
"""Size of one piece of scores: ~512 KB, about a core's L2 here (1–2 MB on current x86 and Apple cores)."""

_registered = False
_packed_bounds: Any = None
"""packed_bounds, run eagerly under torch.compile (register sets it): its checks read tensors' values."""


@functools.lru_cache(maxsize=8)
def _mask(length: int, groups: int, dtype: Any) -> Any:
    """(gT, T) additive causal mask. Every layer of a step's backward asks for the same ones
    (only read: baddbmm's input): one per length, a packed row's examples each having theirs (a batch
    holds up to batch_size lengths), so a few are kept: at most ~20 MB (bf16, 640 tokens)."""
    import torch

    above = torch.ones(length, length, dtype=torch.bool).triu_(1)
    return torch.zeros(length, length, dtype=dtype).masked_fill_(above, float("-inf")).repeat(groups, 1)  # (gT, T)


def _per_piece(groups: int, length: int, itemsize: int) -> int:
    return max(1, SCORE_BYTES // (groups * length * length * itemsize))


def _segments(bounds: Any) -> list[tuple[int, int]]:
    edges = bounds.tolist()
    return list(zip(edges[:-1], edges[1:]))


def _int(prefix: Any) -> int:
    return int(prefix) if prefix is not None else 0


def _with_prefix(x: Any, part: slice, prefix: int) -> Any:
    """A later example's rows with the shared prefix before them: the sequence it attends over."""
    import torch

    return torch.cat([x[:, :, :prefix], x[:, :, part]], 2) if prefix else x[:, :, part]


def _forward(q: Any, k: Any, v: Any, scale: float, bounds: Any = None, prefix: int = 0) -> Any:
    """Causal attention of (B, H, T, D) rows, or of each example of a packed row (`bounds`: where each
    starts, then the row's end; `prefix`: tokens at the row's start that every later example also attends
    to). A later example is computed as the causal attention of prefix + example, of which its own rows are
    kept: the prefix's few query rows are computed again, the layers' work on them is not."""
    import torch

    if bounds is None:
        return _forward_rows(q, k, v, scale)
    out = torch.empty_like(q)
    for i, (start, end) in enumerate(_segments(bounds)):
        part, extra = slice(start, end), prefix if i else 0
        rows = _forward_rows(*(_with_prefix(x, part, extra) for x in (q, k, v)), scale)
        out[:, :, part] = rows[:, :, extra:]
    return out


def _backward(grad: Any, q: Any, k: Any, v: Any, scale: float, bounds: Any = None,
              prefix: int = 0) -> tuple[Any, Any, Any]:
    """_forward's gradients; the prefix's keys and values collect what every example sent them."""
    import torch

    if bounds is None:
        return _backward_rows(grad, q, k, v, scale)
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    for i, (start, end) in enumerate(_segments(bounds)):
        part, extra = slice(start, end), prefix if i else 0
        g = _with_prefix(grad, part, extra)
        if extra:
            g[:, :, :extra] = 0  # the prefix's rows were computed again, not output: nothing flows from them
        pq, pk, pv = _backward_rows(g, *(_with_prefix(x, part, extra) for x in (q, k, v)), scale)
        dq[:, :, part], dk[:, :, part], dv[:, :, part] = pq[:, :, extra:], pk[:, :, extra:], pv[:, :, extra:]
        if extra:  # the first example's segment holds the prefix and wrote its gradients first
            dk[:, :, :extra] += pk[:, :, :extra]
            dv[:, :, :extra] += pv[:, :, :extra]
    return dq, dk, dv


def _forward_rows(q: Any, k: Any, v: Any, scale: float) -> Any:
    """SDPA's own causal kernel: its forward is the quick half (see the module's note), and closer to fp32."""
    import torch

    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale,
                                                            enable_gqa=q.shape[1] != k.shape[1])


def _backward_rows(grad: Any, q: Any, k: Any, v: Any, scale: float) -> tuple[Any, Any, Any]:
    import torch

    batch, heads, length, dim = q.shape
    kv_heads = k.shape[1]
    groups = heads // kv_heads
    qg = q.reshape(batch * kv_heads, groups * length, dim)
    kg, vg = k.reshape(batch * kv_heads, length, dim), v.reshape(batch * kv_heads, length, dim)
    gg = grad.reshape(batch * kv_heads, groups * length, dim)
    dq, dk, dv = torch.empty_like(qg), torch.empty_like(kg), torch.empty_like(vg)
    bias = _mask(length, groups, q.dtype)
    q_scaled, k_scaled = qg * scale, kg * scale  # fold the scale into the small operands, not the (gT, T) ones
    per = _per_piece(groups, length, q.element_size())
    for i in range(0, batch * kv_heads, per):
        part = slice(i, i + per)
        probs = torch.softmax(torch.baddbmm(bias, qg[part], kg[part].transpose(1, 2), alpha=scale), -1)  # recomputed
        torch.bmm(probs.transpose(1, 2), gg[part], out=dv[part])  # keys' groups sum here
        d_scores = torch._softmax_backward_data(torch.bmm(gg[part], vg[part].transpose(1, 2)), probs, -1, probs.dtype)
        torch.bmm(d_scores, k_scaled[part], out=dq[part])
        torch.bmm(d_scores.transpose(1, 2), q_scaled[part], out=dk[part])
    return dq.view(q.shape), dk.view(k.shape), dv.view(v.shape)


def register() -> None:
    """Define the op and add NAME to transformers' attention and mask tables (once per process)."""
    global _registered, _packed_bounds
    if _registered:
        return
    import torch
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    @torch.library.custom_op("tunedesk::causal_attention", mutates_args=(),
                             schema="(Tensor q, Tensor k, Tensor v, float scale, Tensor? bounds=None, Tensor? prefix=None) -> Tensor")
    def causal_attention(q, k, v, scale, bounds=None, prefix=None):
        with torch.autocast("cpu", enabled=False):  # inputs are already in the compute dtype
            return _forward(q.contiguous(), k.contiguous(), v.contiguous(), scale, bounds, _int(prefix))

    @causal_attention.register_fake
    def _(q, k, v, scale, bounds=None, prefix=None):
        return torch.empty_like(q, memory_format=torch.contiguous_format)

    @torch.library.custom_op(
        "tunedesk::causal_attention_backward", mutates_args=(),
        schema="(Tensor grad, Tensor q, Tensor k, Tensor v, float scale, Tensor? bounds=None, Tensor? prefix=None) "
               "-> (Tensor, Tensor, Tensor)")
    def causal_attention_backward(grad, q, k, v, scale, bounds=None, prefix=None):
        with torch.autocast("cpu", enabled=False):
            return _backward(grad.contiguous(), q.contiguous(), k.contiguous(), v.contiguous(), scale, bounds,
                             _int(prefix))

    @causal_attention_backward.register_fake
    def _(grad, q, k, v, scale, bounds=None, prefix=None):
        return (torch.empty_like(q, memory_format=torch.contiguous_format),
                torch.empty_like(k, memory_format=torch.contiguous_format),
                torch.empty_like(v, memory_format=torch.contiguous_format))

    def setup_context(ctx, inputs, output):
        q, k, v, scale, bounds, prefix = inputs
        ctx.save_for_backward(q, k, v, bounds, prefix)
        ctx.scale = scale

    def backward(ctx, grad):
        q, k, v, bounds, prefix = ctx.saved_tensors
        dq, dk, dv = causal_attention_backward(grad, q, k, v, ctx.scale, bounds, prefix)
        return dq, dk, dv, None, None, None

    causal_attention.register_autograd(backward, setup_context=setup_context)
    _packed_bounds = torch.compiler.disable(packed_bounds)
    AttentionInterface.register(NAME, attention_forward)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)  # None for plain causal, a real mask otherwise
    _registered = True


_checked: list[Any] = [None, None, (None, None)]
"""The last mask found block-causal, its position ids and its (bounds, prefix): every layer of a forward is
given the same two."""


def packed_bounds(attention_mask: Any, position_ids: Any) -> tuple[Any, Any]:
    """Where each example of a packed row starts, then the row's end (an int64 tensor), when
    `attention_mask` is exactly causal attention within those examples; else None. And the shared prefix's
    length (data.packed `share`): where every later example's positions start, 0 when they restart at 0,
    as a 0-d tensor (None with no bounds): it differs from batch to batch, and a Python int would be a
    constant that torch.compile compiles the layers again for.
    The mask transformers builds does not let later examples see the prefix: the attention here does
    (and attention_forward gives SDPA a mask that does when it declines).

    The examples are read from the position ids by transformers' own rule (masking_utils
    find_packed_sequence_indices, what built the mask), and the mask is checked whole, so a mask that says
    anything more (a sliding window inside an example, padding) leaves the call to SDPA. Checked once per
    forward, not per layer: outside torch.compile's graphs."""
    import torch
    from transformers.masking_utils import find_packed_sequence_indices

    if _checked[0] is attention_mask and _checked[1] is position_ids:
        return _checked[2]
    none = (None, None)
    if (attention_mask is None or position_ids is None or attention_mask.dtype != torch.bool
            or attention_mask.dim() != 4 or attention_mask.shape[:2] != (1, 1) or position_ids.dim() != 2
            or position_ids.shape[0] != 1 or attention_mask.shape[2:] != (position_ids.shape[1],) * 2):
        return none
    example = find_packed_sequence_indices(position_ids)  # (1, T): which example each token is in
    if example is None:  # one example: its mask is not plain causal, or there would be none
        return none
    example = example[0]
    causal = torch.ones(len(example), len(example), dtype=torch.bool).tril_()
    if not torch.equal(attention_mask[0, 0], causal & (example[:, None] == example[None, :])):
        return none
    bounds = torch.cat([example.new_zeros(1), torch.bincount(example).cumsum(0)])
    firsts = position_ids[0, bounds[:-1]].tolist()  # each example's first position
    prefix = firsts[1] if len(firsts) > 1 else 0
    if firsts[0] != 0 or any(f != prefix for f in firsts[1:]) or prefix >= int(bounds[1]):
        return none  # not a layout data.packed makes
    found = (bounds, torch.tensor(prefix))
    _checked[:] = [attention_mask, position_ids, found]
    return found


def _declined(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, bounds: Any, dropout: float,
              kwargs: dict[str, Any]) -> str | None:
    """Why this call is not plain causal self-attention, or that of a packed row (then SDPA computes it),
    or None."""
    import torch

    if attention_mask is not None and bounds is None:
        return "a mask (padding, or a sliding window shorter than the sequence)"
    if query.device.type != "cpu":
        return f"tensors on {query.device.type}"
    if not query.shape[2] == key.shape[2] > 1:
        return "not a whole sequence at once (a KV cache or a single token)"
    if dropout and module.training:
        return "attention dropout"
    for name in ("softcap", "position_bias", "cache"):
        if kwargs.get(name) is not None:
            return f"{name} (soft-capped logits, a position bias or a cache)"
    if not (query.dtype in (torch.bfloat16, torch.float32) and query.dtype == key.dtype == value.dtype):
        return f"dtypes {query.dtype}/{key.dtype}/{value.dtype}"
    if query.shape[1] % key.shape[1]:
        return "query heads not a multiple of key-value heads"
    if not getattr(module, "is_causal", True):
        return "bidirectional attention"
    return None


@functools.lru_cache(maxsize=None)
def _log_once(owner: str, reason: str) -> None:
    log.info("CPU attention: %s layers go to SDPA here: %s", owner, reason)


def attention_forward(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, dropout: float = 0.0,
                      scaling: float | None = None, **kwargs: Any) -> tuple[Any, None]:
    """transformers' attention signature; (B, H, T, D) in, (B, T, H, D) out like its SDPA path."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    bounds, prefix = None, None
    if attention_mask is not None and query.device.type == "cpu":
        bounds, prefix = _packed_bounds(attention_mask, kwargs.get("position_ids"))
    reason = _declined(module, query, key, value, attention_mask, bounds, dropout, kwargs)
    if reason is not None:
        _log_once(type(module).__name__, reason)
        if prefix is not None:  # transformers' block mask hides a shared prefix from the later examples: show it
            rows = torch.arange(query.shape[2], device=query.device)
            attention_mask = attention_mask | ((rows[:, None] >= bounds[1]) & (rows[None, :] < prefix))
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    out = torch.ops.tunedesk.causal_attention(query, key, value, float(scale), bounds, prefix)
    return out.transpose(1, 2).contiguous(), None


def attention_declined(model: Any) -> str | None:
    """Why `model` keeps its own attention, or None when use_for_training switches it. A model loaded with
    another attention than SDPA (Gemma 2 loads eager: SDPA has no soft-capping) keeps it. Also asked of a
    weightless copy (core/support.py): transformers picks the attention when it builds the model."""
    config = getattr(model, "config", None)
    implementation = getattr(config, "_attn_implementation", None)
    if config is None or implementation != "sdpa":
        return f"{type(model).__name__} uses {implementation} attention, not SDPA (that is what it replaces)"
    return None


def use_for_training(model: Any) -> bool:
    """Switch a CPU model that uses SDPA to this attention; True if it did. Otherwise it keeps its own
    (attention_declined), and the log says why."""
    reason = attention_declined(model)
    if reason is not None:
        log.info("CPU attention declined: %s", reason)
        return False
    register()
    model.set_attn_implementation(NAME)
    return True
