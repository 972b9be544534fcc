"""Loading a checked model folder: its tokenizer (with a chat template always) and its weights.

Folder checks live in folders.py and resolution in resolve.py; this module only loads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.models.folders import DEFAULT_CHAT_TEMPLATE


def load_tokenizer(folder: Path) -> Any:
    """The model's tokenizer; DEFAULT_CHAT_TEMPLATE when it has no template (see ModelInfo.chat_template_note)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if not tokenizer.chat_template:
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(folder: Path, precision: str = "fp32", device: str = "cpu") -> Any:
    """Load base weights for training or chat.

    precision: "fp32" | "bf16" | "fp16" | "nf4". NF4 goes through bitsandbytes
    (QLoRA, Dettmers et al. 2023) with double quantisation.
    """
    import torch
    from transformers import AutoModelForCausalLM

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    kwargs: dict[str, Any] = {}
    if precision == "nf4":
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if _bf16_ok(device) else torch.float32
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
        kwargs["device_map"] = {"": device if device != "cuda" else 0}
        kwargs["dtype"] = compute
    else:
        kwargs["dtype"] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), **kwargs)
    except Exception as exc:
        raise ModelError(
            f"Could not load the model in {folder}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "Check that the folder holds a complete causal language model (config.json + weights).",
        ) from exc
    if precision != "nf4":
        model.to(device)
    return model


def _bf16_ok(device: str) -> bool:
    from core.device import detect

    return detect().bf16
