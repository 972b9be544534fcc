"""The background jobs of the classify pages: plain functions over core/classify, run on worker threads.

Each `*_job(...)` returns `fn(on_event, should_stop)` for `Workers.run` (as gui/jobs.py does for the chat
task), so the pages never read files, import torch or load a model on the Qt main thread. A trained
classifier is loaded once per run and kept (loading is the slow part), behind a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.events import Progress, Stage

Emit = Callable[[Any], None]
Stop = Callable[[], bool]


@dataclass(frozen=True)
class DataPreview:
    """What the Data page shows for a file and a choice of columns."""

    table: Any  # core.classify.table.Table
    text_column: str
    label_column: str
    data: Any  # core.classify.labelled.LabelledData, or None when the columns cannot be used
    error: Any  # the DataError that says why, or None


def read_data_job(path: Path, text_column: str | None = None, label_column: str | None = None,
                  has_header: bool | None = None) -> Callable[[Emit, Stop], DataPreview]:
    """Read the file (a DataError for an unreadable one fails the job) and check the columns (a DataError
    for those is part of the preview: the table still shows, so the user can pick other columns)."""
    def run(emit: Emit, should_stop: Stop) -> DataPreview:
        from core.classify.labelled import guess_columns, labelled_rows
        from core.classify.table import read_table
        from core.errors import DataError

        emit(Progress(Stage.DATASET, f"Reading {path.name}…"))
        table = read_table(path, has_header=has_header)
        guessed = guess_columns(table)
        text = text_column if text_column in table.columns else guessed[0]
        label = label_column if label_column in table.columns else guessed[1]
        try:
            return DataPreview(table, text, label, labelled_rows(table, text, label), None)
        except DataError as exc:
            return DataPreview(table, text, label, None, exc)
    return run


def prepare_job(data: Path, run: Path, config: Any, has_header: bool | None) -> Callable[[Emit, Stop], Any]:
    def run_(emit: Emit, should_stop: Stop) -> Any:
        from core.classify.prepare import prepare_classify_run

        return prepare_classify_run(data, run, config, has_header=has_header, on_event=emit)
    return run_


_lock = threading.Lock()
_loaded: dict[str, tuple[float, Any]] = {}


def classifier_for(run: Path) -> Any:
    """The run's classifier, loaded once while its adapter is unchanged (a resumed run reloads)."""
    from core.classify.predict import Classifier

    adapter = run / "adapter" / "adapter_config.json"
    stamp = adapter.stat().st_mtime if adapter.is_file() else 0.0
    with _lock:
        cached = _loaded.get(str(run))
        if cached is None or cached[0] != stamp:
            _loaded[str(run)] = (stamp, Classifier(run))
        return _loaded[str(run)][1]


def predict_job(run: Path, text: str) -> Callable[[Emit, Stop], Any]:
    def run_(emit: Emit, should_stop: Stop) -> Any:
        emit(Progress(Stage.LOAD_MODEL, "Loading the classifier…"))
        return classifier_for(run).predict([text])[0]
    return run_


def classify_file_job(run: Path, source: Path, target: Path) -> Callable[[Emit, Stop], int]:
    def run_(emit: Emit, should_stop: Stop) -> int:
        from core.classify.predict import classify_file

        emit(Progress(Stage.LOAD_MODEL, "Loading the classifier…"))
        return classify_file(classifier_for(run), source, target, on_event=emit, should_stop=should_stop)
    return run_
