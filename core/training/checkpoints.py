"""Resumable checkpoints that are either complete or ignored.

A checkpoint is written into `.tmp-step-N/`, a `COMPLETE` marker listing every
file and its size is written last, and only then is the folder renamed to
`step-N/`. A kill at any moment leaves either a finished `step-N/` or a
`.tmp-*` folder that resume ignores and the next save removes. Old checkpoints
are renamed to `.trash-*` before they are deleted, so a kill in the middle of a
deletion never leaves a `step-N/` with some files gone. A checkpoint whose
files do not match its marker (truncated or damaged later) is skipped.

Each file is serialised in memory and written with plain file I/O: on a full
or read-only disk safetensors and torch.save raise their own error types with
messages such as "unexpected pos 576 vs 534", while a plain write raises
OSError with the errno we turn into a `DiskError` that says what to do.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any, Callable

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


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _discard(path: Path) -> None:
    """Delete a folder so that a kill midway never leaves a damaged folder under its old name."""
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
    try:
        os.replace(path, trash)
    except OSError:
        trash = path
    shutil.rmtree(trash, ignore_errors=True)


def as_disk_error(exc: BaseException, what: str) -> DiskError | None:
    """A DiskError for an OSError, or for a library error that wraps one (safetensors says
    "I/O error: No space left on device (os error 28)"); None for anything else."""
    if isinstance(exc, OSError):
        return disk_error(exc, what)
    match = re.search(r"\(os error (\d+)\)", str(exc))
    if match:
        code = int(match.group(1))
        return disk_error(OSError(code, os.strerror(code)), what)
    return None


def disk_error(exc: OSError, what: str) -> DiskError:
    """A DiskError whose hint fits the errno: full disk, read-only folder, or a file-size limit."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "The folder is read-only: make it writable (or move the run folder somewhere writable), then resume."
    elif exc.errno == errno.EFBIG:
        hint = ("The file system refuses files this large (FAT32 drives stop at 4 GB): move the run folder to an "
                "NTFS/APFS/ext4 drive, then resume.")
    else:
        hint = "Free some disk space (or move the run folder to a bigger drive), then resume."
    return DiskError(f"{what}: {reason}", hint + " Checkpoints already saved are intact.")


def save_checkpoint(folder: Path, step: int, adapter_state: dict[str, Any], optimizer: Any, scheduler: Any,
                    state: dict[str, Any], keep: int, optimizer_state: dict[str, Any] | None = None) -> Path:
    """Write step-N/ (see the module's docstring). `optimizer_state`: the optimizer's state_dict as given, for
    an FSDP run whose optimizer holds only shards (core/training/fsdp.py gathers it in the same format)."""
    import torch
    from safetensors.torch import save as safetensors_bytes

    def torch_bytes(obj: Any) -> bytes:
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        return buffer.getvalue()

    tmp = folder / f".tmp-step-{step}"
    final = folder / f"step-{step}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in [*folder.glob(".tmp-step-*"), *folder.glob(".trash-*")]:
            shutil.rmtree(stale, ignore_errors=True)
        rng = {"python": random.getstate(), "torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        files = {
            "adapter.safetensors": safetensors_bytes({k: v.detach().contiguous().cpu() for k, v in adapter_state.items()}),
            "optimizer.pt": torch_bytes(optimizer.state_dict() if optimizer_state is None else optimizer_state),
            "scheduler.pt": torch_bytes(scheduler.state_dict()),
            "rng.pt": torch_bytes(rng),
            "state.json": json.dumps({**state, "step": step}).encode("utf-8"),
        }
        tmp.mkdir()
        for name, data in files.items():
            _write(tmp / name, data)
        marker = {"step": step, "files": {name: len(data) for name, data in files.items()}}
        _write(tmp / MARKER, json.dumps(marker).encode("utf-8"))
        _fsync_dir(tmp)
        if final.exists():
            _discard(final)
        os.replace(tmp, final)
        _fsync_dir(folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise disk_error(exc, f"Could not save the checkpoint at step {step}") from exc
    for old in complete_checkpoints(folder)[:-keep]:
        _discard(old)
    return final


def is_complete(path: Path) -> bool:
    """The marker is there and every file it lists has the size it was written with."""
    try:
        text = (path / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        marker = json.loads(text)
    except ValueError:
        return False
    if isinstance(marker, int):  # checkpoints written before the marker listed files
        return (path / "state.json").is_file()
    try:
        return all((path / name).stat().st_size == size for name, size in marker["files"].items())
    except (OSError, KeyError, TypeError, AttributeError):
        return False


def checkpoint_step(path: Path) -> int | None:
    """The step a checkpoint folder holds, read from its name `step-N` (None for any other name).

    The one reader of that name: save_checkpoint writes it, everything else asks here."""
    prefix, _, number = Path(path).name.partition("-")
    return int(number) if prefix == "step" and number.isdigit() else None


def complete_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints, oldest first (`.tmp-*`, `.trash-*` and damaged folders are not)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("step-*"):
        step = checkpoint_step(path)
        if step is not None and is_complete(path):
            found.append((step, path))
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: Path) -> Path | None:
    found = complete_checkpoints(folder)
    return found[-1] if found else None


def newest_step(folder: Path) -> int | None:
    """The step of the newest complete checkpoint in `folder`: where --resume continues (None: from the start)."""
    newest = latest_checkpoint(folder)
    return checkpoint_step(newest) if newest is not None else None


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


def load_latest(folder: Path, on_skip: Callable[[Path, str], None] = lambda path, why: None) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint that loads, falling back to older ones; None when none does.

    A marker only proves the files were complete when written: a disk error
    later can still damage them, so each is loaded, not just looked at.
    """
    for path in reversed(complete_checkpoints(folder)):
        try:
            return path, load_checkpoint(path)
        except Exception as exc:  # safetensors, pickle, json: each raises its own type on damaged bytes
            on_skip(path, f"{type(exc).__name__}: {str(exc)[:200]}")
    return None


def restore_rng(rng: dict[str, Any]) -> None:
    import torch

    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def resume_latest(folder: Path, model: Any, optimizer: Any, scheduler: Any, total_steps: int,
                  on_event: Callable[[Any], None]) -> dict[str, Any] | None:
    """Put the newest checkpoint that loads back into model (its adapter), optimizer, scheduler and RNG,
    and return its saved state (step, history, …); None when there is none, to start from the beginning.

    One place for both training loops (core/training/loop.py, core/classify/train.py), which say the
    same things to the user: a damaged checkpoint skipped, no checkpoint found, where it resumes."""
    from peft import set_peft_model_state_dict

    from core.events import Caution, Progress, Stage

    found = load_latest(folder, lambda path, why: on_event(
        Caution(f"Checkpoint {path.name} is damaged and was skipped ({why}).")))
    if found is None:
        on_event(Progress(Stage.TRAIN, "No complete checkpoint found: starting from the beginning", 0, total_steps))
        return None
    path, ckpt = found
    set_peft_model_state_dict(model, ckpt["adapter"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    restore_rng(ckpt["rng"])
    state = ckpt["state"]
    on_event(Progress(Stage.TRAIN, f"Resuming from step {state['step']} ({path.name})", state["step"], total_steps))
    return state
