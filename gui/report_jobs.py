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
    """When the run has none: where `own` comes from ("your project", or a run of it), asked at its next check."""
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
        questions = _count_lines(RunDir(run).heldout_file) + len(general_questions()) + len(own)
        try:
            return ReportData(state, load_summary(run), questions=questions, own=own, own_from=own_from,
                              own_problem=own_problem)
        except TuneDeskError as exc:
            return ReportData(state, None, exc, questions, own=own, own_from=own_from, own_problem=own_problem)
    return job


def _own_questions(folder: Path) -> tuple[tuple[Any, ...], str, TuneDeskError | None]:
    """(questions, where they come from when a run has none of its own or '', the problem reading them): the
    check asks a run with none its project's (core.evaluation.own_questions.carry_project_questions). A project
    folder's are its own."""
    from core.evaluation.own_questions import own_questions_file, project_questions, read_own_questions

    try:
        if own_questions_file(folder).exists():
            return tuple(read_own_questions(folder)), "", None
        theirs, origin = project_questions(folder)
    except TuneDeskError as exc:
        return (), "", exc
    return tuple(theirs), origin, None


def save_own_questions_job(folder: Path, questions: list[Any]) -> Callable[[Emit, Stop], Path]:
    """Saves a run's own questions (and its project's), or a project's (core.evaluation.own_questions.save_own_questions)."""
    def job(emit: Emit, should_stop: Stop) -> Path:
        from core.evaluation.own_questions import save_own_questions

        return save_own_questions(folder, questions)
    return job


def project_questions_job(project: Path) -> Callable[[Emit, Stop], tuple[tuple[Any, ...], str]]:
    """(the project's own questions, the problem reading them or ''), for the Documents page's editor."""
    def job(emit: Emit, should_stop: Stop) -> tuple[tuple[Any, ...], str]:
        questions, _, problem = _own_questions(project)
        return questions, problem.one_line() if problem else ""
    return job
