"""A lean forward pass for chat on Llama-family models (Llama, Mistral, Qwen2, Qwen3, SmolLM2).

Decoding one token of the demo model reads 135 MB of int8 weights, ~15 ms at this
machine's ~9 GB/s, yet transformers' forward took ~42 ms per token: most of a
step was Python and dispatch around 30 layers of small ops (cache objects, mask
building, module hooks, dtype checks), not arithmetic. This pass does the same
arithmetic with fewer ops: a preallocated KV cache written in place, rotary
tables computed once and applied to q and k together, RMSNorm as one fused op,
q/k/v and gate/up each as one int8 kernel call over their stacked rows, and each
Linear called through its kernel directly (int8 rows through
`_weight_int8pack_mm`, a switched layer through whichever side the switch
picks). The weights are the model's own, re-pointed into the stacked copies, not
duplicated.

A prompt is read exactly as transformers reads it (same ops, same dtype: tests
check bit-identical logits). Each decoded token's attention runs in fp32 over an
fp32 cache: bf16 matmuls and SDPA build a new oneDNN kernel for every new length
on a CPU (~200 µs a call, 30 calls a token). Its logits differ from transformers'
step-by-step decode by no more than that decode differs from transformers' own
full-sequence forward (tests/test_chat.py, and tests/test_model_families.py on a
tiny model of each family). Anything else (another architecture, rope scaling
with a position-dependent update, another activation, a sliding window) keeps
the transformers path: `lean_decoder` returns None for it and logs why.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from core.chat.quantize import PREFILL_ROWS, int8_rows, kernel_dtype

log = logging.getLogger(__name__)

SUPPORTED = {"llama", "mistral", "qwen2", "qwen3"}  # qwen3: Llama's layer plus an RMSNorm over each q and k head
STEADY_ROPE = {"default", "linear", "llama3", "yarn"}  # inv_freq fixed once computed (not "dynamic")


def lean_declined(config: Any) -> str | None:
    """Why the lean pass would not compute what transformers computes for this config, or None.

    It is written for one shape of model: pre-norm RMSNorm (x·w), rotary q/k with a fixed table,
    full causal attention, a SiLU-gated MLP. Anything else is declined here, before any weight is
    touched: Gemma's x·(1+w) norms, scaled embeddings and GELU and Phi-3's fused projections are
    other architectures; a Llama-type config with another activation, or a sliding
    window shorter than a conversation can grow (Mistral v0.1's 4096), would be silently wrong."""
    model_type = getattr(config, "model_type", None)
    if model_type not in SUPPORTED:
        return f"{model_type} is not one of the architectures it implements ({', '.join(sorted(SUPPORTED))})"
    rope = (getattr(config, "rope_parameters", None) or {}).get("rope_type", "default")
    if rope not in STEADY_ROPE:
        return f"{rope} rope updates its table with the position"
    if getattr(config, "hidden_act", "silu") not in ("silu", "swish"):
        return f"a {config.hidden_act} MLP (it computes SiLU)"
    window = getattr(config, "sliding_window", None)
    if getattr(config, "use_sliding_window", False) or (window and window < (config.max_position_embeddings or 0)):
        return f"sliding-window attention ({window} tokens; its cache attends to every position)"
    return None


def lean_decoder(model: Any) -> "LeanDecoder | None":
    """The lean pass over `model`, or None (the log says why): transformers' forward then answers."""
    config = getattr(model, "config", None)
    reason = lean_declined(config)
    if reason is None:
        try:
            return LeanDecoder(model)
        except (AttributeError, TypeError) as exc:  # a layer it has no kernel for
            reason = f"{type(exc).__name__}: {exc}"
    log.info("Lean chat decoder declined: %s; transformers' forward decodes instead", reason)
    return None


def _kernel(module: Any) -> Callable[[Any, bool], Any]:
    """f(x2d, tuned) → y2d for a Linear, an int8 Linear (core/chat/quantize.py) or a switched pair."""
    import torch

    if hasattr(module, "tuned") and hasattr(module, "original"):  # core/chat/switch.py SwitchedLinear
        tuned, original = _kernel(module.tuned), _kernel(module.original)
        return lambda x, on: tuned(x, on) if on else original(x, on)
    if isinstance(module, torch.nn.Linear):
        weight, bias = module.weight, module.bias
        return lambda x, on: torch.nn.functional.linear(x, weight, bias)
    if _int8(module):
        run = _int8_matmul(module.weight, module.scale, module.bias, module.forward)  # a prompt: the module's GEMM
        return lambda x, on: run(x)
    raise TypeError(f"no lean kernel for {type(module).__name__}")


def _int8_matmul(weight: Any, scale: Any, bias: Any, prompt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """x2d → x · (int8 weight × per-row scale)ᵀ + bias through the fused row kernel, for decoding;
    `prompt(x)` for more than PREFILL_ROWS rows, where the kernel is slower than a GEMM."""
    scales: dict[Any, Any] = {}  # the scale in each dtype the kernel is fed, cast once

    def run(x: Any) -> Any:
        if x.shape[0] > PREFILL_ROWS:
            return prompt(x)
        rows = kernel_dtype(x.dtype)
        s = scales.get(rows)
        if s is None:
            s = scales[rows] = scale.to(rows)
        return int8_rows(x, weight, s, bias)
    return run


def _side(module: Any, tuned: bool) -> Any:
    """The module that answers for one side of the switch (an unswitched layer answers for both)."""
    if hasattr(module, "tuned") and hasattr(module, "original"):
        return module.tuned if tuned else module.original
    return module


def _int8(module: Any) -> bool:
    import torch

    return getattr(module, "weight", None) is not None and module.weight.dtype == torch.int8 and hasattr(module, "scale")


def _fused_kernel(modules: list[Any], repointed: set[int]) -> Callable[[Any, bool], Any]:
    """f(x2d, tuned) → the outputs of several Linears that read the same input, side by side.

    q, k and v (and gate and up) read the same normalised row. One int8 kernel call over
    their stacked rows reads the same bytes as three calls, but a decode step is mostly
    per-call overhead (211 calls a token on the demo model; 121 fused), and the per-row
    int8 arithmetic is the same, so the outputs are exactly those of the separate calls.
    The modules' own buffers are re-pointed into the stacked tensor: no second copy."""
    import torch

    def one_by_one(x: Any, on: bool) -> Any:
        return torch.cat([k(x, on) for k in separate], dim=-1)

    def side(on: bool) -> Callable[[Any, bool], Any] | None:
        parts = [_side(m, on) for m in modules]
        if not all(_int8(p) for p in parts):
            return None
        weight = torch.cat([p.weight for p in parts])
        scale = torch.cat([p.scale for p in parts])
        biases = [p.bias for p in parts]
        bias = None if all(b is None for b in biases) else torch.cat(
            [b.detach() if b is not None else torch.zeros(p.out_features, dtype=scale.dtype)
             for b, p in zip(biases, parts)])
        row = 0
        for p in parts:
            if id(p) not in repointed:  # the module now reads its rows of the stacked copy
                repointed.add(id(p))
                p._buffers["weight"] = weight[row:row + p.out_features]
                p._buffers["scale"] = scale[row:row + p.out_features]
            row += p.out_features
        run = _int8_matmul(weight, scale, bias, lambda x: one_by_one(x, on))  # a prompt: each module's own GEMM
        return lambda x, _on: run(x)

    tuned = side(True)
    switched = any(_side(m, True) is not _side(m, False) for m in modules)
    original = side(False) if switched else tuned
    # Only now: a kernel holds its module's weight, and must hold the re-pointed rows, not the old
    # tensor (which would otherwise stay alive beside the stacked copy).
    separate = [_kernel(m) for m in modules]
    if tuned is None or original is None:
        return one_by_one
    return lambda x, on: tuned(x, on) if on else original(x, on)


SHORTLIST = 256
"""Head rows scored exactly per token: the int4 pass only has to rank the right ones this high."""
GROUP = 32  # int4 group size along the hidden size (GGUF's Q4_1 uses 32 too)


def _shortlist_head(module: Any) -> Callable[[Any, bool], Any] | None:
    """f(x2d, tuned) → logits for one row, exact where it matters, a quarter of the bytes elsewhere.

    The head is a fifth of the bytes a decoded token reads (49 k × 576 on the demo model)
    and one thread reads it as int8 in ~6 ms; its int4 copy takes ~2 ms. Int4 alone
    breaks answers ("L'Étoile is the capital of France"), so it only ranks: the 256
    rows it scores highest are scored again by the int8 kernel, and those exact values
    replace the estimates. Greedy picks, and sampling's top-p mass, come from exact
    logits unless the int8 winner ranked below 256 in int4, which a few tenths of a
    logit of int4 error does not do. Other rows keep their int4 estimate, so a
    repetition penalty or temperature still sees a whole, nearly exact distribution."""
    import torch

    aten = torch.ops.aten
    if (not _int8(module) or getattr(module, "bias", None) is not None
            or not all(hasattr(aten, op) for op in ("_weight_int4pack_mm_for_cpu", "_convert_weight_to_int4pack_for_cpu"))
            or module.in_features % GROUP or module.out_features < 8 * SHORTLIST):
        return None
    exact = _kernel(module)
    try:
        packed, scales_zeros = _int4_rows(module.weight, module.scale)
    except RuntimeError:  # a torch build whose int4 CPU kernels refuse this shape: the exact head it is
        return None
    rows, row_scale = module.weight, module.scale
    cast: dict[Any, Any] = {}

    def head(x: Any, on: bool) -> Any:
        if x.shape[0] != 1:
            return exact(x, on)
        fed = kernel_dtype(x.dtype)  # the int8 Linear's own rounding, so the shortlist scores as it does
        sz = cast.get(fed)
        if sz is None:
            sz = cast[fed] = (scales_zeros.to(fed), row_scale.to(fed))
        row = x.to(fed)
        logits = aten._weight_int4pack_mm_for_cpu(row, packed, GROUP, sz[0])
        best = logits[0].topk(SHORTLIST).indices
        logits[0, best] = aten._weight_int8pack_mm(row, rows[best], sz[1][best])[0]
        return logits.to(x.dtype)
    return head


def _int4_rows(weight: Any, scale: Any, rows: int = 8192) -> tuple[Any, Any]:
    """An int4 copy (group-wise min/max, GROUP along the hidden size) of an int8 matrix, built a
    block of rows at a time: a 128 k-row head never needs a whole fp32 copy in memory at once.
    Packing is per row, so packed blocks stacked are the packed whole."""
    import torch

    packed, scales_zeros = [], []
    for start in range(0, weight.shape[0], rows):
        block = weight[start:start + rows].float() * scale[start:start + rows].float()[:, None]
        groups = block.reshape(block.shape[0], -1, GROUP)
        low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
        step = ((high - low) / 15).clamp(min=1e-6)
        codes = ((groups - low) / step).round().clamp(0, 15).to(torch.int32).reshape(block.shape)
        packed.append(torch.ops.aten._convert_weight_to_int4pack_for_cpu(codes, 2))
        zeros = low + 8 * step  # the kernel computes (code - 8) × scale + zero
        scales_zeros.append(torch.cat([step, zeros], dim=-1).transpose(0, 1))  # (D / GROUP, rows, 2)
    return torch.cat(packed), torch.cat(scales_zeros, dim=1).contiguous()


class LeanDecoder:
    def __init__(self, model: Any) -> None:
        import torch

        config, inner = model.config, model.model
        self.model = model
        self.heads = config.num_attention_heads
        self.kv_heads = getattr(config, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.scale = self.head_dim ** -0.5
        self.eps = config.rms_norm_eps
        self.embed = inner.embed_tokens
        self.norm = inner.norm.weight
        self.head = _shortlist_head(model.lm_head) or _kernel(model.lm_head)
        self.rotary = inner.rotary_emb
        self.layers = []
        repointed: set[int] = set()
        for layer in inner.layers:
            attn, mlp = layer.self_attn, layer.mlp
            self.layers.append((layer.input_layernorm.weight,
                                _fused_kernel([attn.q_proj, attn.k_proj, attn.v_proj], repointed),
                                _kernel(attn.o_proj), layer.post_attention_layernorm.weight,
                                _fused_kernel([mlp.gate_proj, mlp.up_proj], repointed), _kernel(mlp.down_proj),
                                self._head_norms(attn)))
        self.intermediate = model.config.intermediate_size
        self.dtype = self.embed.weight.dtype
        self.device = self.embed.weight.device
        self.max_positions = int(getattr(config, "max_position_embeddings", None) or 4096)  # a first cache's cap
        self._rope_cache: tuple[Any, Any] | None = None
        self._torch = torch

    def _head_norms(self, attn: Any) -> Any:
        """Qwen3 normalises each q and k head (over head_dim) before rotating it: one weight row per head of
        q then of k, so the q and k rows of a token are normalised together as they are rotated together.
        None for a model without them."""
        q_norm, k_norm = getattr(attn, "q_norm", None), getattr(attn, "k_norm", None)
        if q_norm is None and k_norm is None:
            return None
        weights = (q_norm.weight.expand(self.heads, -1), k_norm.weight.expand(self.kv_heads, -1))
        import torch

        return torch.cat(weights).detach()  # (heads + kv_heads, head_dim)

    def _rope(self, length: int) -> tuple[Any, Any]:
        """cos, sin for positions [0, length), computed by the model's own rotary module and kept."""
        if self._rope_cache is None or self._rope_cache[0].shape[0] < length:
            size = max(length, 1024)
            positions = self._torch.arange(size, device=self.device)[None]
            probe = self._torch.zeros(1, dtype=self.dtype, device=self.device)
            cos, sin = self.rotary(probe, positions)
            self._rope_cache = (cos[0], sin[0])
        return self._rope_cache

    def new_cache(self, capacity: int) -> "LeanCache":
        return LeanCache(self, min(capacity, self.max_positions))

    def forward(self, ids: list[int], cache: "LeanCache", tuned: bool = True) -> Any:
        """Logits (V,) for the last of `ids`, which follow the `cache.length` positions already read."""
        torch = self._torch
        F = torch.nn.functional
        start, count = cache.length, len(ids)
        end = start + count
        cache.reserve(end)
        x = self.embed(torch.tensor(ids, device=self.device))  # (T, D)
        cos, sin = self._rope(end)
        cos, sin = cos[start:end, None, :], sin[start:end, None, :]  # (T, 1, d)
        half, heads, kv_heads = self.head_dim // 2, self.heads, self.kv_heads
        mask = None
        if count > 1 and start > 0:  # new rows see all cached positions and the earlier new ones
            mask = torch.ones(count, end, dtype=torch.bool, device=self.device).tril(diagonal=start)
        for n, (ln1, qkv_proj, o_proj, ln2, gate_up, down, head_norms) in enumerate(self.layers):
            h = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps).to(self.dtype) * ln1
            qkv = qkv_proj(h, tuned).view(count, heads + 2 * kv_heads, self.head_dim)
            qk, v = qkv[:, :heads + kv_heads], qkv[:, heads + kv_heads:]
            if head_norms is not None:
                qk = F.rms_norm(qk.float(), (self.head_dim,), eps=self.eps).to(self.dtype) * head_norms
            qk = qk * cos + torch.cat((-qk[..., half:], qk[..., :half]), dim=-1) * sin  # q and k rotated at once
            q, k = qk[:, :heads], qk[:, heads:]
            keys, values = cache.keys[n], cache.values[n]  # (kv_heads, capacity, d)
            keys[:, start:end].copy_(k.transpose(0, 1))
            values[:, start:end].copy_(v.transpose(0, 1))
            if count == 1:
                # One new row: two fp32 matmuls over the cache. SDPA, or a bf16 bmm, builds a new
                # oneDNN kernel for every new length: ~200 µs a call, a fifth of a decode step.
                grouped = (q.float() * self.scale).view(kv_heads, heads // kv_heads, self.head_dim)
                scores = torch.bmm(grouped, keys[:, :end].transpose(1, 2))
                attn = torch.bmm(torch.softmax(scores, dim=-1), values[:, :end]).view(1, -1).to(self.dtype)
            else:  # a prompt: in the model's dtype, as transformers computes it (the cache holds exact upcasts)
                k_all, v_all = keys[None, :, :end].to(self.dtype), values[None, :, :end].to(self.dtype)
                attn = F.scaled_dot_product_attention(q.transpose(0, 1)[None], k_all, v_all, attn_mask=mask,
                                                      is_causal=start == 0, enable_gqa=kv_heads != heads)
                attn = attn[0].transpose(0, 1).reshape(count, -1)
            x = x + o_proj(attn, tuned)
            h = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps).to(self.dtype) * ln2
            both = gate_up(h, tuned)
            x = x + down(F.silu(both[:, :self.intermediate]) * both[:, self.intermediate:], tuned)
        cache.length = end
        last = F.rms_norm(x[-1:].float(), (x.shape[-1],), eps=self.eps).to(self.dtype) * self.norm
        return self.head(last, tuned)[0]


class LeanCache:
    """Keys and values per layer, (kv_heads, capacity, head_dim), grown by doubling when a reply runs long.

    Held in fp32 (twice bf16's bytes, 46 KB a position on the demo model): the decode step's
    attention then runs on fp32 matmuls, which unlike bf16 ones cost no kernel build per length."""

    def __init__(self, decoder: LeanDecoder, capacity: int) -> None:
        self.decoder = decoder
        self.length = 0
        self.keys: list[Any] = []
        self.values: list[Any] = []
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        d = self.decoder
        torch = d._torch
        shape = (d.kv_heads, capacity, d.head_dim)
        old_k, old_v = self.keys, self.values
        self.keys = [torch.empty(shape, dtype=torch.float32, device=d.device) for _ in d.layers]
        self.values = [torch.empty(shape, dtype=torch.float32, device=d.device) for _ in d.layers]
        for new, old in zip(self.keys + self.values, old_k + old_v):
            new[:, : self.length].copy_(old[:, : self.length])
        self.capacity = capacity

    def reserve(self, length: int) -> None:
        if length > self.capacity:
            self._allocate(max(length, 2 * self.capacity))
