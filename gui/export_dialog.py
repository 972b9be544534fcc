"""Export: the tuned model of one run as Ollama, GGUF, merged or adapter files, with the checks' verdict.

A thin face over core.export.export_run (the CLI's call): the export and its load-back checks run as one Task
on a worker thread; this dialog only turns its events into a progress bar, a log, and a pass/fail list with
the figures, and shows the `ollama create` line to copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from core.events import ExportCheck, Exported, Progress
from gui import dialogs
from gui.context import AppContext
from gui.jobs import export_job, export_outlook_job
from gui.theme import mark_primary
from gui.widgets import muted
from gui.wording import for_app

FORMAT_CHOICES = (
    ("ollama", "Ollama (GGUF + Modelfile)"),
    ("gguf", "GGUF file (llama.cpp, LM Studio)"),
    ("merged", "Merged model (transformers, safetensors)"),
    ("adapter", "Adapter only (peft LoRA)"),
)
QUANT_CHOICES = (("q8_0", "q8_0 — near-lossless, half of f16"), ("q4_0", "q4_0 — smallest, some loss"),
                 ("f16", "f16 — exact, largest"))


def default_folder(run: Path, fmt: str) -> Path:
    return Path.home() / "TuneDesk exports" / f"{run.name}-{fmt}"


class ExportDialog(QDialog):
    def __init__(self, ctx: AppContext, run: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.run = Path(run)
        self.task: Any = None
        self.result: Any = None
        self.checks: list[ExportCheck] = []
        self.setWindowTitle(f"Export {self.run.name}")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        layout.addWidget(muted("Use your tuned model outside TuneDesk. Every export is loaded back and checked: it "
                               "must answer a set of questions about your documents and general ones as the model "
                               "in the app does."))
        self.outlook = muted("")  # filled from the run's report on a worker (export_outlook_job)
        self.outlook.setObjectName("exportOutlook")
        self.outlook.hide()
        layout.addWidget(self.outlook)
        form = QFormLayout()
        self.format_combo = QComboBox()
        for key, label in FORMAT_CHOICES:
            self.format_combo.addItem(label, key)
        self.quant_combo = QComboBox()
        for key, label in QUANT_CHOICES:
            self.quant_combo.addItem(label, key)
        self.folder_edit = QLineEdit(str(default_folder(self.run, "ollama")))
        self._folder_typed = False
        self.folder_edit.textEdited.connect(lambda _t: setattr(self, "_folder_typed", True))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        form.addRow("Format", self.format_combo)
        form.addRow("Weights", self.quant_combo)
        form.addRow("Folder", folder_row)
        layout.addLayout(form)
        self.format_combo.currentIndexChanged.connect(self._format_changed)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setPlaceholderText("What the export is doing appears here.")
        self.log.setMinimumHeight(120)
        layout.addWidget(self.log, 1)
        self.verdict = QLabel("")
        self.verdict.setObjectName("exportVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.verdict)
        self.command = QLineEdit()
        self.command.setReadOnly(True)
        self.command.hide()
        layout.addWidget(self.command)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton("Export")
        mark_primary(self.export_button)
        self.export_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for button in (self.export_button, self.stop_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self._format_changed()
        self.ctx.workers.run(export_outlook_job(self.run), "export-outlook", on_success=self._show_outlook)

    def _show_outlook(self, text: str) -> None:
        self.outlook.setText(for_app(text))
        self.outlook.setVisible(bool(text))

    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    def _format_changed(self, *_args: Any) -> None:
        self.quant_combo.setEnabled(self.fmt() in ("gguf", "ollama"))
        if not self._folder_typed:
            self.folder_edit.setText(str(default_folder(self.run, self.fmt())))

    def _browse(self) -> None:
        folder = dialogs.choose_folder(self, "Folder for the exported files")
        if folder:
            self.folder_edit.setText(folder)
            self._folder_typed = True

    def busy(self) -> bool:
        return self.task is not None

    def start(self) -> None:
        folder = self.folder_edit.text().strip()
        if self.busy() or not folder:
            return
        quant = str(self.quant_combo.currentData()) if self.fmt() in ("gguf", "ollama") else None
        self.log.clear()
        self.checks, self.result = [], None
        self.verdict.setText("")
        self.command.hide()
        self.progress.setRange(0, 0)
        self.task = self.ctx.workers.run(export_job(self.run, self.fmt(), Path(folder), quant), "export",
                                         on_event=self.on_event, on_success=self._succeeded,
                                         on_failure=self._failed, on_done=self._ended)
        self.task.cancelled.connect(lambda: self._log("Stopped."))
        self._update()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.stop_button.setEnabled(False)

    def _update(self) -> None:
        busy = self.busy()
        for widget in (self.export_button, self.format_combo, self.folder_edit, self.close_button):
            widget.setEnabled(not busy)
        self.quant_combo.setEnabled(not busy and self.fmt() in ("gguf", "ollama"))
        self.stop_button.setEnabled(busy)

    def _log(self, text: str) -> None:
        self.log.appendPlainText(for_app(text))

    def on_event(self, event: Any) -> None:
        if isinstance(event, Progress):
            if event.total:
                self.progress.setRange(0, event.total)
                self.progress.setValue(event.done)
            if not event.tick:
                self._log(event.message)
                if event.total and event.done == event.total:
                    self.progress.setRange(0, 0)  # checking next: no count to show
        elif isinstance(event, ExportCheck):
            self.checks.append(event)
            self._log(f"{_mark(event.passed)} {event.name}: {event.detail}")
        elif isinstance(event, Exported):
            self._log(event.message)

    def _succeeded(self, result: Any) -> None:
        self.result = result
        head = "Export checked: every check passed." if result.passed else "Export written, but a check FAILED."
        lines = [head] + [f"{_mark(c.passed)} {c.name}: {c.detail}" for c in result.checks]
        lines.append(f"{sum(result.files.values()) / 1e6:.0f} MB in {result.folder}")
        self.verdict.setText("\n".join(lines))
        self.verdict.setProperty("passed", result.passed)
        if result.command:
            self.command.setText(result.command)
            self.command.show()
        if result.passed:
            self.ctx.notifier.info("Export checked.", f"Written to {result.folder}.")
        else:
            self.ctx.notifier.warning("The export was written, but a check failed: see the Export window.")

    def _failed(self, exc: BaseException) -> None:
        message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
        self.verdict.setText(f"Not exported: {message}")

    def _ended(self) -> None:
        self.task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.result is not None else 0)
        self._update()

    def reject(self) -> None:
        if self.busy():  # closing mid-export would orphan the task's widgets: stop first
            self.stop()
            return
        super().reject()


def _mark(passed: bool | None) -> str:
    return {True: "✓", False: "✗", None: "–"}[passed]
