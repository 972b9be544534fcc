"""Training in a child process, speaking JSON lines.

The GUI (and reliability tests) start `sys.executable main.py --worker train
RUN [--resume]` (or `--worker check RUN`, the "did it learn?" check) — in a frozen app `sys.executable` is the app itself, which
routes `--worker` here. A child process keeps the app alive when training
runs out of memory or is killed, and frees all model memory when it ends.
Each core event is one JSON line on stdout; a stop is requested by creating
`RUN/STOP` (works on every OS, no signals needed).

Exit codes: 0 finished, 3 stopped (resumable), 2 a `Failed` event says why
(out of memory, full disk, run locked…), 1 an unexpected error (also a
`Failed` event). Killed by a signal: nothing is emitted, and the run folder
is still valid and resumable (see core.runs).

A stop answers within one training step. While the model is still loading
there is nothing to save, and loading cannot be interrupted from inside
(imports, from_pretrained), so a watcher thread ends the process at once; the
run folder is only written after loading, so that exit loses nothing.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

from core.errors import Cancelled, TuneDeskError
from core.events import Caution, Event, Failed, Finished, Progress, Stage, StepMetrics, to_dict

STOP_FILE = "STOP"
CHECK_STOP_FILE = "STOP-CHECK"
"""A check's own stop request: never read by a training worker of the same run."""
EXIT_FINISHED, EXIT_ERROR, EXIT_FAILED, EXIT_STOPPED = 0, 1, 2, 3
_STOP_POLL_S = 0.1
_emit_lock = threading.Lock()


def request_stop(run: Path | str, stop_file: str = STOP_FILE) -> None:
    (Path(run) / stop_file).touch()


def unexpected_end(what: str, code: int, crashed: bool, checkpoints_kept: bool) -> tuple[str, str]:
    """What to tell a person whose worker ended with neither a Finished nor a Failed event, and what to do.

    Such an end is a crash in native code or the system ending the process; both usually mean memory ran
    out where Python could not see it (Linux's out-of-memory killer sends SIGKILL; a library that does not
    check a failed allocation crashes). `code` is the exit code, or with `crashed` the signal (POSIX) or
    the exception code (Windows) the process ended with, as QProcess reports them."""
    if not crashed:
        message = f"{what} ended unexpectedly (exit code {code})."
    elif os.name != "nt" and code == 9:
        message = (f"{what} was ended by the system (signal 9, SIGKILL). When nobody stopped it, this almost "
                   "always means the computer ran out of memory.")
    else:
        message = f"{what} crashed inside a native library ({_crash_name(code)})."
    again = "If it happens again, close other programs"
    hint = (f"The last checkpoint is kept: choose the run and press Resume. {again} or choose the 'quick' preset "
            "to use less memory." if checkpoints_kept else f"Nothing in the run was changed: try again. {again}.")
    if crashed:
        hint += " The log shows where it stopped."
    return message, hint


def _crash_name(code: int) -> str:
    if os.name == "nt":
        known = {0xC0000005: "access violation", 0xC00000FD: "stack overflow", 0xC0000409: "stack buffer overrun"}
        code &= 0xFFFFFFFF
        return f"code 0x{code:08X}" + (f", {known[code]}" if code in known else "")
    import signal

    try:
        return f"signal {code}, {signal.Signals(code).name}"
    except ValueError:
        return f"signal {code}"


def _app_argv() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, str(Path(__file__).resolve().parent.parent / "main.py")]


def worker_command(run: Path | str, resume: bool = False, prepare: bool = False) -> list[str]:
    """The argv that starts a training worker, source checkout or frozen bundle alike. With `prepare`, it
    first prepares the run that core.pipeline.request_preparation described (documents → dataset)."""
    return _app_argv() + ["--worker", "train", str(run)] + (["--resume"] if resume else []) + (
        ["--prepare"] if prepare else [])


def check_command(run: Path | str) -> list[str]:
    """The argv that checks what a trained run learned (RUN/report.json), as `tunedesk eval RUN` does.
    In its own process, like training: in the app's process the same check ran 2-3× slower, the model
    competing with the GUI's main-thread garbage collector for the interpreter."""
    return _app_argv() + ["--worker", "check", str(run)]


def _emit(event: Event) -> None:
    line = json.dumps(to_dict(event)) + "\n"
    with _emit_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


_stop_reported = threading.Event()


def _report_stopped_while_loading(run: Path) -> None:
    """Emit the stop-before-training Finished once: the stop-watch thread and the loop's own
    Cancelled can both see the same STOP in the same moment, and the app must get one answer."""
    with _emit_lock:
        if _stop_reported.is_set():
            return
        _stop_reported.set()
    _emit(_stopped_while_loading(run))


def _stopped_while_loading(run: Path) -> Finished:
    """What a stop before the first step reports: the run is where its newest checkpoint left it."""
    from core.training.checkpoints import newest_step

    step = newest_step(run / "checkpoints") or 0
    adapter = run / "adapter"
    if not (run / "run.json").is_file():  # stopped while preparing: there is no run to continue
        return Finished(0, True, "", "Stopped before training began.")
    return Finished(step, True, str(adapter) if adapter.is_dir() else "",
                    "Stopped before training began; nothing was lost. Resume continues from "
                    + (f"step {step}." if step else "the beginning."))


def _process_start() -> float:
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:  # psutil missing or refused: the time we got here is a close second
        return time.time()


class _StopWatch:
    """Answers STOP: through `should_stop` once training runs, by ending the process while loading."""

    def __init__(self, stop_file: Path) -> None:
        self.stop_file = stop_file
        self.training = threading.Event()  # set at the first training event: from then on the loop answers
        self.done = threading.Event()

    def should_stop(self) -> bool:
        return self.stop_file.exists()

    def on_event(self, event: Event) -> None:
        if isinstance(event, StepMetrics) or (isinstance(event, Progress) and event.stage == Stage.TRAIN):
            self.training.set()
        _emit(event)

    def watch(self) -> None:
        while not self.done.wait(_STOP_POLL_S):
            if self.training.is_set():
                return
            if self.stop_file.exists():
                _report_stopped_while_loading(self.stop_file.parent)
                self.stop_file.unlink(missing_ok=True)
                os._exit(EXIT_STOPPED)  # nothing to save yet, and loading cannot be interrupted otherwise


def _report(run: Path, watch: _StopWatch) -> None:
    """The "did it learn?" report, as `tunedesk train` writes it: the app shows it when the run finishes.
    The run is finished whatever happens here; a stop or a failure only leaves it without a report."""
    from core.evaluation.report import evaluate_run
    from core.store import RunDir
    from core.training.config import TrainConfig

    try:
        if TrainConfig.from_dict(RunDir(run).read_run()["config"]).report:
            evaluate_run(run, on_event=watch.on_event, should_stop=watch.should_stop)
    except Cancelled:
        _emit(Caution("Stopped while checking what the model learned: the model is trained, without a report."))
    except Exception as exc:  # the run is trained and saved: a failed check must not read as a failed training
        why = exc.message if isinstance(exc, TuneDeskError) else f"{type(exc).__name__}: {exc}"
        _emit(Caution(f"No report on what the model learned ({why}). The model is trained; the check can be "
                      "run again from the run's menu."))


def worker_main(argv: Sequence[str]) -> int:
    """Run the worker and end the process (it never returns).

    The exit skips the interpreter's teardown of torch and friends, which took
    3 s of a 4 s stop on a busy machine: by then every file is written and
    fsynced or atomically renamed, and stdout is flushed.

    A crash inside native code (a signal, no Python exception) prints the Python stack it happened under to
    stderr, which the app shows in the run's log beside what the crash means (unexpected_end), not silence.
    """
    _trace_crashes()
    try:
        code = _worker_main(argv)
    except MemoryError:  # even importing torch can fail when memory is short
        _emit(Failed("Out of memory while starting training.",
                     "Close other programs and try again, or choose the 'quick' preset or a smaller model."))
        code = EXIT_FAILED
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _trace_crashes() -> None:
    import faulthandler

    try:
        faulthandler.enable(file=sys.stderr, all_threads=True)
    except (AttributeError, ValueError, OSError):  # no usable stderr (a windowed app started without pipes)
        pass


def _clear_stale(stop_file: Path) -> None:
    """A stop request older than this process was left by a killed worker; a newer one is for us."""
    try:
        if stop_file.stat().st_mtime < _process_start() - 1.0:
            stop_file.unlink(missing_ok=True)
    except OSError:
        pass


def _check(run: Path) -> int:
    """The "did it learn?" check of a finished run; a stop (CHECK_STOP_FILE) ends it between answers."""
    stop_file = run / CHECK_STOP_FILE
    _clear_stale(stop_file)
    from core.quiet import quiet_libraries

    quiet_libraries()
    try:
        from core.evaluation.report import evaluate_run

        evaluate_run(run, on_event=_emit, should_stop=stop_file.exists)
        _emit(Finished(0, False, "", "Checked what the model learned."))
        return EXIT_FINISHED
    except Cancelled:
        _emit(Finished(0, True, "", "Check stopped: the earlier report, if any, is kept."))
        return EXIT_STOPPED
    except TuneDeskError as exc:
        _emit(Failed(exc.message, exc.hint))
        return EXIT_FAILED
    except MemoryError:
        _emit(Failed("Out of memory while checking what the model learned.", "Close other programs and try again."))
        return EXIT_FAILED
    except Exception as exc:  # shown through the GUI's funnel, never silent
        _emit(Failed(f"Checking what the model learned failed: {type(exc).__name__}: {exc}",
                     "Try again; the run itself is unchanged."))
        return EXIT_ERROR
    finally:
        stop_file.unlink(missing_ok=True)


def _worker_main(argv: Sequence[str]) -> int:
    if len(argv) >= 2 and argv[0] == "check":
        return _check(Path(argv[1]))
    if len(argv) < 2 or argv[0] != "train":
        _emit(Failed("Unknown worker command.", "This is an internal entry point of the app."))
        return EXIT_FAILED
    run = Path(argv[1])
    resume = "--resume" in argv[2:]
    prepare = "--prepare" in argv[2:]
    stop_file = run / STOP_FILE
    _clear_stale(stop_file)
    watch = _StopWatch(stop_file)  # first: everything after this takes seconds of imports
    threading.Thread(target=watch.watch, name="stop-watch", daemon=True).start()
    from core.quiet import quiet_libraries

    quiet_libraries()
    try:
        from core.classify.prepare import is_classify_run

        if is_classify_run(run):  # the labelled-rows task: the same worker, events and stop file
            from core.classify.train import train_classifier as train_run
        else:
            from core.training.loop import train_run  # inside the try: the imports can run out of memory

            if prepare:
                from core.pipeline import prepare_requested

                prepare_requested(run, on_event=watch.on_event, should_stop=watch.should_stop)
        result = train_run(run, on_event=watch.on_event, should_stop=watch.should_stop, resume=resume)
        if result.status == "finished" and not is_classify_run(run):
            _report(run, watch)
        return EXIT_FINISHED if result.status == "finished" else EXIT_STOPPED
    except Cancelled:
        _report_stopped_while_loading(run)
        return EXIT_STOPPED
    except TuneDeskError as exc:
        _emit(Failed(exc.message, exc.hint))
        return EXIT_FAILED
    except MemoryError:
        _emit(Failed("Out of memory before training began.",
                     "Close other programs and try again, or choose the 'quick' preset or a smaller model."))
        return EXIT_FAILED
    except Exception as exc:  # shown to the user through the GUI's funnel, never silent
        _emit(Failed(f"Training failed: {type(exc).__name__}: {exc}", "See the log in the run folder, then resume."))
        return EXIT_ERROR
    finally:
        watch.done.set()
        stop_file.unlink(missing_ok=True)
