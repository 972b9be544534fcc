"""Try it (classify projects): type text and see its label, label a whole file, and see where the model
is wrong — the confusion matrix and the validation rows it gets most wrong, which is where users find
the rows whose label was wrong in the first place.

Loading the classifier and labelling run as background jobs (gui/classify_jobs.py); the metrics and
worst rows come from the run's eval.json, written when training finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QWidget)

from core.classify.train import EVAL_FILE
from core.events import Progress
from core.store import RunStatus, read_json
from gui import dialogs
from gui.classify_jobs import classify_file_job, predict_job
from gui.context import AppContext
from gui.pages.labels_data import FILE_FILTER
from gui.pages.labels_train import classify_runs
from gui.theme import active, mark_primary, set_icon
from gui.widgets import BusyLine, Card, Page, muted, read_only_table


class TryPage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Try it", "Label new text with the trained classifier, or a whole file at once; see which "
                                   "validation rows it gets wrong.", parent)
        self.ctx = ctx
        self.run_combo = QComboBox()
        self.run_combo.setMinimumWidth(360)
        self.run_combo.currentIndexChanged.connect(self._show_results)
        self.header_actions.addWidget(muted("Run", wrap=False))
        self.header_actions.addWidget(self.run_combo)

        top = QHBoxLayout()
        top.setSpacing(12)
        ask = Card("Label a text")
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Type or paste a text, then press Label it (Ctrl+Return).")
        self.input.setMaximumHeight(110)
        ask.add(self.input)
        row = QHBoxLayout()
        self.label_button = QPushButton("Label it")
        set_icon(self.label_button, "spark")
        mark_primary(self.label_button)
        self.label_button.clicked.connect(self.label_text)
        row.addWidget(self.label_button)
        self.answer = QLabel("")
        self.answer.setObjectName("sectionTitle")
        row.addWidget(self.answer, 1)
        ask.add(row)
        self.probabilities = muted("")
        ask.add(self.probabilities)
        self.busy = BusyLine()
        ask.add(self.busy)
        top.addWidget(ask, 3)
        file_card = Card("Label a file")
        file_card.add(muted("Every row of a CSV, TSV or JSONL file, in order, with its columns plus "
                            "predicted_label and score, into a new CSV."))
        self.file_button = QPushButton("Choose a file…")
        set_icon(self.file_button, "open")
        self.file_button.clicked.connect(self.choose_file)
        file_card.add(self.file_button)
        self.file_progress = QProgressBar()
        self.file_progress.setRange(0, 1)
        self.file_progress.setValue(0)
        file_card.add(self.file_progress)
        self.file_status = muted("")
        file_card.add(self.file_status)
        file_card.layout_.addStretch(1)
        top.addWidget(file_card, 2)
        self.body.addLayout(top)

        lower = QHBoxLayout()
        lower.setSpacing(12)
        matrix_card = Card("Confusion matrix (validation rows)")
        self.metrics_label = muted("Train a run to see how it does on the rows kept aside.")
        matrix_card.add(self.metrics_label)
        self.matrix = QTableWidget(0, 0)
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        matrix_card.add(self.matrix, 1)
        matrix_card.add(muted("Rows: the label in your data. Columns: what the model said."))
        lower.addWidget(matrix_card, 2)
        worst_card = Card("Worst-classified validation rows")
        self.worst = read_only_table(["Line", "Text", "Your label", "Model says", "Score"])
        self.worst.setWordWrap(True)
        header = self.worst.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        worst_card.add(self.worst, 1)
        worst_card.add(muted("Where the model is most sure you are wrong, the label often is: check these rows "
                             "in your data first."))
        lower.addWidget(worst_card, 3)
        self.body.addLayout(lower, 1)
        ctx.project_changed.connect(lambda _p: self.refresh_runs())
        ctx.runs_changed.connect(self.refresh_runs)

    # Runs ---------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        keep = self.run_combo.currentData()
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for run in classify_runs(self.ctx.project):
            if run.has_adapter:
                self.run_combo.addItem(f"{run.label} · {'Trained' if run.status is RunStatus.FINISHED else 'Partly trained'}",
                                       str(run.path))
        if not self.run_combo.count():
            self.run_combo.addItem("No trained run yet", None)
        index = self.run_combo.findData(keep) if keep else -1
        self.run_combo.setCurrentIndex(max(0, index))
        self.run_combo.blockSignals(False)
        self._show_results()

    def run_path(self) -> Path | None:
        data = self.run_combo.currentData()
        return Path(data) if data else None

    def _show_results(self, *_args: Any) -> None:
        run = self.run_path()
        has = run is not None
        for widget in (self.label_button, self.file_button):
            widget.setEnabled(has)
        self.matrix.setRowCount(0)
        self.matrix.setColumnCount(0)
        self.worst.setRowCount(0)
        try:
            result = read_json(run / EVAL_FILE) if run else None
        except (OSError, ValueError):
            result = None
        if not result:
            self.metrics_label.setText("Train a run to see how it does on the rows kept aside." if not has else
                                       "This run has no final validation results (stopped before the end?).")
            return
        labels = result["labels"]
        per_label = " · ".join(f"{label}: precision {p:.2f}, recall {r:.2f}"
                               for label, p, r in zip(labels, result["precision"], result["recall"]))
        self.metrics_label.setText(f"Accuracy {result['accuracy']:.1%} · macro-F1 {result['macro_f1']:.3f} "
                                   f"on {sum(result['support'])} rows\n{per_label}")
        self.matrix.setRowCount(len(labels))
        self.matrix.setColumnCount(len(labels))
        self.matrix.setHorizontalHeaderLabels(labels)
        self.matrix.setVerticalHeaderLabels(labels)
        theme = active()
        for i, row in enumerate(result["confusion"]):
            total = max(1, sum(row))
            for j, n in enumerate(row):
                item = QTableWidgetItem(str(n))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                colour = QColor(theme.accent if i == j else theme.error)
                colour.setAlphaF(0.08 + 0.5 * n / total if n else 0.0)
                item.setBackground(colour)
                self.matrix.setItem(i, j, item)
        worst = result.get("worst", [])
        self.worst.setRowCount(len(worst))
        for r, row in enumerate(worst):
            values = [str(row.get("line") or ""), row["text"], row["label"], row["predicted"], f"{row['score']:.2f}"]
            for c, value in enumerate(values):
                self.worst.setItem(r, c, QTableWidgetItem(value))
        self.worst.resizeRowsToContents()

    # Label a text ----------------------------------------------------------------------------------
    def label_text(self) -> None:
        run, text = self.run_path(), self.input.toPlainText().strip()
        if run is None or not text:
            return
        self.label_button.setEnabled(False)
        self.busy.start("Loading the classifier…")
        self.ctx.workers.run(predict_job(run, text), "classify-text", on_success=self._show_prediction,
                             on_done=self._label_done)

    def _label_done(self) -> None:
        self.busy.stop()
        self.label_button.setEnabled(self.run_path() is not None)

    def _show_prediction(self, prediction: Any) -> None:
        self.answer.setText(f"{prediction.label}  ·  {prediction.score:.0%}")
        ranked = sorted(prediction.probabilities.items(), key=lambda kv: -kv[1])
        self.probabilities.setText("   ".join(f"{label} {p:.1%}" for label, p in ranked))

    # Label a file ------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        source = dialogs.choose_file(self, "Label a file", FILE_FILTER)
        if not source:
            return
        suggested = str(Path(source).with_name(Path(source).stem + "-labelled.csv"))
        target = dialogs.choose_save_file(self, "Save the labelled rows as", suggested, "CSV (*.csv)")
        if target:
            self.classify_file(Path(source), Path(target))

    def classify_file(self, source: Path, target: Path) -> None:
        run = self.run_path()
        if run is None:
            return
        self.file_button.setEnabled(False)
        self.file_progress.setRange(0, 0)
        self.file_status.setText(f"Labelling {source.name}…")
        self.ctx.workers.run(classify_file_job(run, source, target), "classify-file", on_event=self._file_event,
                             on_success=lambda n: self._file_done(f"{n} rows written to {target}"),
                             on_failure=lambda _e: self._file_done("Nothing was written."))

    def _file_event(self, event: Any) -> None:
        if isinstance(event, Progress) and event.total:
            self.file_progress.setRange(0, event.total)
            self.file_progress.setValue(event.done)

    def _file_done(self, message: str) -> None:
        self.file_status.setText(message)
        self.file_progress.setRange(0, 1)
        self.file_progress.setValue(1 if "written to" in message else 0)
        self.file_button.setEnabled(self.run_path() is not None)
