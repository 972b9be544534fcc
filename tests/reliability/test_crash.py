"""A crash inside native code (a signal, no Python exception) of the real training worker is not silent.

The app shows the worker's stderr in the run's log and says what the signal means and what to do
(core.worker.unexpected_end, shown by gui/workers.py); the worker's part is to print the Python stack the
crash happened under.
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

    assert rc == -signal.SIGSEGV, worker.describe()  # still a crash: the app's unexpected_end path
    err = worker.stderr.decode("utf-8", "replace")
    assert "Fatal Python error: Segmentation fault" in err, err[-2000:]
    assert "in _worker_main" in err and "in worker_main" in err, err[-2000:]  # where: the worker's own frames


def test_the_app_says_what_a_crash_or_a_kill_by_the_system_means_and_what_to_do(fresh_run, qtbot) -> None:
    """The app's side: a worker that ends on a signal gets a message naming it, and a hint that leads back."""
    from gui.notify import Notifier
    from gui.workers import TrainingProcess

    notifier = Notifier()
    shown: list = []
    notifier.notified.connect(shown.append)
    training = TrainingProcess(notifier)
    run = fresh_run()
    for sig, says in ((signal.SIGSEGV, "Training crashed inside a native library (signal 11, SIGSEGV)."),
                      (signal.SIGKILL, "Training was ended by the system (signal 9, SIGKILL).")):
        loading: list = []
        before = len(shown)
        training.event.connect(loading.append)
        with qtbot.waitSignal(training.ended, timeout=180_000) as ended:
            training.start(run, resume=True)
            qtbot.waitUntil(lambda: bool(loading), timeout=180_000)  # the real worker, started and talking
            os.kill(training._pid, sig)
        training.event.disconnect(loading.append)
        assert ended.args == ["failed"]
        qtbot.waitUntil(lambda: len(shown) > before)  # delivered on the main thread, queued
        assert shown[-1].level == "error" and shown[-1].message.startswith(says), shown[-1]
        assert "Resume" in shown[-1].hint and "memory" in shown[-1].hint, shown[-1].hint
    assert sig == signal.SIGKILL and "ran out of memory" in shown[-1].message
