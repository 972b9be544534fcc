"""Data (classify projects): import a labelled file, choose its text and label columns, see what is wrong.

Reading and checking run as background jobs (gui/classify_jobs.py); this page
shows their result: the label counts, the rows with no text or label, exact
duplicates and conflicting labels, and a preview of the rows. A file that cannot
be used is explained through the notification funnel and changes nothing: the
data chosen before stays chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidgetItem, QWidget)

from core.classify.project import DataChoice, data_folder, import_data_file, load_choice, save_choice
from gui import dialogs
from gui.classify_jobs import DataPreview, read_data_job
from gui.context import AppContext
from gui.theme import mark_primary, set_icon
from gui.widgets import BusyLine, Card, Page, muted, read_only_table

PREVIEW_ROWS = 200
FILE_FILTER = "Labelled rows (*.csv *.tsv *.txt *.jsonl *.ndjson *.json);;All files (*)"


class DataPage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Data", "Rows of text with their labels. Choose the columns; problems in the data are "
                                 "listed before anything is trained.", parent)
        self.ctx = ctx
        self.preview: DataPreview | None = None
        self.import_button = QPushButton("Import file…")
        set_icon(self.import_button, "upload")
        mark_primary(self.import_button)
        self.import_button.clicked.connect(self.choose_file)
        self.header_actions.addWidget(self.import_button)

        columns = Card()
        row = QHBoxLayout()
        self.file_label = QLabel("No file yet")
        self.file_label.setObjectName("sectionTitle")
        row.addWidget(self.file_label, 1)
        self.text_combo, self.label_combo = QComboBox(), QComboBox()
        for caption, combo in (("Text", self.text_combo), ("Label", self.label_combo)):
            row.addWidget(muted(caption, wrap=False))
            combo.setMinimumWidth(160)
            combo.currentIndexChanged.connect(self._columns_changed)
            row.addWidget(combo)
        self.header_check = QCheckBox("First row is a header")
        self.header_check.clicked.connect(self._header_changed)
        row.addWidget(self.header_check)
        columns.add(row)
        self.busy = BusyLine()
        columns.add(self.busy)
        self.error_label = QLabel()
        self.error_label.setObjectName("overfitWarning")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        columns.add(self.error_label)
        self.body.addWidget(columns)

        lower = QHBoxLayout()
        lower.setSpacing(12)
        labels = Card("Labels")
        self.counts = read_only_table(["Label", "Rows", "Share"])
        self.counts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        labels.add(self.counts, 1)
        self.summary = muted("Import a CSV, TSV or JSONL file: one row per example, a column of text and a column "
                             "of labels. Spreadsheets: save as “CSV UTF-8” first.")
        labels.add(self.summary)
        self.problems = muted("")
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        labels.add(self.problems)
        labels.setMinimumWidth(320)
        lower.addWidget(labels, 2)
        rows = Card("Rows")
        self.rows = read_only_table([])
        self.rows.setWordWrap(False)
        rows.add(self.rows, 1)
        lower.addWidget(rows, 5)
        self.body.addLayout(lower, 1)
        ctx.project_changed.connect(self._project_changed)

    # Data in ---------------------------------------------------------------------------------
    def _project_changed(self, project: Any) -> None:
        self.preview = None
        self._show(None)
        if project is not None and project.task == "classify":
            choice = load_choice(project)
            if choice is not None:
                self.load(Path(choice.file), choice.text_column, choice.label_column, choice.has_header)

    def choose_file(self) -> None:
        file = dialogs.choose_file(self, "Import labelled rows", FILE_FILTER)
        if file:
            self.import_file(Path(file))

    def import_file(self, source: Path) -> None:
        """Copy the file into the project and read it; a file that cannot be used is removed again and the
        data chosen before stays as it was."""
        project = self.ctx.project
        if project is None:
            return

        def job(emit: Any, should_stop: Any) -> DataPreview:
            copy = import_data_file(project, source)
            try:
                return read_data_job(copy)(emit, should_stop)
            except BaseException:
                copy.unlink(missing_ok=True)
                raise

        self._run(job, f"Reading {source.name}…")

    def load(self, path: Path, text: str | None = None, label: str | None = None, header: bool | None = None) -> None:
        self._run(read_data_job(path, text, label, header), f"Reading {path.name}…")

    def _run(self, job: Any, message: str) -> None:
        self.busy.start(message)
        self.import_button.setEnabled(False)
        self.ctx.workers.run(job, "read-labelled-data", on_success=self._loaded, on_done=self._done)

    def _done(self) -> None:
        self.busy.stop()
        self.import_button.setEnabled(True)

    def _loaded(self, preview: DataPreview) -> None:
        self.preview = preview
        if self.ctx.project is not None:
            save_choice(self.ctx.project, DataChoice(str(preview.table.path), preview.text_column,
                                                     preview.label_column, preview.table.has_header))
        self._show(preview)
        self.ctx.documents_changed.emit()  # the Train page's Start button follows the data

    # Choices ----------------------------------------------------------------------------------
    def _columns_changed(self, *_args: Any) -> None:
        if self.preview is None or self.text_combo.signalsBlocked():
            return
        text, label = self.text_combo.currentText(), self.label_combo.currentText()
        if (text, label) != (self.preview.text_column, self.preview.label_column):
            self.load(self.preview.table.path, text, label, self.preview.table.has_header)

    def _header_changed(self, checked: bool) -> None:
        if self.preview is not None:
            self.load(self.preview.table.path, None, None, checked)

    # Showing ---------------------------------------------------------------------------------
    def _show(self, preview: DataPreview | None) -> None:
        for combo in (self.text_combo, self.label_combo):
            combo.blockSignals(True)
            combo.clear()
        self.counts.setRowCount(0)
        self.rows.clear()
        self.rows.setRowCount(0)
        self.rows.setColumnCount(0)
        self.error_label.hide()
        self.problems.setText("")
        if preview is None:
            self.file_label.setText("No file yet")
            for combo in (self.text_combo, self.label_combo):
                combo.blockSignals(False)
            return
        table = preview.table
        separator = {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar"}.get(table.delimiter, table.delimiter)
        self.file_label.setText(f"{table.path.name} · {len(table.rows)} rows · "
                                + (f"{separator}-separated · {table.encoding}" if table.format == "csv" else "JSON lines"))
        for combo, current in ((self.text_combo, preview.text_column), (self.label_combo, preview.label_column)):
            combo.addItems(table.columns)
            combo.setCurrentText(current)
            combo.blockSignals(False)
        self.header_check.setChecked(table.has_header)
        self.header_check.setEnabled(table.format == "csv")
        if preview.error is not None:
            self.error_label.setText(f"⚠  {preview.error.message}  {preview.error.hint}")
            self.error_label.show()
        if preview.data is not None:
            report = preview.data.report
            self.counts.setRowCount(len(report.label_counts))
            for r, (label, n) in enumerate(report.label_counts.items()):
                for c, value in enumerate((label, str(n), f"{n / max(1, report.usable):.0%}")):
                    self.counts.setItem(r, c, QTableWidgetItem(value))
            self.summary.setText(report.summary()[0])
            self.problems.setText("\n".join(f"• {line}" for line in report.summary()[1:]) or "No problems found.")
        self._fill_rows(preview)

    def _fill_rows(self, preview: DataPreview) -> None:
        table = preview.table
        self.rows.setColumnCount(len(table.columns) + 1)
        self.rows.setHorizontalHeaderLabels(["Line", *table.columns])
        shown = table.rows[:PREVIEW_ROWS]
        self.rows.setRowCount(len(shown))
        for r, values in enumerate(shown):
            self.rows.setItem(r, 0, QTableWidgetItem(str(table.first_line + r)))
            for c, value in enumerate(values, start=1):
                self.rows.setItem(r, c, QTableWidgetItem(value.replace("\n", " ")))
        header = self.rows.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.rows.resizeColumnsToContents()
        text_index = table.columns.index(preview.text_column) + 1
        for c in range(self.rows.columnCount()):
            self.rows.setColumnWidth(c, min(self.rows.columnWidth(c), 520 if c == text_index else 180))

    def has_data(self) -> bool:
        return self.preview is not None and self.preview.data is not None

    @property
    def folder(self) -> Path | None:
        return data_folder(self.ctx.project) if self.ctx.project else None
