"""Does a LoRA adapter fit a base model? Answered from file headers, before any weight is loaded.

PEFT applied to the wrong base either fails deep inside `load_state_dict` with
a wall of size-mismatch lines, or — when only some modules are missing —
loads silently and produces nonsense. Comparing each LoRA matrix's shape with
the base weight it adapts (safetensors headers only, milliseconds) catches
both, and names the first mismatch in words.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.errors import ModelError
from core.models.folders import safetensors_header

_PREFIX = "base_model.model."


def _base_shapes(base_dir: Path) -> dict[str, list[int]]:
    shapes: dict[str, list[int]] = {}
    for file in sorted(base_dir.glob("*.safetensors")):
        for key, meta in safetensors_header(file).items():
            if key != "__metadata__":
                shapes[key] = meta["shape"]
    return shapes


def check_adapter_fits(adapter_dir: Path, base_dir: Path) -> None:
    """Raise ModelError when the adapter in `adapter_dir` was not made for the model in `base_dir`."""
    adapter_dir, base_dir = Path(adapter_dir), Path(base_dir)
    try:
        adapter_config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"The adapter in {adapter_dir} has no readable adapter_config.json ({exc}).",
                         "Train the run again, or pick the run folder whose training finished.") from exc
    trained_on = adapter_config.get("base_model_name_or_path") or "another model"
    hint = f"Use the base model the adapter was trained on ({trained_on})."
    weights = adapter_dir / "adapter_model.safetensors"
    base = _base_shapes(base_dir)
    if not weights.is_file() or not base:
        return  # nothing to compare from headers (.bin files): PEFT's own check still runs
    matched, missing = 0, []
    for key, meta in safetensors_header(weights).items():
        if key == "__metadata__" or ".lora_" not in key:
            continue
        module, kind = key.removeprefix(_PREFIX).rsplit(".lora_", 1)
        base_key = f"{module}.weight"
        if base_key not in base:
            missing.append(module)
            continue
        matched += 1
        out_features, in_features = base[base_key][0], base[base_key][-1]
        shape = meta["shape"]
        expected, got = (in_features, shape[-1]) if kind.startswith("A") else (out_features, shape[0])
        if expected != got:
            side = "inputs" if kind.startswith("A") else "outputs"
            raise ModelError(
                f"The adapter in {adapter_dir} was trained on a different base model: its {module} has {got} {side}, "
                f"but {base_dir.name} has {expected}.", hint)
    if missing and matched:
        raise ModelError(
            f"The adapter in {adapter_dir} was trained on a different base model: {base_dir.name} has no {missing[0]}"
            + (f" (and {len(missing) - 1} more layers the adapter changes)" if len(missing) > 1 else "") + ".", hint)
    if missing and not matched:
        raise ModelError(f"The adapter in {adapter_dir} changes layers that {base_dir.name} does not have "
                         f"(for example {missing[0]}).", hint)
