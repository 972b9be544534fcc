"""Your own questions for the "did it learn?" check (core/evaluation/own_questions.py): typed or read from a file,
every bad row named at once with what to do, kept in the run folder, and asked by the real check beside the
generated questions, reported apart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.errors import RunError, TuneDeskError
from core.evaluation.own_questions import (OWN_QUESTIONS_FILE, OwnQuestion, from_rows, read_own_questions,
                                           read_question_file, write_own_questions)


def test_rows_become_questions_and_every_bad_row_is_named_at_once():
    rows = [("What's the mileage rate?", "45p | 45 pence"), ("", ""), ("  When is  the AGM? ", " 19 March ")]
    assert from_rows(rows) == [OwnQuestion("What's the mileage rate?", ("45p", "45 pence")),
                               OwnQuestion("When is the AGM?", ("19 March",))]
    with pytest.raises(TuneDeskError) as err:
        from_rows([("Who chairs it?", ""), ("", "Priya"), ("When is the AGM?", "19 March"), ("when is the agm?", "x"),
                   ("Where?", " | ")])
    message = err.value.message
    assert "row 1 (“Who chairs it?”) has no right answer" in message and "row 2 has an answer but no question" in message
    assert "row 4 asks the same as row 3" in message and "row 5 (“Where?”) has no right answer" in message
    assert "separate them with |" in err.value.hint


def test_kept_in_the_run_folder_and_a_damaged_file_is_said_not_dropped(tmp_path: Path):
    assert read_own_questions(tmp_path) == []
    questions = [OwnQuestion("What's the mileage rate?", ("45p", "45 pence"))]
    path = write_own_questions(tmp_path, questions)
    assert path == tmp_path / OWN_QUESTIONS_FILE
    assert json.loads(path.read_text()) == {"q": "What's the mileage rate?", "a": ["45p", "45 pence"]}
    assert read_own_questions(tmp_path) == questions
    path.write_text('{"q": "What is it?"}\n')  # no answers: a check must not quietly skip the person's figure
    with pytest.raises(RunError) as err:
        read_own_questions(tmp_path)
    assert "cannot be read" in err.value.message and str(path) in err.value.hint
    write_own_questions(tmp_path, [])  # none left: no figure, and the choice is kept
    assert read_own_questions(tmp_path) == [] and path.read_text() == ""


def test_question_files_in_json_lines_csv_and_tsv(tmp_path: Path):
    lines = tmp_path / "q.jsonl"
    lines.write_text('{"q": "What is the mileage rate?", "a": "45p"}\n\n{"q": "Who chairs it?", "a": ["Priya", "P. Raman"]}\n')
    assert read_question_file(lines) == [OwnQuestion("What is the mileage rate?", ("45p",)),
                                         OwnQuestion("Who chairs it?", ("Priya", "P. Raman"))]
    table = tmp_path / "q.csv"
    table.write_text('"What is the rate, per mile?",45p,45 pence\nWho chairs it?,Priya\n', encoding="utf-8-sig")
    assert read_question_file(table) == [OwnQuestion("What is the rate, per mile?", ("45p", "45 pence")),
                                         OwnQuestion("Who chairs it?", ("Priya",))]
    tabs = tmp_path / "q.tsv"
    tabs.write_text("Wann ist der Flohmarkt?\tSamstag, 12. April\n")
    assert read_question_file(tabs) == [OwnQuestion("Wann ist der Flohmarkt?", ("Samstag, 12. April",))]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"q": "What is it?", "a": "x"}\n{"question": "Who?"}\n')
    with pytest.raises(TuneDeskError) as err:
        read_question_file(broken)
    assert "Line 2" in err.value.message and '"q"' in err.value.hint
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(TuneDeskError, match="holds no questions"):
        read_question_file(empty)
    with pytest.raises(TuneDeskError, match="cannot be read"):
        read_question_file(tmp_path / "missing.csv")


def test_the_check_asks_its_projects_questions_beside_its_own_and_reports_them_apart(
        trained_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """The real check on a real trained run of a project, started as `tunedesk eval RUN`: the run has no questions of
    its own, and the project's (written on the Documents page before any run) are asked of both models as Chat asks
    them, kept in the run as the ones it was checked on, and counted apart from the generated facts."""
    from core.cli import main
    from core.evaluation.summary import load_summary
    from core.projects import create_project, new_run_dir

    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "home"))
    project = create_project("Bakery")
    run = new_run_dir(project)
    shutil.copytree(trained_run, run, ignore=shutil.ignore_patterns("checkpoints", "report.json", OWN_QUESTIONS_FILE))
    file = tmp_path / "mine.csv"
    # the capital of France the original model knows; the second no model can
    file.write_text("What is the capital of France?,Paris\nWhat colour is the Harbor Lane Bakery's oven door?,"
                    "mauve-green\n")
    write_own_questions(project.root, read_question_file(file))
    assert main(["eval", str(run), "--no-general"]) == 0
    out = capsys.readouterr().out
    assert read_own_questions(run) == read_question_file(file)
    report = json.loads((run / "report.json").read_text())
    own = [a for a in report["answers"] if a["kind"] == "own"]
    assert [a["q"] for a in own] == ["What is the capital of France?",
                                     "What colour is the Harbor Lane Bakery's oven door?"]
    assert own[0]["base_correct"] and not own[1]["base_correct"] and not own[1]["tuned_correct"]
    assert report["own"]["questions"] == 2 and report["own"]["base"] == 0.5
    assert report["own"]["tuned"] == sum(a["tuned_correct"] for a in own) / 2
    facts = [a for a in report["answers"] if a["kind"] not in ("own", "general")]
    assert len(facts) == report["facts"]["questions"]  # the generated figure is not mixed with yours
    assert "Your own questions: base 50%" in out
    summary = load_summary(run)
    assert summary.own is not None and (summary.own.knew_before, summary.own.total) == (1, 2)
    assert summary.facts.total == report["facts"]["questions"]
    # yours are the headline; the generated figure stands beside them, said for what it is
    assert summary.headline() == f"Answered {summary.own.learned} of your 2 own questions right"
    said = " ".join(summary.paragraph())
    assert "the original model answered 1 of 2" in said
    assert (f"Of {summary.facts.total} questions made from your documents' own wording, far easier than your own, "
            f"it answered {summary.facts.learned} (the original model:" in said) and "Add your own questions" not in said


def _project(tmp_path: Path) -> Path:
    from core.projects import PROJECT_FILE

    root = tmp_path / "Bakery"
    (root / "runs").mkdir(parents=True)
    (root / PROJECT_FILE).write_text('{"name": "Bakery", "model": "demo", "created": "2026-12-06", "task": "chat"}')
    return root


def test_a_run_without_questions_takes_its_projects_and_a_run_saved_for_is_its_projects_too(tmp_path: Path):
    """The project's questions are asked by each run with none of its own (carry_project_questions, as its check
    starts); questions saved for one run become the project's, for the next; a run with its own keeps them; a
    damaged project file is said, not skipped; a run made outside a project takes nothing from folders beside it."""
    from core.evaluation.own_questions import carry_project_questions, project_questions, save_own_questions

    root = _project(tmp_path)
    first, second, third = (root / "runs" / f"run-{n}" for n in (1, 2, 3))
    for run in (first, second, third):
        run.mkdir()
    typed = [OwnQuestion("Who founded Harbor Lane Bakery?", ("Marta", "Okonkwo"))]
    write_own_questions(root, typed)  # on the Documents page, before any run
    assert project_questions(first) == (typed, "your project")
    assert carry_project_questions(first) == "your project" and read_own_questions(first) == typed

    edited = [OwnQuestion("When was the bakery founded?", ("1987",)), *typed]
    save_own_questions(first, edited)  # in the first run's report
    assert read_own_questions(first) == edited and read_own_questions(root) == edited
    assert carry_project_questions(second) == "your project" and read_own_questions(second) == edited

    mine = [OwnQuestion("What does the observatory open with?", ("telescope",))]
    write_own_questions(third, mine)
    assert carry_project_questions(third) == "" and read_own_questions(third) == mine

    save_own_questions(second, [])  # all cleared in a report: no run of the project takes any back
    fresh = root / "runs" / "run-5"
    fresh.mkdir()
    assert carry_project_questions(fresh) == "your project" and read_own_questions(fresh) == []

    (root / OWN_QUESTIONS_FILE).write_text("not json\n")
    fourth = root / "runs" / "run-4"
    fourth.mkdir()
    with pytest.raises(RunError) as err:
        carry_project_questions(fourth)
    assert "Bakery" in err.value.message and str(root / OWN_QUESTIONS_FILE) in err.value.hint
    assert not (fourth / OWN_QUESTIONS_FILE).exists()

    outside = tmp_path / "cli-runs"
    (outside / "a").mkdir(parents=True)
    (outside / "b").mkdir()
    write_own_questions(outside / "a", mine)
    assert carry_project_questions(outside / "b") == "" and not (outside / "b" / OWN_QUESTIONS_FILE).exists()
    save_own_questions(outside / "b", typed)  # no project to keep them for: the run only
    assert read_own_questions(outside / "b") == typed and read_own_questions(outside / "a") == mine


def test_a_project_from_before_projects_kept_questions_takes_its_newest_siblings(tmp_path: Path):
    """A project whose questions were saved in its runs (before the project kept them) is checked on the newest
    run's that has readable ones: a damaged sibling is passed over."""
    import os

    from core.evaluation.own_questions import carry_project_questions

    runs = _project(tmp_path) / "runs"
    older, newer, damaged, new = runs / "run-1", runs / "run-2", runs / "run-3", runs / "run-4"
    for folder in (older, newer, damaged, new):
        folder.mkdir()
    write_own_questions(older, [OwnQuestion("When was the library founded?", ("2011",))])
    write_own_questions(newer, [OwnQuestion("Who founded Harbor Lane Bakery?", ("Marta", "Okonkwo"))])
    (damaged / OWN_QUESTIONS_FILE).write_text("not json\n")
    for age, folder in ((300, older), (200, newer), (100, damaged)):  # the damaged one is the newest
        stamp = (damaged / OWN_QUESTIONS_FILE).stat().st_mtime - age
        os.utime(folder / OWN_QUESTIONS_FILE, (stamp, stamp))
    os.utime(damaged / OWN_QUESTIONS_FILE)
    assert carry_project_questions(new) == "the run “run-2”"
    assert read_own_questions(new) == read_own_questions(newer)


def test_questions_given_to_train_or_prepare_are_read_first_and_kept_in_the_run(tmp_path: Path, capsys):
    """`tunedesk prepare|train DOCS --out RUN --questions FILE`: a file that cannot be checked stops the command
    before anything is made, with what to do; a good one is kept in the prepared run, for its check."""
    from conftest import SAMPLE_DOCS

    from core.cli import main

    bad = tmp_path / "bad.csv"
    bad.write_text("Who founded the bakery?,\n")
    for command in ("train", "prepare"):
        out = tmp_path / f"{command}-run"
        assert main([command, str(SAMPLE_DOCS), "--out", str(out), "--questions", str(bad), "--max-steps", "1"]) != 0
        assert "has no right answer" in capsys.readouterr().err and not out.exists()
    good = tmp_path / "good.csv"
    good.write_text("Who founded Harbor Lane Bakery?,Marta Okonkwo\n")
    out = tmp_path / "prepared"
    assert main(["prepare", str(SAMPLE_DOCS), "--out", str(out), "--questions", str(good), "--preset", "quick"]) == 0
    assert read_own_questions(out) == read_question_file(good)
    assert (out / "run.json").is_file() and "kept in" in capsys.readouterr().out


def test_a_sample_project_gets_the_sample_questions_unless_it_has_its_own(tmp_path: Path):
    """The sample questions are read with the same checks as a person's file, and never replace a project's."""
    from core.evaluation.own_questions import add_sample_questions
    from core.paths import sample_questions_file

    project = _project(tmp_path)
    given = add_sample_questions(project)
    assert given and read_own_questions(project) == given == read_question_file(sample_questions_file())
    mine = [OwnQuestion("What does the observatory open with?", ("telescope",))]
    write_own_questions(project, mine)
    assert add_sample_questions(project) == [] and read_own_questions(project) == mine
