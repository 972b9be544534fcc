"""The project store: create / list / rename / delete, documents, runs, chat history (no Qt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SAMPLE_DOCS

from core import projects as P
from core.paths import projects_dir


@pytest.fixture(autouse=True)
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_create_list_open_rename_delete():
    first = P.create_project("Team handbook")
    assert (first.root / "project.json").is_file() and first.documents_dir.is_dir() and first.runs_dir.is_dir()
    meta = json.loads((first.root / "project.json").read_text())
    assert meta["name"] == "Team handbook" and meta["model"] == "demo" and meta["created"]
    P.create_project("Recipes", model="/models/x.gguf")
    assert {p.name for p in P.list_projects()} == {"Team handbook", "Recipes"}
    assert P.open_project("Recipes").model == "/models/x.gguf"

    renamed = P.rename_project(first, "Handbook 2024")
    assert renamed.root == projects_dir() / "Handbook 2024" and not first.root.exists()
    assert json.loads((renamed.root / "project.json").read_text())["name"] == "Handbook 2024"
    with pytest.raises(P.ProjectError, match="already exists"):
        P.rename_project(renamed, "Recipes")

    P.delete_project(renamed)
    assert [p.name for p in P.list_projects()] == ["Recipes"]


@pytest.mark.parametrize("bad", ["", "   ", "a/b", "..", ".hidden", "what?", "x" * 81])
def test_names_that_are_not_safe_folders_are_refused_with_a_hint(bad):
    with pytest.raises(P.ProjectError) as info:
        P.create_project(bad)
    assert info.value.hint


def test_duplicate_name_and_unique_name():
    P.create_project("Notes")
    with pytest.raises(P.ProjectError, match="already exists"):
        P.create_project("Notes")
    assert P.unique_name("Notes") == "Notes 2"


def test_damaged_project_is_left_out_of_the_list_not_fatal():
    P.create_project("Good")
    bad = projects_dir() / "Bad"
    bad.mkdir()
    (bad / "project.json").write_text("{ not json")
    assert [p.name for p in P.list_projects()] == ["Good"]
    with pytest.raises(P.ProjectError, match="damaged"):
        P.open_project("Bad")


def test_documents_are_copied_kept_apart_and_removable(tmp_path: Path):
    project = P.create_project("Docs")
    copied = P.add_sample_documents(project)
    assert sorted(p.name for p in copied) == sorted(p.name for p in SAMPLE_DOCS.iterdir())
    # the same file again gets a free name instead of overwriting
    again = P.add_documents(project, [SAMPLE_DOCS / "velloran_expedition.txt"])
    assert again[0].name == "velloran_expedition (2).txt"
    # a folder keeps its layout; unsupported and hidden files inside it are left out
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.md").write_text("# A\nSome text.")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    (folder / ".secret.txt").write_text("hidden")
    left_out: list[Path] = []
    P.add_documents(project, [folder], left_out)
    names = [p.relative_to(project.documents_dir).as_posix() for p in P.document_files(project)]
    assert "notes/sub/a.md" in names and "notes/photo.jpg" not in names and "notes/.secret.txt" not in names
    assert left_out == [folder / "photo.jpg"]  # named to the person; a hidden file is nobody's document

    P.remove_document(project, "notes/sub/a.md")
    assert not (project.documents_dir / "notes").exists()  # empty folders go too
    with pytest.raises(P.ProjectError):
        P.remove_document(project, "../project.json")
    assert (project.root / "project.json").is_file()
    with pytest.raises(P.ProjectError, match="does not exist"):
        P.add_documents(project, [tmp_path / "missing.txt"])


def test_runs_are_listed_with_status_and_resumability(trained_run: Path):
    import shutil

    project = P.create_project("Runs")
    first = P.new_run_dir(project)
    shutil.copytree(trained_run, first)
    second = P.new_run_dir(project)
    assert second != first and second.parent == project.runs_dir
    runs = P.list_runs(project)
    assert len(runs) == 1 and runs[0].status == "finished" and runs[0].has_adapter and runs[0].step == 10
    assert not runs[0].resumable and P.resumable_runs(project) == []

    # a run killed while training (status left at "training") with a checkpoint is offered for resume
    meta = json.loads((first / "run.json").read_text())
    meta["status"] = "training"
    del meta["step"]  # killed: only the checkpoints know how far it got
    (first / "run.json").write_text(json.dumps(meta))
    assert [r.id for r in P.resumable_runs(project)] == [first.name]
    assert P.resumable_runs(project)[0].step == 10


def test_chat_history_round_trip_and_damaged_file():
    project = P.create_project("Chat")
    assert P.load_chat_history(project) == []
    conversations = [{"id": "c1", "model": "base", "title": "Hi", "messages": [{"role": "user", "content": "Hi"}]}]
    P.save_chat_history(project, conversations)
    assert P.load_chat_history(project) == conversations
    project.chat_history.write_text("garbage")
    assert P.load_chat_history(project) == []


def test_set_model_is_saved():
    project = P.create_project("Model")
    assert P.set_model(project, "/some/model").model == "/some/model"
    assert P.open_project("Model").model == "/some/model"
