"""A crash inside native code (a signal, no Python exception) of the real training worker is not silent.

The app shows the worker's stderr in the run's log and says the run "ended unexpectedly"
(gui/workers.py); the worker's part is to print the Python stack the crash happened under.
"""

from __future__ import annotations

import os
import signal

from faults import Worker, fresh_run, is_event, run_template  # noqa: F401 (fixtures)


def test_a_native_crash_prints_the_python_stack_it_happened_under(fresh_run) -> None:
    run = fresh_run()
    worker = Worker(run)
    assert worker.wait_for(is_event("Progress", message=lambda m: m.startswith("Loading")), 180), worker.describe()
    os.kill(worker.pid, signal.SIGSEGV)  # what a fault in torch, oneDNN or a driver raises
    rc = worker.finish(120)

    assert rc == -signal.SIGSEGV, worker.describe()  # still a crash: the app's "ended unexpectedly" path
    err = worker.stderr.decode("utf-8", "replace")
    assert "Fatal Python error: Segmentation fault" in err, err[-2000:]
    assert "in _worker_main" in err and "in worker_main" in err, err[-2000:]  # where: the worker's own frames
