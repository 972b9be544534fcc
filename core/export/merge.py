"""Base weights + LoRA adapter → merged weights, one tensor at a time.

peft's `merge_and_unload` needs the whole model loaded in full precision, and the usual "save_pretrained"
after it holds a second copy while it serialises: two model copies at the peak, the out-of-memory crash peers
report when merging a 7B model on a laptop. Here each base tensor is read from its safetensors file (memory-
mapped), the LoRA product added (W + scale · B @ A, in fp32, cast back to the tensor's dtype: what peft's merge
computes), and written straight to the output file before the next is read. Peak memory is about the largest
tensor plus the adapter, whatever the model's size (measured in the README's export section).

The same stream feeds the GGUF writer (core/export/gguf_file.py), so a GGUF export never writes the merged
safetensors at all.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from core.errors import DiskError, ModelError
from core.models.folders import safetensors_header

_PREFIX = "base_model.model."
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    """safetensors dtype name (F32, BF16, …)."""
    shape: tuple[int, ...]
    file: Path


@dataclass(frozen=True)
class Lora:
    """The adapter, read whole (a few MB): per adapted module, its A and B matrices and the scale."""

    pairs: dict[str, tuple[Any, Any]]
    scale: float
    fan_in_fan_out: bool

    def delta(self, module: str) -> Any | None:
        """scale · B @ A for `module` in fp32 (out, in), or None when the adapter leaves it alone."""
        pair = self.pairs.get(module)
        if pair is None:
            return None
        a, b = pair
        delta = (b.float() @ a.float()) * self.scale
        return delta.T if self.fan_in_fan_out else delta


def base_tensors(base_dir: Path) -> list[TensorInfo]:
    """Every tensor of the base model from its safetensors headers, in a fixed order (file, then name)."""
    files = sorted(Path(base_dir).glob("*.safetensors"))
    if not files:
        raise ModelError(f"{base_dir} has no *.safetensors weights, which the export reads tensor by tensor.",
                         "Convert the model to safetensors (transformers' save_pretrained does it), then export again.")
    out = []
    for file in files:
        header = safetensors_header(file)
        for name in sorted(k for k in header if k != "__metadata__"):
            out.append(TensorInfo(name, header[name]["dtype"], tuple(header[name]["shape"]), file))
    return out


def read_lora(adapter_dir: Path) -> Lora:
    """The adapter's LoRA pairs; a kind of adapter this merge does not do (DoRA, per-layer ranks, extra saved
    modules) is refused with the reason rather than merged wrongly."""
    from safetensors.torch import load_file

    adapter_dir = Path(adapter_dir)
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    unsupported = [what for what, bad in (
        ("DoRA", config.get("use_dora")), ("per-layer ranks", config.get("rank_pattern")),
        ("per-layer alphas", config.get("alpha_pattern")), ("extra trained modules", config.get("modules_to_save")),
        ("a non-LoRA adapter", config.get("peft_type", "LORA") != "LORA")) if bad]
    if unsupported:
        raise ModelError(f"The adapter in {adapter_dir} uses {', '.join(unsupported)}, which the export cannot merge.",
                         "Export it as 'adapter' and merge it with peft's merge_and_unload.")
    r, alpha = int(config["r"]), float(config["lora_alpha"])
    scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    halves: dict[str, dict[str, Any]] = {}
    for key, tensor in weights.items():
        match = re.fullmatch(r"(.+)\.lora_([AB])(?:\.[^.]+)?\.weight", key.removeprefix(_PREFIX))
        if not match:
            raise ModelError(f"The adapter in {adapter_dir} holds {key}, which is not a LoRA matrix.",
                             "Export it as 'adapter' and merge it with peft's merge_and_unload.")
        halves.setdefault(match.group(1), {})[match.group(2)] = tensor
    pairs = {module: (ab["A"], ab["B"]) for module, ab in halves.items() if "A" in ab and "B" in ab}
    return Lora(pairs, scale, bool(config.get("fan_in_fan_out")))


def merged_tensors(base_dir: Path, lora: Lora) -> Iterator[tuple[TensorInfo, Any]]:
    """(info, merged tensor) for every base tensor, one at a time, in base_tensors' order."""
    import torch
    from safetensors import safe_open

    infos = base_tensors(base_dir)
    names = {i.name for i in infos}
    missing = [m for m in lora.pairs if f"{m}.weight" not in names]
    if missing:
        raise ModelError(f"The adapter changes {missing[0]}, which this base model does not have.",
                         "Export with the base model the run was trained on.")
    handles: dict[Path, Any] = {}
    try:
        for info in infos:
            if info.file not in handles:
                handles[info.file] = safe_open(str(info.file), framework="pt")
            tensor = handles[info.file].get_tensor(info.name)
            delta = lora.delta(info.name.removesuffix(".weight")) if info.name.endswith(".weight") else None
            if delta is not None:
                tensor = (tensor.to(torch.float32) + delta).to(tensor.dtype)
            yield info, tensor
    finally:
        handles.clear()


def _header(infos: list[TensorInfo]) -> tuple[bytes, list[int]]:
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset, sizes = 0, []
    for info in infos:
        size = math.prod(info.shape) * _DTYPE_BYTES[info.dtype]
        header[info.name] = {"dtype": info.dtype, "shape": list(info.shape), "data_offsets": [offset, offset + size]}
        offset += size
        sizes.append(size)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the data starts 8-byte aligned
    return struct.pack("<Q", len(raw)) + raw, sizes


def write_merged_weights(base_dir: Path, lora: Lora, out_dir: Path, on_tensor: Any = None) -> list[Path]:
    """The merged weights as safetensors files named as the base's (and its index, if sharded), streamed.

    The header is known before any tensor is read (a merge keeps every name, shape and dtype), so each file is
    its header followed by the tensors as they come; nothing is held but the tensor being written."""
    import torch

    infos = base_tensors(base_dir)
    by_file: dict[Path, list[TensorInfo]] = {}
    for info in infos:
        by_file.setdefault(info.file, []).append(info)
    stream = merged_tensors(base_dir, lora)
    written = []
    try:
        for source, file_infos in by_file.items():
            target = Path(out_dir) / source.name
            header, sizes = _header(file_infos)
            with open(target, "wb") as f:
                f.write(header)
                for expected, size in zip(file_infos, sizes):
                    info, tensor = next(stream)
                    assert info.name == expected.name
                    data = tensor.contiguous().view(torch.uint8).numpy() if tensor.numel() else b""
                    if len(memoryview(data).cast("B")) != size:
                        raise ModelError(f"{info.name} has an unexpected size in {source.name}.",
                                         "The base model's weights may be damaged: download or convert it again.")
                    f.write(memoryview(data).cast("B"))
                    if on_tensor is not None:
                        on_tensor(info)
            written.append(target)
        for index in Path(base_dir).glob("*.safetensors.index.json"):
            (Path(out_dir) / index.name).write_bytes(index.read_bytes())
            written.append(Path(out_dir) / index.name)
    except OSError as exc:
        raise DiskError(f"Could not write the merged model to {out_dir}: {exc.strerror or exc}",
                        "Free some disk space or choose another folder, then export again.") from exc
    return written
