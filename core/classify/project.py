"""A classify project's chosen data: which file, which columns, whether it has a header row.

The Data page writes it each time the user changes a choice, and the Train page
reads it to prepare a run, so the choice survives a restart and both pages agree.
The file itself is copied into the project (data/), so a run can be repeated after
the original moved. Kept in labelled.json beside project.json.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import DiskError
from core.projects import Project, free_path
from core.store import read_json, write_json

CHOICE_FILE = "labelled.json"


@dataclass(frozen=True)
class DataChoice:
    file: str
    """The copy inside the project's data/ folder."""
    text_column: str
    label_column: str
    has_header: bool | None = None
    """None: guessed when read."""


def data_folder(project: Project) -> Path:
    return project.root / "data"


def import_data_file(project: Project, source: Path | str) -> Path:
    """Copy `source` into the project's data/ folder (a new name if one is taken); returns the copy."""
    folder = data_folder(project)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = free_path(folder, Path(source).name)
        shutil.copy2(source, target)
    except OSError as exc:
        raise DiskError(f"Could not copy {Path(source).name} into the project: {exc.strerror or exc}",
                        "Free some disk space, then import the file again.") from exc
    return target


def save_choice(project: Project, choice: DataChoice) -> None:
    write_json(project.root / CHOICE_FILE, asdict(choice))


def load_choice(project: Project) -> DataChoice | None:
    """The saved choice, or None (never chosen, unreadable, or its file is gone)."""
    try:
        data = read_json(project.root / CHOICE_FILE)
        choice = DataChoice(str(data["file"]), str(data["text_column"]), str(data["label_column"]),
                            data.get("has_header"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return choice if Path(choice.file).is_file() else None
