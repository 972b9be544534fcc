"""One truth about a run folder: its status, whether it can resume, and how far it got.

run.json's "status" is written by the trainer, so a trainer killed by SIGKILL,
the OOM killer or a power cut leaves it at "training" forever, and a run that a
CLI process is training right now says "training" too. The truth is that status
combined with two facts on disk: whether a live process holds the run's lock
(core/locks.py) and which checkpoint is the newest complete one
(core/training/checkpoints.py). The CLI (`--resume`, through core.pipeline),
the GUI's Resume button, its start-up offer and the projects list all read
`run_state`; none of them interprets run.json's status on its own. (RunStatus, the
words run.json holds, lives in core/store.py with the rest of the on-disk layout,
so the trainer can write them without importing this module.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.locks import holder
from core.store import RunDir, RunStatus, read_json
from core.training.checkpoints import newest_step


_own_trainers: set[int] = set()
"""Worker processes this process started (the app's training worker): their runs are trained here, not elsewhere."""


def adopt_trainer(pid: int) -> None:
    """The app started `pid` to prepare or train a run: a run it holds is this app's, not "trained elsewhere"."""
    _own_trainers.add(pid)


def release_trainer(pid: int) -> None:
    _own_trainers.discard(pid)


RESUMABLE = frozenset({RunStatus.INTERRUPTED, RunStatus.STOPPED, RunStatus.FAILED})
"""Started, not finished, and nobody is training it now: `--resume` continues it (from the start if no
checkpoint was saved yet)."""


@dataclass(frozen=True)
class RunState:
    path: Path
    status: RunStatus
    checkpoint_step: int | None
    """Step of the newest complete checkpoint: where --resume continues (None: from the start)."""
    step: int
    """How far it got: run.json's step, or the newest checkpoint's when a killed trainer never wrote it."""
    total_steps: int
    """Planned optimiser steps (0 while unknown: the plan is made when training loads the data)."""
    trainer_pid: int | None
    """The process training it now (-1 if alive but its pid is unreadable), else None."""
    error: str = ""
    created: str = ""
    preset: str = ""
    has_adapter: bool = False
    name: str = ""
    """The name a person gave the run (run.json "name", core/run_manage.py rename_run); "" when none."""

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        """What lists show: the given name, else the folder's name (run-YYYYmmdd-HHMMSS)."""
        return self.name or self.id

    @property
    def has_checkpoint(self) -> bool:
        return self.checkpoint_step is not None

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE

    @property
    def trained_elsewhere(self) -> bool:
        """Another process (a CLI run, a second app) is training it: nothing here may resume or start it."""
        return (self.status in (RunStatus.TRAINING, RunStatus.PREPARING) and self.trainer_pid is not None
                and self.trainer_pid != os.getpid() and self.trainer_pid not in _own_trainers)

    def resumes_from(self) -> str:
        """Where --resume picks up, in words: "step 40 of 120", or "the beginning" with no checkpoint yet."""
        if not self.checkpoint_step:
            return "the beginning"
        return f"step {self.checkpoint_step}" + (f" of {self.total_steps}" if self.total_steps else "")

    def describe(self) -> str:
        """One sentence for a person: what state the run is in and what can be done with it."""
        where = self.resumes_from()
        pid = f" (pid {self.trainer_pid})" if self.trainer_pid and self.trainer_pid > 0 else ""
        training = (f"Being trained elsewhere, by another TuneDesk process{pid}." if self.trained_elsewhere
                    else "Being trained now by this process.")
        if self.status is RunStatus.PREPARING:
            return ("Being prepared elsewhere, by another TuneDesk process." if self.trained_elsewhere else
                    "Being prepared: reading the documents and writing training examples.")
        if self.status is RunStatus.UNKNOWN and RunDir(self.path).prepare_request.is_file():
            return "Preparation did not finish. Start a new run (this folder can be deleted)."
        return {
            RunStatus.PREPARED: "Ready to train.",
            RunStatus.TRAINING: training,
            RunStatus.INTERRUPTED: f"Interrupted: can continue from {where}.",
            RunStatus.STOPPED: f"Stopped: can continue from {where}.",
            RunStatus.FAILED: f"Failed ({self.error or 'see the log'}): can continue from {where}.",
            RunStatus.FINISHED: "Finished.",
        }.get(self.status, "Not a readable run folder.")


def _requested_by_live_app(run: RunDir) -> bool:
    """The app that asked for this run's preparation is still running (it removes the folder if preparing fails)."""
    import psutil

    try:
        requester = int(read_json(run.prepare_request)["requested_by"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return psutil.pid_exists(requester)


def run_state(path: Path | str) -> RunState:
    """Read a run folder's state; never raises for a damaged or half-written folder (that is UNKNOWN)."""
    run = RunDir(path)
    pid = holder(run.root)
    checkpoint = newest_step(run.checkpoints)
    try:
        meta: dict[str, Any] = run.read_run()
        if not isinstance(meta, dict):
            raise ValueError("run.json is not an object")
    except Exception:  # missing or unreadable run.json (core writes it atomically, so: not a run yet)
        # core/pipeline.py writes run.json last. Until its worker holds the lock, a request from a live app counts too.
        status = RunStatus.PREPARING if pid or _requested_by_live_app(run) else RunStatus.UNKNOWN
        return RunState(run.root, status, checkpoint, checkpoint or 0, 0, pid)
    try:
        status = RunStatus(meta.get("status") or RunStatus.PREPARED)
    except ValueError:
        status = RunStatus.UNKNOWN
    if pid:
        status = RunStatus.TRAINING
    elif status is RunStatus.TRAINING:
        status = RunStatus.INTERRUPTED
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    return RunState(
        path=run.root, status=status, checkpoint_step=checkpoint,
        step=max(int(meta.get("step") or 0), checkpoint or 0),
        total_steps=int(meta.get("total_steps") or config.get("max_steps") or 0), trainer_pid=pid,
        error=str(meta.get("error") or ""), created=str(meta.get("created", "")), preset=str(config.get("preset", "")),
        has_adapter=(run.adapter / "adapter_config.json").is_file(), name=str(meta.get("name") or ""))
