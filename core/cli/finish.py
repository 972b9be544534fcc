"""What `tunedesk train` prints when training ends, for both paths (documents → run, and `train --run`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from core.errors import TuneDeskError
from core.events import never_stop
from core.store import RunStatus


def report_and_summary(run: Path, result: Any, no_eval: bool, printer: Any,
                       should_stop: Callable[[], bool] = never_stop) -> int:
    """What `train` and `train --run` print when training ends: the "did it learn?" report of a finished run
    (unless --no-eval), the folder and the figures; the exit code (0 finished, 3 stopped)."""
    if result.status == RunStatus.FINISHED and not no_eval:
        from core.evaluation.report import evaluate_run, format_report

        try:
            print(format_report(evaluate_run(run, on_event=printer, should_stop=should_stop)))
        except TuneDeskError as exc:
            print(f"(No report: {exc.message})", file=sys.stderr)
    print(f"Run folder: {run}")
    print(f"Steps: {result.step}/{result.total_steps} · train loss {result.train_loss:.3f}"
          + (f" · validation loss {result.val_loss:.3f}" if result.val_loss is not None else "")
          + f" · {result.seconds / 60:.1f} min · peak memory {result.peak_memory_gb:.1f} GB")
    return 0 if result.status == RunStatus.FINISHED else 3
