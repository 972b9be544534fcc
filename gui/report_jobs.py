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
    own: tuple[Any, ...] = ()
    """The person's own questions for this run (core.evaluation.own_questions.OwnQuestion)."""
    own_from: str = ""
    """When the run has none: the run of the same project whose questions `own` are, offered to start from."""
    own_problem: TuneDeskError | None = None
    """A my_questions.jsonl that cannot be read."""


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
        own, own_from, own_problem = _own_questions(run)
        questions = _count_lines(RunDir(run).heldout_file) + len(general_questions()) + len(own) * (not own_from)
        try:
            return ReportData(state, load_summary(run), questions=questions, own=own, own_from=own_from,
                              own_problem=own_problem)
        except TuneDeskError as exc:
            return ReportData(state, None, exc, questions, own=own, own_from=own_from, own_problem=own_problem)
    return job


def _own_questions(run: Path) -> tuple[tuple[Any, ...], str, TuneDeskError | None]:
    """(questions, the sibling run they come from or '', the problem reading this run's): a run with none of its
    own is offered its newest sibling's (core.evaluation.own_questions.sibling_questions)."""
    from core.evaluation.own_questions import own_questions_file, read_own_questions, sibling_questions

    try:
        mine = read_own_questions(run)
    except TuneDeskError as exc:
        return (), "", exc
    if mine or own_questions_file(run).exists():
        return tuple(mine), "", None
    theirs, name = sibling_questions(run)
    return tuple(theirs), name, None


def save_own_questions_job(run: Path, questions: list[Any]) -> Callable[[Emit, Stop], Path]:
    def job(emit: Emit, should_stop: Stop) -> Path:
        from core.evaluation.own_questions import write_own_questions

        return write_own_questions(run, questions)
    return job
