"""Where files live: bundled resources and the per-user data folders.

One helper for all of it so that a PyInstaller bundle (which unpacks to
`sys._MEIPASS`) and a source checkout find the same things, and so that
nothing is ever written next to the program.
`TUNEDESK_HOME` overrides the data folder (tests, portable installs);
`TUNEDESK_MODELS` overrides only the converted-models cache so tests can share
one conversion across sessions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "TuneDesk"


def resources_dir() -> Path:
    """The `resources/` folder, in a checkout or inside a frozen bundle."""
    base = getattr(sys, "_MEIPASS", None)
    if base:
        return Path(base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_docs_dir() -> Path:
    return resources_dir() / "sample_docs"


def sample_questions_file() -> Path:
    """Questions about the sample documents in a person's words, with what a right answer contains: a sample
    project's own questions (core/evaluation/own_questions.py). Beside sample_docs/, not in it: it is no document."""
    return resources_dir() / "sample_questions.jsonl"


def data_dir() -> Path:
    """Per-user data folder (projects, runs, catalogue)."""
    override = os.environ.get("TUNEDESK_HOME")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """Converted or downloaded base models."""
    override = os.environ.get("TUNEDESK_MODELS")
    path = Path(override) if override else data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def projects_dir() -> Path:
    path = data_dir() / "projects"
    path.mkdir(parents=True, exist_ok=True)
    return path
