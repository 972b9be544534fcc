"""Background job of the "did it learn?" view: read a run's report. Plain functions, no Qt.

It returns a `fn(on_event, should_stop)` for `Workers.run` (as gui/jobs.py does), so reading report.json
(a few hundred KB with every answer) never happens on the Qt main thread. Making a report runs in a worker
process instead (core.worker.check_command, started by gui/report_view.ReportChecks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.errors import TuneDeskError
from core.runs import RunState, run_state
from core.store import RunDir

Emit = Callable[[Any], None]
Stop = Callable[[], bool]


@dataclass(frozen=True)
class ReportData:
    """What the view needs about one run: its state, its report (None: none yet) and why not."""

    run: RunState
    summary: Any = None  # core.evaluation.summary.ReportSummary | None
    problem: TuneDeskError | None = None
    """A report.json that exists but cannot be read."""
    questions: int = 0
    """How many questions a check would ask (document and general), for the time it takes."""
    task: str = "chat"


def _count_lines(path: Path) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def load_report_job(run: Path) -> Callable[[Emit, Stop], ReportData]:
    def job(emit: Emit, should_stop: Stop) -> ReportData:
        from core.classify.prepare import is_classify_run
        from core.evaluation.report import general_questions
        from core.evaluation.summary import load_summary

        state = run_state(run)
        if is_classify_run(run):
            return ReportData(state, task="classify")
        questions = _count_lines(RunDir(run).heldout_file) + len(general_questions())
        try:
            return ReportData(state, load_summary(run), questions=questions)
        except TuneDeskError as exc:
            return ReportData(state, None, exc, questions)
    return job
