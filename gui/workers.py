"""All background work of the app: start, cancel and shut down, in one place.

Two kinds of work:
  * `Task` — a core call `fn(on_event, should_stop)` on a QThread (preparing a
    run, reading documents, loading a model, streaming a chat reply). Its core
    events (or streamed text pieces) arrive as the `event` signal, its result as
    `succeeded`, an exception as `failed`; a `Cancelled` is `cancelled`, never
    an error. Failures go to the notification funnel unless the caller handles
    them (Anki's QueryOp: success on the main thread, a default error path).
  * `TrainingProcess` — the training worker subprocess (core.worker) run with
    QProcess; each JSON line of its stdout becomes one core event on `event`.
    A child process keeps the app alive if training runs out of memory, and
    frees all model memory when it ends.
Widgets only connect to these signals; nothing here touches a widget.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QProcess, QThread, Signal

from core.errors import Cancelled
from core.events import Failed, Finished, from_dict
from core.runs import adopt_trainer, release_trainer
from core.worker import CHECK_STOP_FILE, STOP_FILE, request_stop, unexpected_end, worker_command
from gui.notify import Notifier

TaskFn = Callable[[Callable[[Any], None], Callable[[], bool]], Any]


class Task(QThread):
    """One background call. Signals are emitted from the worker thread; Qt queues them to the main thread."""

    event = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    cancelled = Signal()

    def __init__(self, fn: TaskFn, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fn = fn
        self.name = name
        self._stop = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        self._stop.set()

    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # worker thread
        try:
            self.result = self.fn(self.event.emit, self._stop.is_set)
        except Cancelled:
            self.cancelled.emit()
            return
        except BaseException as exc:  # handed to the main thread, shown through the funnel
            self.error = exc
            self.failed.emit(exc)
            return
        if self._stop.is_set():
            self.cancelled.emit()
        else:
            self.succeeded.emit(self.result)


class TrainingProcess(QObject):
    """A worker subprocess of one run, speaking JSON-line core events: training (core.worker.worker_command),
    or with `what` and `stop_file` set, another job of that worker, such as the check (check_command)."""

    event = Signal(object)  # core events, parsed from stdout
    log = Signal(str)  # anything else the child printed
    ended = Signal(str)  # "finished" | "stopped" | "failed"

    def __init__(self, notifier: Notifier, parent: QObject | None = None, what: str = "Training",
                 stop_file: str = STOP_FILE) -> None:
        super().__init__(parent)
        self.notifier = notifier
        self.what = what
        self.stop_file = stop_file
        self.run: Path | None = None
        self._process: QProcess | None = None
        self._buffer = b""
        self._outcome = ""
        self._stopping = False
        self._pid = 0

    def is_running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    def start(self, run: Path, resume: bool = False, command: list[str] | None = None, prepare: bool = False) -> None:
        """Start training `run` (with `prepare`: preparing it first, as core.pipeline.request_preparation asked);
        `command` replaces core.worker.worker_command (for a custom worker)."""
        if self.is_running():
            raise RuntimeError(f"{self.what}: a process is already running.")
        self.run = Path(run)
        self._buffer, self._outcome, self._stopping = b"", "", False
        argv = command or worker_command(self.run, resume, prepare)
        process = QProcess(self)
        process.setProgram(argv[0])
        process.setArguments(argv[1:])
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        if self.stop_file == STOP_FILE:  # a trainer holds the run's lock: the app's own, not "elsewhere"
            process.started.connect(lambda p=process: self._adopt(p))
        self._process = process
        process.start()

    def _adopt(self, process: QProcess) -> None:
        """The run this child holds is this app's (core.runs: not "being trained elsewhere")."""
        self._pid = int(process.processId())
        adopt_trainer(self._pid)

    def stop(self) -> None:
        """Ask for a stop at the next step; the worker saves a checkpoint and reports Finished."""
        if self.run is not None and self.is_running():
            self._stopping = True
            request_stop(self.run, self.stop_file)

    def shutdown(self, wait_ms: int = 15000) -> None:
        """On quit: stop cleanly if it answers in time, otherwise kill (the last checkpoint is kept)."""
        if not self.is_running() or self._process is None:
            return
        self.stop()
        if not self._process.waitForFinished(wait_ms):
            self._process.kill()
            self._process.waitForFinished(3000)

    def _read_stdout(self) -> None:
        assert self._process is not None
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            self._handle_line(raw.decode("utf-8", "replace").strip())

    def _handle_line(self, line: str) -> None:
        if not line:
            return
        try:
            event = from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError):
            self.log.emit(line)
            return
        if isinstance(event, Failed):
            self._outcome = "failed"
            self.notifier.report_failed(event)
        elif isinstance(event, Finished):
            self._outcome = "stopped" if event.stopped_by_user else "finished"
        self.event.emit(event)

    def _read_stderr(self) -> None:
        assert self._process is not None
        text = bytes(self._process.readAllStandardError().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self.log.emit(line.rstrip())

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._outcome = "failed"
            self.notifier.post("error", f"{self.what}: the process could not be started.",
                               "Check that TuneDesk is installed completely, then try again.")
            self._process = None
            self.ended.emit("failed")

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if self._buffer:
            self._handle_line(self._buffer.decode("utf-8", "replace").strip())
            self._buffer = b""
        release_trainer(self._pid)
        outcome = self._outcome
        if not outcome:  # ended without a Finished or Failed event: killed or crashed
            outcome = "failed"
            self.notifier.post("error", *unexpected_end(self.what, code, status == QProcess.ExitStatus.CrashExit,
                                                        checkpoints_kept=self.stop_file == STOP_FILE))
        self._process = None
        self.ended.emit(outcome)


class Workers(QObject):
    """Owner of every running Task and the training process; `shutdown` ends them all."""

    def __init__(self, notifier: Notifier, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.notifier = notifier
        self.tasks: set[Task] = set()
        self.training = TrainingProcess(notifier, self)
        self.checking = TrainingProcess(notifier, self, "Checking what the model learned", CHECK_STOP_FILE)

    def run(self, fn: TaskFn, name: str, *, on_event: Callable[[Any], None] | None = None,
            on_success: Callable[[Any], None] | None = None, on_failure: Callable[[BaseException], None] | None = None,
            on_done: Callable[[], None] | None = None) -> Task:
        """Start `fn(on_event, should_stop)` in the background. Failures reach the funnel
        (and then `on_failure`, if given); `on_done` runs last whatever happened."""
        task = Task(fn, name, self)
        if on_event is not None:
            task.event.connect(on_event)
        if on_success is not None:
            task.succeeded.connect(on_success)
        task.failed.connect(self.notifier.report_exception)
        if on_failure is not None:
            task.failed.connect(on_failure)
        if on_done is not None:
            task.finished.connect(on_done)
        task.finished.connect(lambda t=task: self._forget(t))
        self.tasks.add(task)
        task.start()
        return task

    def _forget(self, task: Task) -> None:
        self.tasks.discard(task)
        task.deleteLater()

    def busy(self) -> bool:
        return bool(self.tasks) or self.training.is_running() or self.checking.is_running()

    def shutdown(self, wait_ms: int = 15000) -> None:
        for task in list(self.tasks):
            task.cancel()
        self.training.shutdown(wait_ms)
        self.checking.shutdown(wait_ms)
        for task in list(self.tasks):
            task.wait(wait_ms)
