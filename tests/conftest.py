"""Shared fixtures: the real demo model, loaded once per session.

TUNEDESK_HOME points at a fresh folder per session (no user data touched);
TUNEDESK_MODELS keeps the one-off GGUF → safetensors conversion of the demo
model in a per-machine cache so only the first run on a machine pays ~20 s.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="tunedesk-test-home-"))
os.environ["TUNEDESK_HOME"] = str(_SESSION_HOME)
os.environ.setdefault("TUNEDESK_MODELS", str(Path.home() / ".cache" / "tunedesk-test-models"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SAMPLE_DOCS = ROOT / "resources" / "sample_docs"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread():
    """Once a GUI test has made a window, the app's own rule holds for the session: no automatic GC
    (it would run in whatever thread allocates and destroy Qt objects there — gui/app.py). Collect after
    every test here, on the main thread, so garbage never piles up across tests."""
    yield
    import gc

    if not gc.isenabled():
        gc.collect()


@pytest.fixture(scope="session")
def demo_model_dir() -> Path:
    from core.models import resolve_model

    return resolve_model("demo")


@pytest.fixture(scope="session")
def tokenizer(demo_model_dir: Path):
    from core.models import load_tokenizer

    return load_tokenizer(demo_model_dir)


@pytest.fixture(scope="session")
def base_chat(demo_model_dir: Path):
    from core.chat import load_chat_model

    return load_chat_model(model=str(demo_model_dir))


def quick_config(**overrides):
    """A few real optimiser steps: enough to move the loss, cheap enough for CI."""
    from core.training.config import preset_config

    values = dict(epochs=50.0, max_steps=6, save_every=3, eval_every=3, learning_rate=2e-3, batch_size=4, max_seq_len=256,
                  report=False)  # the worker's "did it learn?" report takes minutes: the tests that want it say so
    values.update(overrides)
    return preset_config("quick", **values)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> Path:
    """One short real training run on the sample documents, shared by read-only tests."""
    from core.pipeline import train

    out = tmp_path_factory.mktemp("runs") / "sample"
    events: list = []
    train([SAMPLE_DOCS], out, quick_config(max_steps=10, learning_rate=3e-3), on_event=events.append)
    return out


@pytest.fixture(scope="session")
def classify_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real classifier run (the built-in encoder, LoRA + head) trained through the CLI's exact form
    on the separable tickets of tests/classify_data.py; shared by read-only classify tests."""
    from classify_data import write_tickets

    from core.cli import main

    folder = tmp_path_factory.mktemp("classify")
    data = write_tickets(folder / "tickets.csv")
    out = folder / "run"
    code = main(["classify", "train", str(data), "--text-column", "ticket", "--label-column", "team",
                 "--out", str(out), "--epochs", "4"])
    assert code == 0
    return out
