"""Using a trained classifier: label a text, label a whole file, score a labelled file.

A file comes out as it went in: every row, in input order, with all its original
columns, plus `predicted_label` and `score` (the probability of that label).
Scripts join the output back to their data by position, so a row with no text
keeps its place with both new columns empty. The output is written to a temporary
name and renamed, so an interrupted run never leaves half a file under the name asked for.
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from core.classify.labelled import guess_columns
from core.classify.metrics import classifier_eval
from core.classify.table import read_table
from core.errors import Cancelled, DataError, DiskError
from core.events import ClassifierEval, OnEvent, Progress, ShouldStop, Stage, ignore_event, never_stop
from core.store import RunDir

BATCH = 64
OUTPUT_COLUMNS = ("predicted_label", "score")


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    """The probability the model gives `label`."""
    probabilities: dict[str, float]


class Classifier:
    """A trained run's classifier, loaded once (base + adapter merged), predicting in batches."""

    def __init__(self, run: Path | str) -> None:
        from core.classify.model import load_trained

        self.run = Path(run)
        meta = RunDir(run).read_run()
        self.labels: list[str] = list(meta["labels"])
        self.text_column: str = meta["config"].get("text_column", "text")
        self.max_length: int = int(meta["config"].get("max_length", 128))
        self.model, self.tokenizer = load_trained(self.run)

    def probabilities(self, texts: Sequence[str], on_progress: Any = None, should_stop: ShouldStop = never_stop) -> Any:
        """(N, labels) probabilities, rows in the order given; `on_progress(done, total)` after each batch."""
        import torch

        from core.classify.train import predict_ids

        out = []
        for start in range(0, len(texts), BATCH * 4):
            if should_stop():
                raise Cancelled("Stopped; nothing was written.")
            part = list(texts[start : start + BATCH * 4])
            ids = [list(x) for x in self.tokenizer(part, truncation=True, max_length=self.max_length)["input_ids"]]
            out.append(predict_ids(self.model, ids, self.tokenizer.pad_token_id, BATCH))
            if on_progress is not None:
                on_progress(min(len(texts), start + len(part)), len(texts))
        return torch.cat(out) if out else torch.zeros((0, len(self.labels)))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probs = self.probabilities(texts)
        result = []
        for row in probs.tolist():
            best = max(range(len(row)), key=lambda i: row[i])
            result.append(Prediction(self.labels[best], row[best], dict(zip(self.labels, row))))
        return result


def _text_column(table_columns: list[str], wanted: str | None, trained: str, guessed: str) -> str:
    if wanted:
        if wanted not in table_columns:
            raise DataError(f"The file has no column “{wanted}”.", f"Its columns are: {', '.join(table_columns)}.")
        return wanted
    return trained if trained in table_columns else guessed


def classify_file(classifier: Classifier, in_path: Path | str, out_path: Path | str, text_column: str | None = None,
                  on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop) -> int:
    """Label every row of `in_path` into the CSV `out_path`; returns the number of rows written."""
    table = read_table(in_path)
    column = _text_column(table.columns, text_column, classifier.text_column, guess_columns(table)[0])
    out_path = Path(out_path).expanduser()
    if out_path.resolve() == Path(in_path).expanduser().resolve():
        raise DataError("The output file is the input file.", "Choose another name for the output, so the input is kept.")
    clash = [c for c in OUTPUT_COLUMNS if c in table.columns]
    if clash:
        raise DataError(f"The file already has a column “{clash[0]}”.",
                        "Rename or remove that column (it may be the output of an earlier run), then try again.")
    i = table.columns.index(column)
    texts = [row[i].strip() for row in table.rows]
    todo = [n for n, text in enumerate(texts) if text]
    on_event(Progress(Stage.EVALUATE, f"Labelling {len(todo)} rows of {Path(in_path).name}…", 0, len(table.rows)))
    probs = classifier.probabilities([texts[n] for n in todo], should_stop=should_stop, on_progress=lambda done, total:
                                     on_event(Progress(Stage.EVALUATE, "Labelling…", done, total, tick=True)))
    labels: list[str] = [""] * len(texts)
    scores: list[str] = [""] * len(texts)
    for row, n in zip(probs.tolist(), todo):
        best = max(range(len(row)), key=lambda k: row[k])
        labels[n], scores[n] = classifier.labels[best], f"{row[best]:.4f}"
    _write_csv(out_path, [*table.columns, *OUTPUT_COLUMNS],
               ([*row, labels[n], scores[n]] for n, row in enumerate(table.rows)))
    skipped = len(texts) - len(todo)
    on_event(Progress(Stage.EVALUATE, f"Wrote {len(table.rows)} rows to {out_path}"
                      + (f" ({skipped} with no text left unlabelled)" if skipped else ""), len(table.rows), len(table.rows)))
    return len(table.rows)


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DiskError(f"Could not write {path}: {exc.strerror or exc}",
                        "Free some disk space or choose a folder you can write to.") from exc


@dataclass(frozen=True)
class FileScore:
    metrics: ClassifierEval
    rows: int
    """Rows scored (text and a known label)."""
    unknown_labels: dict[str, int]
    """Labels in the file that the model was not trained on, with their row counts (not scored)."""
    skipped: int
    """Rows with no text or no label."""


def evaluate_file(classifier: Classifier, in_path: Path | str, label_column: str, text_column: str | None = None,
                  on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop) -> FileScore:
    """Accuracy, macro-F1 and the rest on a labelled file the model has not seen."""
    table = read_table(in_path)
    if label_column not in table.columns:
        raise DataError(f"{Path(in_path).name} has no column “{label_column}”.",
                        f"Its columns are: {', '.join(table.columns)}.")
    column = _text_column(table.columns, text_column, classifier.text_column, guess_columns(table)[0])
    ti, li = table.columns.index(column), table.columns.index(label_column)
    index = {label: i for i, label in enumerate(classifier.labels)}
    texts, truth, unknown, skipped = [], [], {}, 0
    for row in table.rows:
        text, label = row[ti].strip(), row[li].strip()
        if not text or not label:
            skipped += 1
        elif label not in index:
            unknown[label] = unknown.get(label, 0) + 1
        else:
            texts.append(text)
            truth.append(index[label])
    if not texts:
        raise DataError(f"No row of {Path(in_path).name} has a label this model knows "
                        f"({', '.join(classifier.labels)}).", f"Check that “{label_column}” is the label column.")
    on_event(Progress(Stage.EVALUATE, f"Scoring {len(texts)} rows…", 0, len(texts)))
    probs = classifier.probabilities(texts, should_stop=should_stop, on_progress=lambda done, total:
                                     on_event(Progress(Stage.EVALUATE, "Scoring…", done, total, tick=True)))
    metrics = classifier_eval(0, classifier.labels, truth, probs.argmax(-1).tolist())
    return FileScore(metrics, len(texts), unknown, skipped)
