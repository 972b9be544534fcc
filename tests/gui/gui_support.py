"""GUI fixtures: the real main window over a fresh data folder, and one tiny real trained run.

Imported by each GUI test module (`from gui_support import ...`) rather than
being a second conftest.py: two modules named `conftest` would shadow each
other for the `from conftest import ...` lines of the other tests.

Each test gets its own TUNEDESK_HOME, so projects and the settings file
(QSettings is an INI file in the data folder) never leak between tests.
Dialogs are answered through gui.dialogs, the app's one place for them.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLE_DOCS, quick_config

TRAINING_TIMEOUT_MS = 420_000  # a training subprocess loads torch + the model: ~30–60 s here, more under load
CHAT_TIMEOUT_MS = 300_000


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TUNEDESK_THEME", raising=False)
    return tmp_path / "home"


@pytest.fixture
def make_window(qtbot, qapp, home):
    """Build (and afterwards shut down) real main windows, as run_app does."""
    from gui.app import create_window

    made = []

    def make():
        window = create_window(qapp)
        qtbot.addWidget(window)
        window.show()
        window.start()
        made.append(window)
        return window

    yield make
    for window in made:
        window.ctx.workers.shutdown(wait_ms=20_000)
        window.ctx.notifier.uninstall_hooks()


@pytest.fixture
def window(make_window):
    return make_window()


def only_known(**values):
    """Settings that exist in this version of TrainConfig (fields are being added by other issues)."""
    from core.training.config import TrainConfig

    known = {f.name for f in dataclasses.fields(TrainConfig)}
    return {k: v for k, v in values.items() if k in known}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> Path:
    """Two real optimiser steps on the sample documents, with a checkpoint after each: an adapter to chat with."""
    from core.pipeline import train

    out = tmp_path_factory.mktemp("gui-runs") / "run-20240101-000000"
    config = quick_config(max_steps=2, save_every=1, eval_every=0, batch_size=2, max_seq_len=128,
                          **only_known(replay=False))
    train([SAMPLE_DOCS], out, config)
    return out


def add_run(project, run: Path, **run_json_changes) -> Path:
    """Copy a run folder into a project (runs are plain folders), optionally editing its run.json."""
    target = project.runs_dir / run.name
    shutil.copytree(run, target)
    if run_json_changes:
        meta = json.loads((target / "run.json").read_text())
        for key, value in run_json_changes.items():
            if key == "model":
                meta["config"]["model"] = value
            else:
                meta[key] = value
        (target / "run.json").write_text(json.dumps(meta))
    return target


def banner_texts(window) -> str:
    return "\n".join(window.notifications.texts())
