"""A LoRA linear layer's forward and backward as one autograd function, for training.

peft's `lora.Linear.forward` is written for every case (mixed adapters,
dropout, variants, casting the input to the adapter's dtype). Under bf16
autocast with fp32 adapter weights that costs, per layer and step: an fp32
copy of the input (peft's cast), a bf16 copy of that copy (autocast's), both
kept for backward; a scaled copy of the adapter's output and an add; and the
same again in backward. On the demo model that was ~30 of every step's ~100
passes over activation-sized tensors, each paid at this machine's ~9 GB/s.

Here: y = x·Wᵀ, then y += s·(x·Aᵀ)·Bᵀ accumulated into y by the matmul itself
(addmm), in the compute dtype; backward is the four small matmuls and one
accumulate, and the saved tensors are x (which the layer before already
holds) and the rank-r x·Aᵀ. The adapter's gradients are the same sums;
they come back in the adapter's own dtype (fp32) for the optimiser.
"""

from __future__ import annotations

import functools
import logging
import types
from typing import Any

from core.training.loss import compute_dtype

log = logging.getLogger(__name__)


@functools.cache
def _function() -> Any:
    import torch

    class LoraLinear(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, weight: Any, lora_a: Any, lora_b: Any, scale: float) -> Any:
            a, b = lora_a.to(x.dtype), lora_b.to(x.dtype)  # (r, in), (out, r): small
            flat = x.reshape(-1, x.shape[-1])  # (N, in)
            down = flat @ a.t()  # (N, r)
            out = flat @ weight.t()  # (N, out)
            out.addmm_(down, b.t(), alpha=scale)
            ctx.save_for_backward(flat, down, weight, a, b)
            ctx.scale, ctx.adapter_dtype = scale, lora_a.dtype
            return out.view(*x.shape[:-1], weight.shape[0])

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            flat, down, weight, a, b = ctx.saved_tensors
            g = grad.reshape(-1, grad.shape[-1]).to(flat.dtype)  # (N, out)
            g_down = g @ b  # (N, r)
            grad_x = None
            if ctx.needs_input_grad[0]:
                grad_x = (g @ weight).addmm_(g_down, a, alpha=ctx.scale).view(*grad.shape[:-1], weight.shape[1])
            grad_b = (g.t() @ down).mul_(ctx.scale).to(ctx.adapter_dtype)  # (out, r)
            grad_a = (g_down.t() @ flat).mul_(ctx.scale).to(ctx.adapter_dtype)  # (r, in)
            return grad_x, None, grad_a, grad_b, None

    return LoraLinear


def _fused_forward(self: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """Takes the fused path for the plain case (one active adapter, no dropout, not merged); peft's otherwise."""
    import torch

    active = self.active_adapters
    name = active[0] if len(active) == 1 else None
    if (args or kwargs or self.disable_adapters or self.merged or name not in self.lora_A
            or name in getattr(self, "lora_variant", {}) or not isinstance(self.lora_dropout[name], torch.nn.Identity)):
        return type(self).forward(self, x, *args, **kwargs)
    weight = self.base_layer.weight
    dtype = compute_dtype(x.device.type, x.dtype)
    if weight.dtype != dtype:
        weight = weight.to(dtype)
    with torch.autocast(x.device.type, enabled=False):
        return _function().apply(x.to(dtype), weight, self.lora_A[name].weight, self.lora_B[name].weight,
                                 float(self.scaling[name]))


def plan_lora_layers(model: Any) -> tuple[list[Any], dict[str, set[str]]]:
    """The LoRA linears the fused forward computes exactly (each over a plain bias-free nn.Linear), and
    for the others {why: their layer names}: Qwen2's biased q/k/v, a 4-bit base layer. Changes nothing;
    fuse_lora_layers acts on it, and core/support.py asks it of a weightless copy of a model."""
    import torch
    from peft.tuners.lora.layer import Linear as LoraLinear
    from peft.tuners.lora.layer import LoraLayer

    fusable, declined = [], {}
    for name, module in model.named_modules():
        if not isinstance(module, LoraLayer):
            continue
        base = getattr(module, "base_layer", None)
        if type(module) is not LoraLinear or type(base) is not torch.nn.Linear:
            reason = f"a {type(base).__name__} base layer under peft's {type(module).__name__}"
        elif base.bias is not None:
            reason = "the base layer has a bias"
        elif getattr(module, "fan_in_fan_out", False):
            reason = "fan_in_fan_out weights"
        else:
            fusable.append(module)
            continue
        declined.setdefault(reason, set()).add(name.rsplit(".", 1)[-1])
    return fusable, declined


def fuse_lora_layers(model: Any) -> int:
    """Give each LoRA linear that plan_lora_layers finds fusable the fused forward; returns how many.

    Only the forward method changes (on the instance), so parameters, state-dict keys, saved
    adapters and peft's own calls (merge, disable) are untouched. The others keep peft's forward,
    and the log names them and why.
    """
    fusable, declined = plan_lora_layers(model)
    for module in fusable:
        module.forward = types.MethodType(_fused_forward, module)
    for reason, names in declined.items():
        log.info("LoRA kernel declined for %s: %s; peft's forward runs them", ", ".join(sorted(names)), reason)
    return len(fusable)
