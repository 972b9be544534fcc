"""What a run folder's state really is, for the GUI's run list and `--resume`.

run.json's "status" is written by the trainer, so a trainer killed by SIGKILL,
the OOM killer or a power cut leaves it at "training" forever. The truth is
the status combined with two facts on disk: whether a live process holds the
run's lock (core/locks.py) and which checkpoint is the newest complete one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.locks import holder
from core.store import RunDir
from core.training.checkpoints import latest_checkpoint


@dataclass(frozen=True)
class RunState:
    status: str
    """prepared | training (a live process holds it) | interrupted (killed while training) |
    stopped | failed | finished | unknown (no readable run.json)."""
    checkpoint_step: int | None
    """Step of the newest complete checkpoint: where --resume continues (None: from the start)."""
    total_steps: int | None
    trainer_pid: int | None
    """The process training it now (-1 if alive but its pid is unreadable), else None."""
    error: str = ""

    @property
    def resumable(self) -> bool:
        """Started, not finished, and nobody is training it now ("prepared" runs are started, not resumed)."""
        return self.status in ("interrupted", "stopped", "failed")

    def describe(self) -> str:
        where = f"step {self.checkpoint_step}" if self.checkpoint_step else "the beginning"
        of = f" of {self.total_steps}" if self.total_steps and self.checkpoint_step else ""
        return {
            "prepared": "Ready to train.",
            "training": f"Being trained now (pid {self.trainer_pid}).",
            "interrupted": f"Interrupted: can continue from {where}{of}.",
            "stopped": f"Stopped: can continue from {where}{of}.",
            "failed": f"Failed ({self.error or 'see the log'}): can continue from {where}{of}.",
            "finished": "Finished.",
        }.get(self.status, "Not a readable run folder.")


def run_state(path: Path | str) -> RunState:
    run = RunDir(path)
    pid = holder(run.root)
    try:
        meta = run.read_run()
    except Exception:  # missing or unreadable run.json (core writes it atomically, so: not a run)
        return RunState("training" if pid else "unknown", None, None, pid)
    newest = latest_checkpoint(run.checkpoints)
    step = int(newest.name.split("-", 1)[1]) if newest else None
    status = str(meta.get("status") or "prepared")
    if pid:
        status = "training"
    elif status == "training":
        status = "interrupted"
    total = meta.get("total_steps")
    return RunState(status, step, int(total) if total else None, pid, str(meta.get("error") or ""))


def resumable(path: Path | str) -> bool:
    """True when `--resume` (or the app's Resume button) would continue this run now."""
    return run_state(path).resumable
