"""Your own questions for the "did it learn?" check: the one measure the check cannot write itself.

The check's held-out questions are made from the documents' own words, and on the realistic benchmark they read
9-37 points above hand-written questions about the same documents (README, Benchmarks). Session 39 tried to close
that gap by asking the held-out facts in a few rare words instead: the report came within 13 points on all five
runs, but only because the chat's routing sent a fifth of those terse questions to the original weights; the
tuned weights alone answered 71-76% of them against 41-49% of people's. Questions worded from a document stay
near its wording; people's are not. So a person can add their own questions, each with what a right answer
contains, and the check asks them the way Chat would and reports them apart, as the figure to trust.

They live in a project's folder, where a person can write them before the first run, and each run keeps the ones its
check asked, in the same file (OWN_QUESTIONS_FILE), one JSON object per line: {"q": ..., "a": [...]}. A run with none
of its own is checked on its project's (carry_project_questions); questions saved for a run are its project's too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from core.errors import RunError, TuneDeskError
from core.paths import sample_questions_file
from core.projects import project_of_run
from core.store import write_jsonl

OWN_QUESTIONS_FILE = "my_questions.jsonl"

ANSWER_SEPARATOR = "|"
"""Between right answers typed in one cell: '45p | 45 pence'."""


@dataclass(frozen=True)
class OwnQuestion:
    question: str
    answers: tuple[str, ...]
    """A reply is right when it contains one of these (core/evaluation/scoring.py is_correct)."""

    def as_item(self) -> dict[str, object]:
        """The form the check's scoring reads (core/evaluation/scoring.py ask_all)."""
        return {"q": self.question, "a": list(self.answers), "doc": "", "kind": "own"}


def own_questions_file(folder: Path | str) -> Path:
    """A run's or a project's: the same file in either folder."""
    return Path(folder) / OWN_QUESTIONS_FILE


def from_rows(rows: Iterable[tuple[str, str]]) -> list[OwnQuestion]:
    """Questions typed as (question, right answers) rows, right answers separated by '|'; rows left blank are
    skipped. Every problem is named with its row, so a person can fix them all at once and lose nothing typed."""
    out: list[OwnQuestion] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for n, (question, answers) in enumerate(rows, 1):
        question = " ".join((question or "").split())
        accepted = tuple(a.strip() for a in (answers or "").split(ANSWER_SEPARATOR) if a.strip())
        if not question and not accepted:
            continue
        if not question:
            problems.append(f"row {n} has an answer but no question")
        elif not accepted:
            problems.append(f"row {n} (“{question}”) has no right answer")
        elif question.lower() in seen:
            problems.append(f"row {n} asks the same as row {seen[question.lower()]}")
        else:
            seen[question.lower()] = n
            out.append(OwnQuestion(question, accepted))
    if problems:
        raise TuneDeskError("Some of your questions cannot be checked: " + "; ".join(problems) + ".",
                            "Give each question the words a right answer must contain (several: separate them "
                            f"with {ANSWER_SEPARATOR}), or clear the row.")
    return out


def read_own_questions(folder: Path | str) -> list[OwnQuestion]:
    """A run's or a project's own questions; [] when it has none. A damaged file is a RunError, not an empty list:
    a check that silently dropped them would report without the figure the person asked for."""
    path = own_questions_file(folder)
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return from_rows(_json_row(line) for line in lines if line.strip())
    except (OSError, ValueError, KeyError, TypeError, TuneDeskError) as exc:
        detail = exc.message if isinstance(exc, TuneDeskError) else str(exc)
        raise RunError(f"Your own questions in {path.parent.name} cannot be read ({detail}).",
                       f"Open them again and save, or fix or delete {path}.") from exc


def write_own_questions(folder: Path | str, questions: Sequence[OwnQuestion]) -> Path:
    """Replace a run's or a project's own questions. None is a choice kept as an empty file, not a missing one: a
    run or project whose questions were all cleared must not take them back from the runs beside it."""
    path = own_questions_file(folder)
    write_jsonl(path, ({"q": q.question, "a": list(q.answers)} for q in questions))
    return path


def save_own_questions(run: Path | str, questions: Sequence[OwnQuestion]) -> Path:
    """Questions a person saved for a run: the run's, and its project's, so the project's next run is checked on them
    without typing them again. The run's file. Given a project folder, the project's alone (no project holds it)."""
    project = project_of_run(run)
    if project is not None:
        write_own_questions(project, questions)
    return write_own_questions(run, questions)


def project_questions(run: Path | str) -> tuple[list[OwnQuestion], str]:
    """(questions, where they come from) for a run with none of its own: its project's, else, for a project whose
    questions were saved in a run before projects kept them, the newest other run's beside it that has readable
    ones; ([], '') when there are none or the run is in no project. A damaged project file is a RunError, as a
    run's is."""
    project = project_of_run(run)
    if project is None:  # a run made elsewhere (the CLI's --out) takes nothing from the folders beside it
        return [], ""
    if own_questions_file(project).exists():
        return read_own_questions(project), "your project"
    root = Path(run)
    found = sorted((p for p in root.parent.glob(f"*/{OWN_QUESTIONS_FILE}") if p.parent != root),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    for path in found:
        try:
            questions = read_own_questions(path.parent)
        except RunError:
            continue
        if questions:
            return questions, f"the run “{path.parent.name}”"
    return [], ""


def carry_project_questions(run: Path | str) -> str:
    """Give a run with none of its own the questions project_questions finds, so its check asks what the person
    wrote, typed before the run or after it; where they came from, or ''. Called as the check starts, not when the
    run is prepared: questions written while it trained are asked too."""
    if own_questions_file(run).exists():
        return ""
    questions, origin = project_questions(run)
    if questions:
        write_own_questions(run, questions)
    return origin


def add_sample_questions(project: Path | str) -> list[OwnQuestion]:
    """Give a project made from the sample documents their sample questions (core.paths.sample_questions_file),
    unless it has questions of its own: its first report then leads with questions in a person's words, and the
    editor shows what such questions look like. The questions given ([] when it kept its own)."""
    if own_questions_file(project).exists():
        return []
    questions = read_question_file(sample_questions_file())
    write_own_questions(project, questions)
    return questions


def _json_row(line: str) -> tuple[str, str]:
    """One JSON line {"q": ..., "a": [...] or "..."} as a (question, right answers) row; ValueError, KeyError or
    TypeError when it is not one."""
    row = json.loads(line)
    answers = row["a"] if isinstance(row["a"], list) else [row["a"]]
    return str(row["q"]), ANSWER_SEPARATOR.join(str(a) for a in answers)


def read_question_file(path: Path | str) -> list[OwnQuestion]:
    """Questions from a file a person wrote: JSON lines ({"q": ..., "a": [...] or "..."}) or CSV / TSV rows of
    question, right answers (`tunedesk eval RUN --questions FILE`)."""
    import csv

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TuneDeskError(f"{path} cannot be read ({exc}).", "Give a UTF-8 text file of questions.") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].lstrip().startswith("{"):
        rows = []
        for n, line in enumerate(lines, 1):
            try:
                rows.append(_json_row(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise TuneDeskError(f"Line {n} of {path} is not a question ({exc}).",
                                    'Write one per line: {"q": "What is the mileage rate?", "a": ["45p"]}') from exc
    else:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" or "\t" in (lines[0] if lines else "") else csv.excel
        rows = [(r[0], ANSWER_SEPARATOR.join(r[1:])) if r else ("", "") for r in csv.reader(lines, dialect)]
    questions = from_rows(rows)
    if not questions:
        raise TuneDeskError(f"{path} holds no questions.", "Write one question and its right answer per line.")
    return questions
