"""Resumable checkpoints that are either complete or ignored.

A checkpoint is written into `.tmp-step-N/`, a `COMPLETE` marker is written
last, and only then is the folder renamed to `step-N/`. A kill at any moment
leaves either a finished `step-N/` or a `.tmp-*` folder that resume ignores
and the next save removes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

from core.errors import DiskError

MARKER = "COMPLETE"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; rename is still atomic there
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(folder: Path, step: int, adapter_state: dict[str, Any], optimizer: Any, scheduler: Any,
                    state: dict[str, Any], keep: int) -> Path:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".tmp-step-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = folder / f".tmp-step-{step}"
    final = folder / f"step-{step}"
    try:
        tmp.mkdir()
        save_file({k: v.detach().contiguous().cpu() for k, v in adapter_state.items()}, str(tmp / "adapter.safetensors"))
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        rng = {"python": random.getstate(), "torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        torch.save(rng, tmp / "rng.pt")
        (tmp / "state.json").write_text(json.dumps({**state, "step": step}), encoding="utf-8")
        for file in tmp.iterdir():
            with open(file, "rb") as f:
                os.fsync(f.fileno())
        with open(tmp / MARKER, "w", encoding="utf-8") as f:
            f.write(str(step))
            f.flush()
            os.fsync(f.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DiskError(
            f"Could not save the checkpoint at step {step}: {exc.strerror or exc}",
            "Free some disk space (or pick a writable folder), then resume: the previous checkpoint is intact.",
        ) from exc
    for old in complete_checkpoints(folder)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def complete_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("step-*"):
        try:
            step = int(path.name.split("-", 1)[1])
        except ValueError:
            continue
        if (path / MARKER).is_file() and (path / "state.json").is_file():
            found.append((step, path))
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: Path) -> Path | None:
    found = complete_checkpoints(folder)
    return found[-1] if found else None


def load_checkpoint(path: Path) -> dict[str, Any]:
    import torch
    from safetensors.torch import load_file

    return {
        "adapter": load_file(str(path / "adapter.safetensors")),
        "optimizer": torch.load(path / "optimizer.pt", weights_only=False),
        "scheduler": torch.load(path / "scheduler.pt", weights_only=False),
        "rng": torch.load(path / "rng.pt", weights_only=False),
        "state": json.loads((path / "state.json").read_text(encoding="utf-8")),
    }


def restore_rng(rng: dict[str, Any]) -> None:
    import torch

    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
