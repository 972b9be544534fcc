"""Two processes on one run folder: the second is refused with who holds it, and nothing is corrupted.

The first trainer is a real worker subprocess; the second is the real CLI
(`python main.py train --out RUN --resume`), a second worker, and prepare_run
in this process. A lock whose holder was SIGKILLed is free at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_DOCS
from faults import WORKER_ENV, Worker, fresh_run, is_event, run_template, tiny_config  # noqa: F401

from core.locks import RunLocked, holder, run_lock
from core.pipeline import prepare_run
from core.store import RunDir
from core.training.checkpoints import complete_checkpoints, load_checkpoint
from core.worker import request_stop


def _message(pid: int) -> str:
    return f"This run is being trained by another TuneDesk process (pid {pid})"


def test_second_trainer_is_refused_while_the_first_trains_on(fresh_run) -> None:
    run = fresh_run()
    meta = RunDir(run).read_run()
    meta["config"]["max_steps"] = 60  # still training while the others try
    RunDir(run).update_run(**meta)
    first = Worker(run)
    assert first.wait_for(is_event("StepMetrics"), 180), first.describe()
    assert holder(run) == first.pid

    cli = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--out", str(run), "--resume"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, **WORKER_ENV})
    assert cli.returncode == 2, cli.stderr[-2000:]
    assert _message(first.pid) in cli.stderr and "Wait for it to finish or stop it" in cli.stderr

    second = Worker(run)
    assert second.finish(300) == 2, second.describe()
    failed = second.of_type("Failed")
    assert len(failed) == 1 and failed[0]["message"].startswith(_message(first.pid)), failed
    assert not second.steps()

    with pytest.raises(RunLocked) as err:
        prepare_run([SAMPLE_DOCS], run, tiny_config())
    assert err.value.pid == first.pid and err.value.hint

    assert first.proc.poll() is None  # the first trainer never noticed
    request_stop(run)
    assert first.finish(300) == 3, first.describe()
    steps = [m["step"] for m in RunDir(run).read_metrics() if m["type"] == "step"]
    assert steps == list(range(1, len(steps) + 1))  # one writer: no interleaved or repeated steps
    assert steps == first.steps()
    for path in complete_checkpoints(run / "checkpoints"):
        assert load_checkpoint(path)["state"]["step"] == int(path.name[5:])
    assert RunDir(run).read_run()["status"] == "stopped"
    assert holder(run) is None


def test_lock_of_a_killed_process_is_free_at_once(tmp_path: Path) -> None:
    run = tmp_path / "run"
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); from core.locks import run_lock\n"
            "with run_lock(sys.argv[2]):\n    print('locked', flush=True); time.sleep(120)")
    child = subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RunLocked) as err:
            with run_lock(run):
                pass
        assert err.value.pid == child.pid and _message(child.pid) in err.value.message
        assert holder(run) == child.pid
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert (run / ".tunedesk.lock").read_bytes()[1:].strip() == str(child.pid).encode()  # the file stays...
    assert holder(run) is None  # ...but the lock went with the process
    with run_lock(run):  # and is taken at once, re-entrantly
        with run_lock(run):
            assert holder(run) == os.getpid()
    assert holder(run) is None
