"""Weight-only int8 for chat on a CPU: half the bytes of bf16 read per generated token.

Decoding one token reads every weight once, so on a CPU it is bound by memory
bandwidth, not arithmetic: the demo model's 135 M parameters in bf16 are 270 MB
per token, which at the ~9 GB/s this kind of machine streams caps decode near
33 tokens/s. Held as int8 with one bf16 scale per output row (symmetric,
per-channel), each Linear reads half as much, and torch's fused CPU kernel
(`aten._weight_int8pack_mm`, the one torchao's int8 weight-only mode uses)
multiplies without ever materialising a bf16 copy. Activations stay bf16, so
there is no activation-quantisation error; per-row int8 of a weight is within
0.4% of its largest value, and greedy answers come out the same or nearly so
(bench/chat_speed.py compares them).

Only for inference: the adapter must be merged first (core.chat.session does),
and a quantised model cannot be trained further.
"""

from __future__ import annotations

from typing import Any

PREFILL_ROWS = 16  # above this many rows, dequantise and use a GEMM (see Int8Linear.forward)


def kernel_dtype(dtype: Any) -> Any:
    """The dtype rows of `dtype` are fed to torch's fused int8 / int4 CPU kernels in.

    Their fp32 path is a scalar loop. Where chat runs in fp32 (a CPU without bf16 instructions,
    session.chat_precision), the demo model decoded 4.7 tokens/s through them against 15.2 with
    plain fp32 weights and 22.6 once fed bf16 (2-core AVX2 EPYC, one thread); the int4 head pass
    alone took 80 ms a token where its bf16 rows take 6.6 ms. So fp32 rows go in as bf16, as a bf16
    machine's chat computes them anyway, and the product comes back in fp32."""
    import torch

    return torch.bfloat16 if dtype == torch.float32 else dtype


def int8_rows(x: Any, weight: Any, scale: Any, bias: Any) -> Any:
    """x2d · (int8 weight × per-row scale)ᵀ + bias through torch's fused row kernel, for a few rows
    (decoding); the one place its call is written. The rows go in as kernel_dtype, the product comes back
    in x's dtype; `scale` may already be cast to the rows' dtype (lean.py casts it once, not per token)."""
    import torch

    rows = kernel_dtype(x.dtype)
    y = torch.ops.aten._weight_int8pack_mm(x.to(rows).contiguous(), weight, scale.to(rows)).to(x.dtype)
    return y if bias is None else y + bias.to(y.dtype)


def int8_available(device: str) -> bool:
    """The fused kernel exists on this torch build and we are on the CPU (CUDA has its own fast paths)."""
    import torch

    return device == "cpu" and hasattr(torch.ops.aten, "_weight_int8pack_mm")


def _int8_linear_class() -> type:
    import torch

    class Int8Linear(torch.nn.Module):
        """y = x @ (int8 weight × per-row scale)ᵀ + bias, in the dtype of x."""

        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            w = linear.weight.detach().float()  # (out, in)
            scale = (w.abs().amax(dim=1) / 127.0).clamp(min=1e-12)  # (out,)
            self.register_buffer("weight", torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8))
            self.register_buffer("scale", scale.to(linear.weight.dtype))
            self.bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach(), requires_grad=False)
            self.in_features, self.out_features = linear.in_features, linear.out_features

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shape = x.shape
            flat = x.reshape(-1, shape[-1])
            if flat.shape[0] <= PREFILL_ROWS:
                return int8_rows(flat, self.weight, self.scale, self.bias).reshape(*shape[:-1], self.out_features)
            # Reading a prompt: many rows at once are compute-bound, where the fused kernel is ~3×
            # slower than a GEMM (500 rows × 576 → 1536: 13.3 ms vs 4.5 ms); a bf16 copy per call costs ~10%.
            y = torch.nn.functional.linear(flat, self.weight.to(flat.dtype)) * self.scale.to(flat.dtype)
            if self.bias is not None:
                y = y + self.bias.to(y.dtype)
            return y.reshape(*shape[:-1], self.out_features)

    return Int8Linear


def quantize_linears_int8(model: Any) -> int:
    """Swap every nn.Linear (the LM head included, even when tied to the embeddings) for an
    int8 weight-only one, in place. Returns how many were swapped."""
    import torch

    int8_linear = _int8_linear_class()
    swaps = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
             if type(child) is torch.nn.Linear]
    for parent, name, child in swaps:
        setattr(parent, name, int8_linear(child))
    return len(swaps)
