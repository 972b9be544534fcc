"""Full disk, read-only folder, file-size limit: a DiskError that says what to do, nothing saved is damaged.

How the faults are made for real (tests run as root here, where chmod does not
stop writes):
  full disk     a 64 MB tmpfs mounted under the test folder, shrunk to what is
                used plus 15 MB once step 1 is saved (a checkpoint is ~30 MB): ENOSPC.
  read-only     the checkpoints folder bind-mounted read-only onto itself: EROFS
                (as a normal user, chmod 0555 gives EACCES).
  size limit    RLIMIT_FSIZE on the worker with SIGXFSZ ignored: EFBIG, what a FAT32
                drive gives past 4 GB. Works for any user, so it is also the
                full-disk fallback where mounting is not allowed.
Before this suite safetensors and torch.save turned ENOSPC into their own
error types ("unexpected pos 576 vs 534") that escaped the DiskError handler.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from faults import (Worker, can_mount, files_state, fresh_run, limit_file_size, one_thread,  # noqa: F401
                    run_template, small_filesystem)

from core.errors import DiskError
from core.events import StepMetrics
from core.store import RunDir
from core.training.checkpoints import complete_checkpoints, load_checkpoint
from core.training.loop import train_run
from core.runs import run_state

MOUNT = can_mount()


def _one_step(run: Path) -> dict[str, bytes]:
    """Train step 1 (checkpoint step-1) in this process; return the saved checkpoint's bytes."""
    events: list = []
    train_run(run, on_event=events.append, should_stop=lambda: any(isinstance(e, StepMetrics) for e in events))
    assert [p.name for p in complete_checkpoints(run / "checkpoints")] == ["step-1"]
    return files_state(run / "checkpoints")


def _assert_nothing_lost(run: Path, saved: dict[str, bytes], reason: str) -> None:
    assert files_state(run / "checkpoints") == saved  # step-1 untouched, no .tmp-step-2 left behind
    assert load_checkpoint(run / "checkpoints" / "step-1")["state"]["step"] == 1
    meta = RunDir(run).read_run()
    assert meta["status"] == "failed" and reason in meta["error"]
    state = run_state(run)
    assert state.resumable and state.checkpoint_step == 1


def _worker_fails_saving_step_2(run: Path, reason: str, hint: str, preexec=None) -> None:
    saved = files_state(run / "checkpoints")
    worker = Worker(run, preexec=preexec)
    assert worker.finish(300) == 2, worker.describe()
    failed = worker.of_type("Failed")
    assert len(failed) == 1, worker.describe()
    assert failed[0]["message"] == f"Could not save the checkpoint at step 2: {reason}", failed
    assert hint in failed[0]["hint"] and "Checkpoints already saved are intact." in failed[0]["hint"]
    assert worker.steps() == [2]
    _assert_nothing_lost(run, saved, reason)


def test_full_disk_while_saving_a_checkpoint(fresh_run, tmp_path: Path, one_thread) -> None:
    if not MOUNT:  # not root: a file-size limit is the full disk this process can make
        run = fresh_run()
        _one_step(run)
        _worker_fails_saving_step_2(run, os.strerror(errno.EFBIG), "refuses files this large", limit_file_size(8 * 2**20))
        return
    with small_filesystem(tmp_path / "disk", 64 * 2**20) as disk:
        run = fresh_run(where=disk)
        _one_step(run)
        st = os.statvfs(disk)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        subprocess.run(["mount", "-o", f"remount,size={used + 15 * 2**20}", str(disk)], check=True)
        _worker_fails_saving_step_2(run, os.strerror(errno.ENOSPC), "Free some disk space")


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[str]:
    if MOUNT:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            yield os.strerror(errno.EROFS)
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
    else:
        folder.chmod(0o555)
        try:
            yield os.strerror(errno.EACCES)
        finally:
            folder.chmod(0o755)


def test_read_only_checkpoints_folder_stops_the_loop_with_the_message(fresh_run, one_thread) -> None:
    run = fresh_run()
    saved = _one_step(run)
    with read_only(run / "checkpoints") as reason:
        with pytest.raises(DiskError) as err:
            train_run(run, resume=True)
        assert err.value.message == f"Could not save the checkpoint at step 2: {reason}"
        assert "read-only" in err.value.hint and "then resume" in err.value.hint
        _assert_nothing_lost(run, saved, reason)
    steps = [m["step"] for m in RunDir(run).read_metrics() if m["type"] == "step"]
    assert steps == [1, 2]  # step 2 ran; only its checkpoint could not be written


def test_file_size_limit_in_the_worker(fresh_run, one_thread) -> None:
    run = fresh_run()
    _one_step(run)
    _worker_fails_saving_step_2(run, os.strerror(errno.EFBIG), "refuses files this large", limit_file_size(8 * 2**20))
