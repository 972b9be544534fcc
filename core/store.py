"""The on-disk layout of runs, and writes that never leave half a file.

Every file is written to a temporary name in the same folder and renamed over
the target (atomic on POSIX and Windows), so a crash or kill leaves either the
old file or the new one, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

from core.errors import DiskError, RunError


TRAIN_FILE, VALIDATION_FILE, HELDOUT_FILE = "train.jsonl", "validation.jsonl", "heldout.jsonl"
"""A run's dataset files, in its dataset folder (RunDir.train_file …)."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise DiskError(f"Could not write {path}: {exc.strerror or exc}",
                        "Free some disk space or choose a folder you can write to, then try again.") from exc


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False))


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_jsonl(path: Path, rows: Any) -> None:
    """One JSON value per line, written whole or not at all (atomic_write_text)."""
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def read_jsonl(path: Path) -> list[Any]:
    """One JSON value per non-blank line: datasets, held-out questions, cached answers."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class RunStatus(StrEnum):
    """Where a run stands. A str (StrEnum), so run.json and `status == "finished"` read it unchanged."""

    PREPARING = "preparing"
    """A live process is reading the documents and writing the dataset; no run.json yet."""
    PREPARED = "prepared"
    """Documents read and the dataset written; never trained (it is started, not resumed)."""
    TRAINING = "training"
    """A live process holds the run's lock: this one, or another (a CLI, a second app window)."""
    INTERRUPTED = "interrupted"
    """run.json says training but nobody holds the lock: the trainer was killed."""
    STOPPED = "stopped"
    """The user stopped it; it continues from its newest checkpoint."""
    FAILED = "failed"
    """An error ended it (out of memory, a full disk…); it continues once the cause is gone."""
    FINISHED = "finished"
    UNKNOWN = "unknown"
    """No readable run.json: not (yet) a run folder."""


class RunDir:
    """Paths inside one run folder (see ARCHITECTURE.md, 'On disk')."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def adapter(self) -> Path:
        return self.root / "adapter"

    @property
    def dataset(self) -> Path:
        return self.root / "dataset"

    @property
    def train_file(self) -> Path:
        return self.dataset / TRAIN_FILE

    @property
    def validation_file(self) -> Path:
        return self.dataset / VALIDATION_FILE

    @property
    def heldout_file(self) -> Path:
        """The "did it learn?" report's questions (core/dataset/heldout.py)."""
        return self.dataset / HELDOUT_FILE

    @property
    def documents_manifest(self) -> Path:
        return self.root / "documents.json"

    @property
    def report(self) -> Path:
        return self.root / "report.json"

    @property
    def prepare_request(self) -> Path:
        """What the app asked its worker to prepare (core/pipeline.py request_preparation); gone once run.json is."""
        return self.root / "prepare.json"

    def read_run(self) -> dict[str, Any]:
        if not self.run_json.is_file():
            raise RunError(f"{self.root} is not a TuneDesk run folder (no run.json).",
                           "Choose a run folder (one made by Start training in the app, or 'tunedesk train --out').")
        return read_json(self.run_json)

    def update_run(self, **fields: Any) -> dict[str, Any]:
        data = read_json(self.run_json) if self.run_json.is_file() else {}
        data.update(fields)
        write_json(self.run_json, data)
        return data

    def append_metric(self, record: dict[str, Any]) -> None:
        # Append-only JSONL: a torn last line (a kill mid-write) is skipped by read_metrics,
        # and ended here first so that it does not swallow the next record too.
        line = (json.dumps(record) + "\n").encode("utf-8")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.metrics, "a+b") as f:
                if f.seek(0, os.SEEK_END) > 0:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        line = b"\n" + line
                f.write(line)
        except OSError as exc:
            raise DiskError(f"Could not write {self.metrics}: {exc.strerror or exc}",
                            "Free some disk space or choose a folder you can write to, then resume.") from exc

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics.is_file():
            return []
        out = []
        with open(self.metrics, encoding="utf-8") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out
