"""A lean forward pass for chat on Llama-family models (Llama, Mistral, Qwen2, SmolLM2).

Decoding one token of the demo model reads 135 MB of int8 weights, ~15 ms at this
machine's ~9 GB/s, yet transformers' forward took ~42 ms per token: most of a
step was Python and dispatch around 30 layers of small ops (cache objects, mask
building, module hooks, dtype checks), not arithmetic. This pass does the same
arithmetic with fewer ops: a preallocated KV cache written in place, rotary
tables computed once, RMSNorm as one fused op, and each Linear called through
its kernel directly (int8 rows through `_weight_int8pack_mm`, a switched layer
through whichever side the switch picks). The weights are the model's own
modules, shared, not copied.

Numerics follow transformers' Llama code step by step (norm in fp32, rotary in
the model's dtype, SDPA with grouped KV heads); tests/test_chat.py checks that
greedy answers come out token for token the same. Anything else (another
architecture, rope scaling with a position-dependent update) keeps the
transformers path: `lean_decoder` returns None for it.
"""

from __future__ import annotations

from typing import Any, Callable

SUPPORTED = {"llama", "mistral", "qwen2"}
STEADY_ROPE = {"default", "linear", "llama3", "yarn"}  # inv_freq fixed once computed (not "dynamic")


def lean_decoder(model: Any) -> "LeanDecoder | None":
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) not in SUPPORTED:
        return None
    rope = (getattr(config, "rope_parameters", None) or {}).get("rope_type", "default")
    if rope not in STEADY_ROPE or getattr(config, "use_sliding_window", False):
        return None  # dynamic rope or Qwen2's sliding windows: leave it to transformers
    try:
        return LeanDecoder(model)
    except (AttributeError, TypeError):
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
    if getattr(module, "weight", None) is not None and module.weight.dtype == torch.int8:
        weight, bias, forward = module.weight, module.bias, module.forward
        scales: dict[Any, Any] = {}

        def int8(x: Any, on: bool) -> Any:
            if x.shape[0] > 16:  # a prompt: the module's GEMM path
                return forward(x)
            scale = scales.get(x.dtype)
            if scale is None:
                scale = scales[x.dtype] = module.scale.to(x.dtype)
            y = torch.ops.aten._weight_int8pack_mm(x, weight, scale)
            return y if bias is None else y + bias.to(y.dtype)
        return int8
    raise TypeError(f"no lean kernel for {type(module).__name__}")


class LeanDecoder:
    def __init__(self, model: Any) -> None:
        import torch

        config, inner = model.config, model.model
        self.model = model
        self.heads = config.num_attention_heads
        self.kv_heads = getattr(config, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.eps = config.rms_norm_eps
        self.embed = inner.embed_tokens
        self.norm = inner.norm.weight
        self.head = _kernel(model.lm_head)
        self.rotary = inner.rotary_emb
        self.layers = []
        for layer in inner.layers:
            attn, mlp = layer.self_attn, layer.mlp
            self.layers.append((layer.input_layernorm.weight, _kernel(attn.q_proj), _kernel(attn.k_proj),
                                _kernel(attn.v_proj), _kernel(attn.o_proj), layer.post_attention_layernorm.weight,
                                _kernel(mlp.gate_proj), _kernel(mlp.up_proj), _kernel(mlp.down_proj)))
        self.dtype = self.embed.weight.dtype
        self.device = self.embed.weight.device
        # Mistral's sliding window changes nothing up to its length, so a conversation stops there.
        windows = [getattr(config, "max_position_embeddings", None), getattr(config, "sliding_window", None)]
        self.max_positions = int(min([w for w in windows if w] or [4096]))
        self._rope_cache: tuple[Any, Any] | None = None
        self._torch = torch

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
        half = self.head_dim // 2
        mask = None
        if count > 1 and start > 0:  # new rows see all cached positions and the earlier new ones
            mask = torch.ones(count, end, dtype=torch.bool, device=self.device).tril(diagonal=start)
        for n, (ln1, q_proj, k_proj, v_proj, o_proj, ln2, gate, up, down) in enumerate(self.layers):
            h = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps).to(self.dtype) * ln1
            q = q_proj(h, tuned).view(count, self.heads, self.head_dim)
            k = k_proj(h, tuned).view(count, self.kv_heads, self.head_dim)
            v = v_proj(h, tuned).view(count, self.kv_heads, self.head_dim)
            q = q * cos + torch.cat((-q[..., half:], q[..., :half]), dim=-1) * sin
            k = k * cos + torch.cat((-k[..., half:], k[..., :half]), dim=-1) * sin
            keys, values = cache.keys[n], cache.values[n]  # (kv_heads, capacity, d)
            keys[:, start:end].copy_(k.transpose(0, 1))
            values[:, start:end].copy_(v.transpose(0, 1))
            attn = F.scaled_dot_product_attention(
                q.transpose(0, 1)[None], keys[None, :, :end], values[None, :, :end], attn_mask=mask,
                is_causal=count > 1 and start == 0, enable_gqa=self.kv_heads != self.heads)
            x = x + o_proj(attn[0].transpose(0, 1).reshape(count, -1), tuned)
            h = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps).to(self.dtype) * ln2
            x = x + down(F.silu(gate(h, tuned)) * up(h, tuned), tuned)
        cache.length = end
        last = F.rms_norm(x[-1:].float(), (x.shape[-1],), eps=self.eps).to(self.dtype) * self.norm
        return self.head(last, tuned)[0]


class LeanCache:
    """Keys and values per layer, (kv_heads, capacity, head_dim), grown by doubling when a reply runs long."""

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
        self.keys = [torch.empty(shape, dtype=d.dtype, device=d.device) for _ in d.layers]
        self.values = [torch.empty(shape, dtype=d.dtype, device=d.device) for _ in d.layers]
        for new, old in zip(self.keys + self.values, old_k + old_v):
            new[:, : self.length].copy_(old[:, : self.length])
        self.capacity = capacity

    def reserve(self, length: int) -> None:
        if length > self.capacity:
            self._allocate(max(length, 2 * self.capacity))
