"""The terminal side of core events: a progress bar and plain lines, and Ctrl-C as a stop request.

Every command prints through these, so a training run, an evaluation and a download
read alike; none of them needs to know how the others print.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from core.errors import Cancelled, TuneDeskError
from core.events import Caution, CheckpointSaved, EvalMetrics, Event, Failed, Finished, Progress, StepMetrics


def fmt_time(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ConsolePrinter:
    """Turns core events into a progress bar and plain lines."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: Any = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepMetrics):
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=event.total_steps, initial=event.step - 1, unit="step", file=self.stream,
                                dynamic_ncols=True, desc="training")
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix_str(f"loss {event.loss:.3f} · {event.tokens_per_second:.0f} tok/s · ETA {fmt_time(event.eta_s)}")
            return
        self._close_bar_if_done(event)
        if isinstance(event, Progress):
            self._line(f"· {event.message}")
        elif isinstance(event, EvalMetrics):
            self._line(f"  step {event.step}: validation loss {event.val_loss:.3f} (training {event.train_loss:.3f})")
            if event.overfitting:
                self._line(f"  ! {event.message}")
        elif isinstance(event, CheckpointSaved):
            pass  # frequent; the bar already shows progress
        elif isinstance(event, Caution):
            self._line(f"! {event.message}")
        elif isinstance(event, Finished):
            self._line(f"✓ {event.message}")
        elif isinstance(event, Failed):
            self._line(f"✗ {event.message}" + (f"\n  → {event.hint}" if event.hint else ""))

    def _line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _close_bar_if_done(self, event: Event) -> None:
        if isinstance(event, Finished) and self.bar is not None:
            self.bar.close()
            self.bar = None


class DownloadPrinter:
    """A byte progress bar for a download's running count (Progress.tick); every other event is a line."""

    def __init__(self) -> None:
        self.lines = ConsolePrinter()
        self.bar: Any = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress) and event.tick and event.total:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=event.total, initial=event.done, unit="B", unit_scale=True, unit_divisor=1024,
                                file=sys.stderr, dynamic_ncols=True, desc="download")
            self.bar.update(event.done - self.bar.n)
            return
        if self.bar is not None:
            self.bar.write(f"· {event.message}" if isinstance(event, Progress) else str(event), file=sys.stderr)
        else:
            self.lines(event)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def stop_on_ctrl_c() -> threading.Event:
    """First Ctrl-C: stop cleanly at the next step. Second: abort."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return stop

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        print("\nStopping after this step (press Ctrl-C again to abort)…", file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    return stop


def run_command(func: Any, args: Any) -> int:
    """Run one command: errors as what happened + what to do (exit 2), a stop or Ctrl-C as 130."""
    try:
        return func(args)
    except TuneDeskError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"What to do: {exc.hint}", file=sys.stderr)
        return 2
    except Cancelled:
        print("Stopped.", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nAborted.", file=sys.stderr)
        return 130
