"""Managing runs without Qt: a display name in run.json, delete, both refused while a run is trained;
report.json in counts and plain words (core/run_manage.py, core/evaluation/summary.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

from core import projects
from core.errors import RunError
from core.evaluation.summary import export_outlook, load_summary, summarize
from core.locks import run_lock
from core.run_manage import delete_run, rename_run
from core.runs import run_state
from core.store import write_json


@pytest.fixture(autouse=True)
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def finished_run(project: projects.Project, name: str) -> Path:
    run = project.runs_dir / name
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "adapter_config.json").write_text("{}")
    write_json(run / "run.json", {"created": "2026-01-01T10:00:00", "status": "finished", "step": 4,
                                  "total_steps": 4, "config": {"preset": "quick", "model": "demo"}})
    return run


class OtherProcessTraining:
    """A second process holding the run's lock, as a CLI `tunedesk train` does while it trains."""

    def __init__(self, run: Path) -> None:
        code = ("import sys, time; from core.locks import run_lock\n"
                "with run_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(120)")
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(run)], cwd=ROOT, stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout.readline().strip() == "locked"

    def __enter__(self) -> "OtherProcessTraining":
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait(30)


def test_rename_keeps_the_folder_and_shows_the_name_everywhere_state_is_read():
    project = projects.create_project("Runs")
    run = finished_run(project, "run-20260101-100000")
    other = finished_run(project, "run-20260101-110000")

    renamed = rename_run(run, "  Handbook,   first try  ")
    assert renamed.path == run and run.is_dir()  # chat_history.json and workers keep finding it
    assert renamed.name == "Handbook, first try" and renamed.label == "Handbook, first try"
    assert json.loads((run / "run.json").read_text())["name"] == "Handbook, first try"
    assert json.loads((run / "run.json").read_text())["status"] == "finished"  # nothing else touched
    assert [r.label for r in projects.list_runs(project)] == ["run-20260101-110000", "Handbook, first try"]

    with pytest.raises(RunError) as err:  # two runs never read alike in a list
        rename_run(other, "handbook, FIRST try")
    assert "already called" in err.value.message and err.value.hint
    with pytest.raises(RunError) as err:
        rename_run(other, "x" * 81)
    assert "too long" in err.value.message
    assert rename_run(run, "").label == "run-20260101-100000"  # back to the folder's name


def test_delete_removes_the_folder_and_nothing_else():
    project = projects.create_project("Runs")
    keep = finished_run(project, "run-20260101-100000")
    gone = finished_run(project, "run-20260101-110000")
    (gone / "checkpoints" / "step-2").mkdir(parents=True)
    (gone / "report.json").write_text("{}")
    delete_run(gone)
    assert not gone.exists() and keep.is_dir()
    assert [r.id for r in projects.list_runs(project)] == ["run-20260101-100000"]
    with pytest.raises(RunError):
        delete_run(project.root / "documents")  # not a run folder: refused, not emptied
    assert project.documents_dir.is_dir()


def test_a_run_being_trained_is_neither_renamed_nor_deleted():
    project = projects.create_project("Runs")
    run = finished_run(project, "run-20260101-100000")
    with OtherProcessTraining(run):
        for action in (lambda: delete_run(run), lambda: rename_run(run, "New name")):
            with pytest.raises(RunError) as err:
                action()
            assert "being trained right now" in err.value.message and "Stop its training first" in err.value.hint
        assert (run / "adapter" / "adapter_config.json").is_file() and run_state(run).name == ""
    with run_lock(run):  # this process preparing it (the app's prepare Task holds the lock in-process)
        with pytest.raises(RunError):
            delete_run(run)
    delete_run(run)
    assert not run.exists()


REPORT = {
    "created": "2026-01-01T10:05:00",
    "facts": {"questions": 4, "base": 0.25, "tuned": 0.75, "per_document": {}, "per_kind": {},
              "coverage": {"a.md": {"elements": 8, "covered": 7}, "b.txt": {"elements": 4, "covered": 4}}},
    "general": {"questions": 2, "base": 1.0, "tuned": 0.5, "tuned_weights_alone": 0.0},
    "answers": [
        {"q": "Who founded it?", "expected": ["Marta"], "doc": "a.md", "kind": "prose", "base": "Joe",
         "base_correct": False, "tuned": "Marta did", "tuned_correct": True, "answered_by": "tuned"},
        {"q": "Deposit for Ladder?", "expected": ["€35"], "doc": "a.md", "kind": "table", "base": "€35",
         "base_correct": True, "tuned": "€35", "tuned_correct": True, "answered_by": "tuned"},
        {"q": "When does it open?", "expected": ["7"], "doc": "a.md", "kind": "prose", "base": "9",
         "base_correct": False, "tuned": "8", "tuned_correct": False, "answered_by": "tuned"},
        {"q": "Step 2?", "expected": ["knead"], "doc": "b.txt", "kind": "step", "base": "",
         "base_correct": False, "tuned": "knead it", "tuned_correct": True, "answered_by": "tuned"},
        {"q": "Capital of France?", "expected": ["Paris"], "doc": "", "kind": "general", "base": "Paris",
         "base_correct": True, "tuned": "Paris", "tuned_correct": True, "answered_by": "original"},
        {"q": "Wheels of a bicycle?", "expected": ["two"], "doc": "", "kind": "general", "base": "two",
         "base_correct": True, "tuned": "five", "tuned_correct": False, "answered_by": "original"},
    ],
}


def test_report_in_counts_and_plain_words(tmp_path: Path):
    s = summarize(REPORT)
    assert (s.facts.learned, s.facts.knew_before, s.facts.total) == (3, 1, 4)
    assert s.headline() == "Learned 3 of 4 facts from your documents"
    assert s.before() == "Before training, the original model knew 1 of them."
    said = " ".join(s.paragraph())  # no own questions: the generated figure, said for what it is, and what to add
    assert said.startswith("Before training, the original model knew 1 of them.")
    assert "your documents' own wording" in said and said.endswith("Add your own questions for the figure to trust.")
    assert [(t.label, t.learned, t.knew_before, t.total) for t in s.per_document] == [("a.md", 2, 1, 3),
                                                                                       ("b.txt", 1, 0, 1)]
    assert [(t.label, t.learned, t.total) for t in s.per_kind] == [("Running text", 1, 2), ("Numbered steps", 1, 1),
                                                                    ("Table rows", 1, 1)]
    assert (s.general.learned, s.general.knew_before, s.general.total) == (1, 2, 2)
    assert s.general_line().startswith("Some general knowledge lost: 1 of 2 everyday questions")
    assert (s.covered, s.elements) == (11, 12) and len(s.items) == 6 and s.items[-1].general

    old = {k: v for k, v in REPORT.items() if k != "answers"}  # a report from before answers were kept
    old["facts"] = {**old["facts"], "per_document": {"a.md": {"questions": 3, "base": 1 / 3, "tuned": 2 / 3}}}
    assert summarize(old).headline() == "Learned 3 of 4 facts from your documents"
    assert [(t.learned, t.total) for t in summarize(old).per_document] == [(2, 3)]

    assert (s.general_alone.learned, s.general_alone.knew_before, s.general_alone.total) == (0, 2, 2)
    assert s.alone_line() == ("On its own, as an exported model answers: 0 of 2 everyday questions right "
                              "(the original model: 2 of 2).")

    run = tmp_path / "run"
    run.mkdir()
    assert load_summary(run) is None
    (run / "report.json").write_text('{"facts": ')  # torn by hand: said, not raised as a crash
    with pytest.raises(RunError) as err:
        load_summary(run)
    assert "cannot be read" in err.value.message and err.value.hint


def test_an_export_is_told_how_the_tuned_weights_alone_answer_everyday_questions(tmp_path: Path):
    """In the app general questions go to the original weights; an exported model has only the tuned ones, so
    before and after an export the user reads the report's figure for the tuned weights alone, and the setting
    that keeps more of it when it was off."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"config": {"anchor": 0.0}}))
    assert export_outlook(run).startswith("This run has no “did it learn?” check yet")
    old = {**REPORT, "general": {k: v for k, v in REPORT["general"].items() if k != "tuned_weights_alone"}}
    (run / "report.json").write_text(json.dumps(old))
    assert export_outlook(run).startswith("This run's “did it learn?” check is older than its on-its-own figure")

    (run / "report.json").write_text(json.dumps(REPORT))
    said = export_outlook(run)
    assert said.startswith("On its own, as an exported model answers: 0 of 2 everyday questions right "
                           "(the original model: 2 of 2).") and "an export cannot" in said
    assert "train again with --anchor 1" in said
    (run / "run.json").write_text(json.dumps({"config": {"anchor": 0.5}}))  # already on: no advice to turn it on
    assert "an export cannot" in export_outlook(run) and "train again" not in export_outlook(run)

    kept = {**REPORT, "general": {**REPORT["general"], "tuned_weights_alone": 1.0}}
    (run / "report.json").write_text(json.dumps(kept))
    assert export_outlook(run) == ("On its own, as an exported model answers: 2 of 2 everyday questions right "
                                   "(the original model: 2 of 2).")
