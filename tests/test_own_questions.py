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
    write_own_questions(tmp_path, [])  # none left: no file, no empty figure
    assert not path.exists()


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


def test_the_check_asks_them_beside_its_own_and_reports_them_apart(trained_run: Path, tmp_path: Path, capsys):
    """The real check on a real trained run, started as `tunedesk eval RUN --questions FILE`: the questions are kept
    in the run, asked of both models as Chat asks them, and counted apart from the generated facts."""
    from core.cli import main
    from core.evaluation.summary import load_summary

    run = tmp_path / "run"
    shutil.copytree(trained_run, run, ignore=shutil.ignore_patterns("checkpoints", "report.json"))
    file = tmp_path / "mine.csv"
    # the capital of France the original model knows; the second no model can
    file.write_text("What is the capital of France?,Paris\nWhat colour is the Harbor Lane Bakery's oven door?,"
                    "mauve-green\n")
    assert main(["eval", str(run), "--questions", str(file), "--no-general"]) == 0
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
    assert summary.own_line().startswith(f"Your own questions: {summary.own.learned} of 2 answered right")


def test_a_run_the_app_starts_in_a_project_is_checked_on_its_newest_siblings_questions(tmp_path: Path,
                                                                                          demo_model_dir: Path):
    """The app prepares a new run in the project's runs folder (request_preparation, then the worker's
    prepare_requested): it takes the questions of the newest run beside it that has readable ones, so the check
    after training asks them; a damaged sibling is passed over, and a run with its own keeps them."""
    import os

    from conftest import SAMPLE_DOCS, quick_config

    from core.pipeline import prepare_requested, request_preparation

    runs = tmp_path / "runs"
    older, newer, damaged = runs / "run-1", runs / "run-2", runs / "run-3"
    for folder in (older, newer, damaged):
        folder.mkdir(parents=True)
    write_own_questions(older, [OwnQuestion("When was the library founded?", ("2011",))])
    write_own_questions(newer, [OwnQuestion("Who founded Harbor Lane Bakery?", ("Marta", "Okonkwo"))])
    (damaged / OWN_QUESTIONS_FILE).write_text("not json\n")
    for age, folder in ((300, older), (200, newer), (100, damaged)):  # the damaged one is the newest
        stamp = (damaged / OWN_QUESTIONS_FILE).stat().st_mtime - age
        os.utime(folder / OWN_QUESTIONS_FILE, (stamp, stamp))
    os.utime(damaged / OWN_QUESTIONS_FILE)

    config = quick_config(replay=False)
    request_preparation(runs / "run-4", [SAMPLE_DOCS], config)
    prepare_requested(runs / "run-4")
    assert read_own_questions(runs / "run-4") == read_own_questions(newer)

    mine = [OwnQuestion("What does the observatory open with?", ("telescope",))]
    (runs / "run-5").mkdir()
    write_own_questions(runs / "run-5", mine)
    request_preparation(runs / "run-5", [SAMPLE_DOCS], config)
    prepare_requested(runs / "run-5")
    assert read_own_questions(runs / "run-5") == mine
