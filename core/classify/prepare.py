"""A labelled file → a classify run folder that training (core/classify/train.py) reads alone.

The same layout as the chat task's runs (core/store.py's RunDir): run.json with
the config, the labels and status, dataset/train.jsonl and validation.jsonl
(never trained on), and data.json with the import report, so any stage can be
re-run from the files before it and the app lists both kinds of run alike.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from core.classify.config import ClassifyConfig
from core.classify.labelled import ImportReport, LabelledData, labelled_rows, stratified_split
from core.classify.table import read_table
from core.errors import RunError
from core.events import Caution, OnEvent, Progress, Stage, ignore_event
from core.locks import run_lock
from core.store import RunDir, RunStatus, write_json, write_jsonl

TASK = "classify"
"""run.json's "task" for a classifier run; a chat run has none (or "chat")."""
DATA_FILE = "data.json"


@dataclass(frozen=True)
class Prepared:
    run: Path
    labels: list[str]
    train_rows: int
    validation_rows: int
    report: ImportReport


def load_labelled(path: Path | str, text_column: str | None = None, label_column: str | None = None,
                  has_header: bool | None = None) -> LabelledData:
    """Read `path` and take its text and label columns (guessed when not given)."""
    from core.classify.labelled import guess_columns

    table = read_table(path, has_header=has_header)
    guessed = guess_columns(table)
    return labelled_rows(table, text_column or guessed[0], label_column or guessed[1])


def is_classify_run(run: Path | str) -> bool:
    try:
        return RunDir(run).read_run().get("task") == TASK
    except (OSError, ValueError, RunError):
        return False


def prepare_classify_run(data_path: Path | str, out: Path | str, config: ClassifyConfig,
                         has_header: bool | None = None, on_event: OnEvent = ignore_event) -> Prepared:
    """Import `data_path` with the config's columns, split it, and write the run folder `out` (which must
    not hold a run yet). Raises DataError for a file that cannot be used; nothing is written then."""
    config.validate()
    run = RunDir(out)
    if run.run_json.is_file():
        raise RunError(f"{run.root} already holds a run.", "Choose a new --out folder, or continue it with --resume.")
    on_event(Progress(Stage.DATASET, f"Reading {Path(data_path).name}…"))
    data = load_labelled(data_path, config.text_column, config.label_column, has_header)
    for warning in data.report.warnings:
        on_event(Caution(warning))
    train, val = stratified_split(data.examples, config.val_fraction, config.seed)
    run.root.mkdir(parents=True, exist_ok=True)
    with run_lock(run.root):
        for path, rows in ((run.train_file, train), (run.validation_file, val)):
            write_jsonl(path, ({"text": e.text, "label": e.label, "line": e.line} for e in rows))
        write_json(run.root / DATA_FILE, {"source": str(Path(data_path).resolve()), "text_column": data.text_column,
                                          "label_column": data.label_column, "report": data.report.to_dict()})
        write_json(run.run_json, {"task": TASK, "config": config.to_dict(), "labels": data.labels,
                                  "status": RunStatus.PREPARED, "created": _dt.datetime.now().isoformat(timespec="seconds"),
                                  "source": str(Path(data_path).resolve())})
    on_event(Progress(Stage.DATASET, f"{len(train)} rows to train on, {len(val)} kept aside to measure "
                                     f"({len(data.labels)} labels: {', '.join(data.labels)})"))
    return Prepared(run.root, data.labels, len(train), len(val), data.report)
