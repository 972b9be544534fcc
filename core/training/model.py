"""The model as it is trained: LoRA adapters on the base model, and the fast paths for this device.

Kept apart from the loop (loop.py) because each choice here is about the
model's layers and what they cost on a device, not about the order of training.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from core.training.attention import attention_declined, use_for_training
from core.training.config import TrainConfig
from core.training.lora_linear import fuse_lora_layers, plan_lora_layers
from core.training.loss import head_loss_declined
from core.training.rms_norm import fuse_rms_norms, plan_rms_norms

log = logging.getLogger(__name__)


def add_lora(model: Any, config: TrainConfig, precision: str) -> Any:
    """peft LoRA adapters on `config.target_modules`, initialised the same way for the same seed."""
    import torch
    from peft import get_peft_model, prepare_model_for_kbit_training

    if precision == "nf4":
        # Casts norms/embeddings to fp32 for stable 4-bit training (QLoRA recipe); gradient
        # checkpointing only when asked for (config.gradient_checkpointing): small models are faster without.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    torch.manual_seed(config.seed)  # identical LoRA init for identical configs
    return get_peft_model(model, lora_config(config))


def lora_config(config: TrainConfig) -> Any:
    """peft's LoraConfig for `config`: the layers and sizes add_lora (and weightless_model) adapt."""
    from peft import LoraConfig

    targets: Any = config.target_modules
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=targets, task_type="CAUSAL_LM", bias="none")


COMPILE_MIN_STEPS = 150
"""At ~2.6 s/step and 8% faster than the eager CPU kernels, a warm-cache ~10 s compile pays back after
~50 steps, a cold ~40 s one after ~190: 150 sits between (the default preset's runs are 300+ steps)."""


def should_compile(config: TrainConfig, device: str, total_steps: int) -> bool:
    """torch.compile's CPU code needs a C++ compiler (gcc/clang, or MSVC's cl on Windows) and Python's
    own headers, which an installed app (a PyInstaller bundle) does not carry; CUDA and MPS are not
    measured yet, so they keep eager mode.

    Decided from the plan's `total_steps`, not the steps left: a resumed run then computes the way it
    began, and its weights equal an uninterrupted run's bit for bit. Compiled and eager layers round
    bf16 differently (a run resumed 20 steps before its end ran its tail eager and ended 4.5e-4 away);
    the price is one compile on a short resumed tail."""
    import shutil
    import sys

    if config.compile == "off" or device != "cpu" or getattr(sys, "frozen", False):
        return False
    has_compiler = any(shutil.which(c) for c in ("g++", "c++", "clang++", "cl"))
    if config.compile == "on":
        return has_compiler
    return has_compiler and total_steps >= COMPILE_MIN_STEPS


def compile_layers(model: Any) -> None:
    """Compile each decoder layer in place (state-dict keys unchanged, so checkpoints and adapters
    are the same files). bench/train_speed.py on the demo model here, bf16 LoRA r16, with the CPU
    attention and head loss: 195 (eager CPU kernels) → 211 effective tokens/s (1.08×), peak memory
    1.93 → 1.74 GB, after a first step of ~12 s with torch's compile cache warm (~40 s cold). Inductor
    fuses peft's LoRA and the norms itself, so their eager kernels stay off. Layers share one compiled
    graph; shapes are dynamic so each batch length does not recompile. If compiling fails at the first
    step (no working compiler after all), torch falls back to eager mode for that layer."""
    import torch

    torch._dynamo.config.suppress_errors = True
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    for layer in getattr(decoder, "layers", []):
        layer.compile(dynamic=True)


def cpu_kernels(model: Any, fuse_layers: bool) -> dict[str, Any]:
    """Our CPU attention (core/training/attention.py) and, unless torch.compile will fuse the
    layers itself, one autograd function per LoRA linear and per RMSNorm (lora_linear.py, rms_norm.py).

    Each kernel is only taken where it computes what it replaces; where a model family differs
    (Gemma 2's soft-capped eager attention and logits, Gemma's x·(1+w) norms, Qwen2's biased
    q/k/v) it is declined, the stock module runs, and the reason is logged. Returns what was
    taken: {"attention": bool, "lora": layers fused, "norms": norms fused, "head_loss": bool}."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    taken: dict[str, Any] = {"attention": use_for_training(base), "lora": 0, "norms": 0}
    if fuse_layers:
        taken["lora"] = fuse_lora_layers(model)
        taken["norms"] = fuse_rms_norms(model)
    declined = head_loss_declined(model)
    if declined is not None:
        log.info("Fused head loss declined: %s; the loss comes from the model's own logits", declined)
    taken["head_loss"] = declined is None
    return taken


@dataclass(frozen=True)
class KernelPlan:
    taken: dict[str, Any]
    """What cpu_kernels takes: {"attention": bool, "lora": layers fused, "norms": norms fused, "head_loss": bool}."""
    declined: dict[str, str]
    """Each kernel declined for some layers or all ("attention", "lora", "norms", "head_loss") → why."""


def plan_cpu_kernels(model: Any, on: str = "cpu") -> KernelPlan:
    """What cpu_kernels would take for `model` (LoRA already added) and why it declines the rest, through
    the same gates, changing nothing. `on` "meta": a weightless_model, planned as if on the CPU."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    attention = attention_declined(base)
    lora, lora_declined = plan_lora_layers(model)
    norms, norms_declined = plan_rms_norms(model)
    head = head_loss_declined(model, on)
    declined = {"attention": attention, "head_loss": head,
                "lora": "; ".join(f"{', '.join(sorted(names))}: {why}" for why, names in lora_declined.items()),
                "norms": "; ".join(f"{name}: {why}" for name, why in norms_declined.items())}
    taken = {"attention": attention is None, "lora": len(lora), "norms": len(norms), "head_loss": head is None}
    return KernelPlan(taken, {kernel: why for kernel, why in declined.items() if why})


def weightless_model(hf_config: Any, config: TrainConfig | None = None) -> Any:
    """The model of `hf_config` (a transformers config, as read from config.json) as CPU training holds it:
    transformers' classes with the attention it picks, peft's LoRA layers on `config.target_modules`. Built on
    the meta device, so no weight is read or allocated (~0.5 s for a 70B-shaped config): for asking
    plan_cpu_kernels about a model that is only listed."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):  # a thread-local mode: a model loading on another thread is untouched
        model = AutoModelForCausalLM.from_config(hf_config)
        return get_peft_model(model, lora_config(config or TrainConfig()))
