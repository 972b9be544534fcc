"""Projects on disk: a name, a base model, documents, runs and chat history.

A project is a folder under `core.paths.projects_dir()`; the folder name *is*
the project's name, so a user who opens the data folder sees the same names
the app shows, and rename is one folder rename. Run folders inside `runs/`
are exactly what `core.pipeline` writes, so the CLI and the app read each
other's runs. Qt-free: the GUI and tests call these functions directly.

    projects/<name>/
      project.json        {"name", "model", "created", "task"}   task: "chat" (documents) or "classify" (labelled rows)
      documents/          copies of the files the user added
      runs/<run-id>/      core.pipeline run folders (their state: core.runs)
      my_questions.jsonl  the person's own questions for the "did it learn?" check (core.evaluation.own_questions)
      chat_history.json   {"conversations": [{"id", "model", "title", "messages"}]}
"""

from __future__ import annotations

import datetime as _dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from core.documents import SUPPORTED_SUFFIXES
from core.errors import TuneDeskError
from core.paths import projects_dir, sample_docs_dir
from core.runs import RunState, run_state
from core.store import read_json, write_json

PROJECT_FILE = "project.json"
TASKS = ("chat", "classify")
"""What a project makes: "chat", a model that knows its documents; "classify", a model that labels text."""
_FORBIDDEN = set('/\\:*?"<>|')


class ProjectError(TuneDeskError):
    """A project that cannot be created, found, renamed or deleted."""


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    model: str
    created: str
    task: str = "chat"
    """"chat" or "classify" (TASKS); projects made before tasks existed are chat projects."""

    @property
    def documents_dir(self) -> Path:
        return self.root / "documents"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def chat_history(self) -> Path:
        return self.root / "chat_history.json"


def check_name(name: str) -> str:
    """A project name that is also a safe folder name on every OS."""
    name = " ".join(name.split())
    if not name:
        raise ProjectError("A project needs a name.", "Type a name, for example 'Team handbook'.")
    if len(name) > 80:
        raise ProjectError("That project name is too long.", "Use 80 characters or fewer.")
    bad = sorted(set(name) & _FORBIDDEN)
    if bad or name.startswith(".") or name.endswith("."):
        shown = " ".join(bad) if bad else "a leading or trailing dot"
        raise ProjectError(f"A project name cannot contain {shown}.", "Use letters, digits, spaces, - and _.")
    return name


def _load(root: Path) -> Project:
    meta_path = root / PROJECT_FILE
    try:
        meta = read_json(meta_path)
    except (OSError, ValueError) as exc:
        raise ProjectError(f"The project in {root} is damaged ({PROJECT_FILE} unreadable: {exc}).",
                           "Delete the project, or restore project.json from a backup.") from exc
    task = str(meta.get("task") or "chat")
    return Project(root, root.name, str(meta.get("model", "demo")), str(meta.get("created", "")),
                   task if task in TASKS else "chat")


def create_project(name: str, model: str = "demo", task: str = "chat") -> Project:
    name = check_name(name)
    if task not in TASKS:
        raise ProjectError(f"Unknown project task “{task}”.", f"Choose one of: {', '.join(TASKS)}.")
    root = projects_dir() / name
    if root.exists():
        raise ProjectError(f"A project called “{name}” already exists.", "Choose another name, or open that project.")
    root.mkdir(parents=True)
    (root / "documents").mkdir()
    (root / "runs").mkdir()
    created = _dt.datetime.now().isoformat(timespec="seconds")
    write_json(root / PROJECT_FILE, {"name": name, "model": model, "created": created, "task": task})
    return Project(root, name, model, created, task)


def list_projects() -> list[Project]:
    """Every readable project, newest first; damaged folders are left out, not fatal."""
    found = []
    for root in projects_dir().iterdir():
        if root.is_dir() and (root / PROJECT_FILE).is_file():
            try:
                found.append(_load(root))
            except ProjectError:
                continue
    return sorted(found, key=lambda p: (p.created, p.name), reverse=True)


def open_project(name: str) -> Project:
    root = projects_dir() / name
    if not (root / PROJECT_FILE).is_file():
        raise ProjectError(f"There is no project called “{name}”.", "Pick one from the list, or create it.")
    return _load(root)


def unique_name(base: str) -> str:
    """`base`, or `base 2`, `base 3`… whichever is free."""
    name, n = check_name(base), 2
    while (projects_dir() / name).exists():
        name = f"{base} {n}"
        n += 1
    return name


def rename_project(project: Project, new_name: str) -> Project:
    new_name = check_name(new_name)
    if new_name == project.name:
        return project
    target = projects_dir() / new_name
    if target.exists():
        raise ProjectError(f"A project called “{new_name}” already exists.", "Choose another name.")
    try:
        project.root.rename(target)
    except OSError as exc:
        raise ProjectError(f"Could not rename “{project.name}”: {exc.strerror or exc}",
                           "Close other programs using files in the project folder, then try again.") from exc
    meta = read_json(target / PROJECT_FILE)
    meta["name"] = new_name
    write_json(target / PROJECT_FILE, meta)
    return _load(target)


def delete_project(project: Project) -> None:
    if not (project.root / PROJECT_FILE).is_file():
        raise ProjectError(f"{project.root} is not a project folder.", "Nothing was deleted.")
    shutil.rmtree(project.root)


def set_model(project: Project, model: str) -> Project:
    meta = read_json(project.root / PROJECT_FILE)
    meta["model"] = model
    write_json(project.root / PROJECT_FILE, meta)
    return _load(project.root)


# Documents ------------------------------------------------------------------------------

def free_path(folder: Path, name: str) -> Path:
    """`folder / name`, or `name (2)`, `name (3)`… whichever does not exist yet."""
    target, n = folder / name, 2
    stem, suffix = Path(name).stem, Path(name).suffix
    while target.exists():
        target = folder / f"{stem} ({n}){suffix}"
        n += 1
    return target


def add_documents(project: Project, paths: Iterable[str | Path], left_out: list[Path] | None = None) -> list[Path]:
    """Copy files (and folders, keeping their layout) into the project's documents/.

    Unsupported files inside a folder are left out, and listed in `left_out` so the person can be told
    (readers.left_out_notice); a file given by itself is copied whatever its type so that ingest can say
    why it is skipped. Returns the copies made.
    """
    project.documents_dir.mkdir(parents=True, exist_ok=True)
    copied: list[Path] = []
    try:
        for given in paths:
            src = Path(given).expanduser()
            if src.is_dir():
                dest_root = free_path(project.documents_dir, src.name)
                for file in sorted(src.rglob("*")):
                    rel = file.relative_to(src)
                    if not file.is_file() or any(part.startswith(".") for part in rel.parts):
                        continue
                    if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                        if left_out is not None:
                            left_out.append(file)
                        continue
                    dest = dest_root / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, dest)
                    copied.append(dest)
            elif src.is_file():
                dest = free_path(project.documents_dir, src.name)
                shutil.copy2(src, dest)
                copied.append(dest)
            else:
                raise ProjectError(f"{src} does not exist.", "Pick files or folders that are on this computer.")
    except OSError as exc:
        from core.errors import DiskError

        raise DiskError(f"Could not copy documents into the project: {exc.strerror or exc}",
                        "Free some disk space, then add the documents again.") from exc
    return copied


def add_sample_documents(project: Project) -> list[Path]:
    return add_documents(project, sorted(sample_docs_dir().iterdir()))


def document_files(project: Project) -> list[Path]:
    if not project.documents_dir.is_dir():
        return []
    return sorted(p for p in project.documents_dir.rglob("*") if p.is_file() and not p.name.startswith("."))


def remove_document(project: Project, name: str) -> None:
    """Remove documents/<name> (the name ingest reports: a path relative to documents/)."""
    target = (project.documents_dir / name).resolve()
    if project.documents_dir.resolve() not in target.parents or not target.is_file():
        raise ProjectError(f"“{name}” is not one of this project's documents.", "Refresh the list and try again.")
    target.unlink()
    parent = target.parent
    while parent != project.documents_dir.resolve() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


# Runs -------------------------------------------------------------------------------------

def new_run_dir(project: Project) -> Path:
    """A fresh, not yet created run folder: runs/run-YYYYmmdd-HHMMSS[-n]."""
    project.runs_dir.mkdir(parents=True, exist_ok=True)
    base = "run-" + _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = project.runs_dir / base, 2
    while path.exists():
        path = project.runs_dir / f"{base}-{n}"
        n += 1
    return path


def project_of_run(run: Path | str) -> Path | None:
    """The project folder a run folder sits in (PROJECT/runs/RUN), or None for a run made elsewhere (the CLI's
    --out): what a run shares with the other runs of its project, such as the person's own questions."""
    runs = Path(run).parent
    if runs.name == "runs" and (runs.parent / PROJECT_FILE).is_file():
        return runs.parent
    return None


def list_runs(project: Project) -> list[RunState]:
    """Runs of a project, newest first, each in the state core.runs decides (the one place that does)."""
    if not project.runs_dir.is_dir():
        return []
    runs = [run_state(p) for p in project.runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(runs, key=lambda r: (r.created, r.id), reverse=True)


def resumable_runs(project: Project) -> list[RunState]:
    """What the app offers to continue: killed, stopped or failed runs that no live process is training."""
    return [r for r in list_runs(project) if r.resumable]


# Chat history -----------------------------------------------------------------------------

def load_chat_history(project: Project) -> list[dict[str, Any]]:
    """Conversations, oldest first; an unreadable file gives an empty history rather than an error."""
    try:
        data = read_json(project.chat_history)
    except (OSError, ValueError):
        return []
    conversations = data.get("conversations", []) if isinstance(data, dict) else []
    return [c for c in conversations if isinstance(c, dict) and isinstance(c.get("messages"), list)]


def save_chat_history(project: Project, conversations: list[dict[str, Any]]) -> None:
    write_json(project.chat_history, {"conversations": conversations})
