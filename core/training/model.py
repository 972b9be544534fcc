"""The model as it is trained: LoRA adapters on the base model, and the fast paths for this device.

Kept apart from the loop (loop.py) because each choice here is about the
model's layers and what they cost on a device, not about the order of training.
"""

from __future__ import annotations

import logging
from typing import Any

from core.training.attention import use_for_training
from core.training.config import TrainConfig
from core.training.lora_linear import fuse_lora_layers
from core.training.loss import head_loss_declined
from core.training.rms_norm import fuse_rms_norms

log = logging.getLogger(__name__)


def add_lora(model: Any, config: TrainConfig, precision: str) -> Any:
    """peft LoRA adapters on `config.target_modules`, initialised the same way for the same seed."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if precision == "nf4":
        # Casts norms/embeddings to fp32 for stable 4-bit training (QLoRA recipe); gradient
        # checkpointing only when asked for (config.gradient_checkpointing): small models are faster without.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    targets: Any = config.target_modules
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    torch.manual_seed(config.seed)  # identical LoRA init for identical configs
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=targets, task_type="CAUSAL_LM", bias="none")
    return get_peft_model(model, lora)


COMPILE_MIN_STEPS = 150
"""At ~2.6 s/step and 8% faster than the eager CPU kernels, a warm-cache ~10 s compile pays back after
~50 steps, a cold ~40 s one after ~190: 150 sits between (the default preset's runs are 300+ steps)."""


def should_compile(config: TrainConfig, device: str, steps_left: int) -> bool:
    """torch.compile's CPU code needs a C++ compiler (gcc/clang, or MSVC's cl on Windows) and Python's
    own headers, which an installed app (a PyInstaller bundle) does not carry; CUDA and MPS are not
    measured yet, so they keep eager mode."""
    import shutil
    import sys

    if config.compile == "off" or device != "cpu" or getattr(sys, "frozen", False):
        return False
    has_compiler = any(shutil.which(c) for c in ("g++", "c++", "clang++", "cl"))
    if config.compile == "on":
        return has_compiler
    return has_compiler and steps_left >= COMPILE_MIN_STEPS


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
