"""Compare: one question, the original model's answer beside the trained one's."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from core.events import AnsweredBy, AnswerPiece, Progress
from gui.chat_widgets import ModelPicker, PieceBuffer, SamplingForm
from gui.context import AppContext
from gui.jobs import compare_job
from gui.theme import mark_primary, set_icon
from gui.widgets import BusyLine, Card, muted


class AnswerPane(Card):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        top = QHBoxLayout()
        self.title = QLabel(title)
        self.title.setObjectName("sectionTitle")
        top.addWidget(self.title)
        top.addStretch(1)
        copy = QToolButton()
        set_icon(copy, "copy", 15)
        copy.setToolTip("Copy this answer")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText().strip()))
        top.addWidget(copy)
        self.add(top)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.add(self.text, 1)

    def append(self, piece: str) -> None:
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.text.ensureCursorVisible()


class ComparePanel(QWidget):
    finished = Signal(dict)  # {"base": answer, "tuned": answer}

    def __init__(self, ctx: AppContext, sampling: SamplingForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sampling = sampling
        self._task = None
        self._side = "base"  # whose answer the worker is writing now (compare_job: the original's first)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(10)
        row = QHBoxLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("A question about your documents, e.g. “Who founded Harbor Lane Bakery?”")
        self.prompt.returnPressed.connect(self.run)
        self.run_picker = ModelPicker(include_base=False)
        self.run_button = QPushButton("Compare")
        set_icon(self.run_button, "compare")
        mark_primary(self.run_button)
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        set_icon(self.stop_button, "stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        row.addWidget(self.prompt, 1)
        row.addWidget(self.run_picker)
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        self.busy = BusyLine()
        layout.addWidget(self.busy)
        panes = QHBoxLayout()
        panes.setSpacing(12)
        self.base_pane = AnswerPane("Original model")
        self.tuned_pane = AnswerPane("Trained model")
        panes.addWidget(self.base_pane)
        panes.addWidget(self.tuned_pane)
        layout.addLayout(panes, 1)
        self.empty_note = muted("Train a model first: the comparison needs a finished or stopped run.")
        layout.addWidget(self.empty_note)
        self._buffers = {side: PieceBuffer(lambda t, s=side: self._pane(s).append(t))
                         for side in ("base", "tuned")}
        ctx.project_changed.connect(lambda _p: self.refresh())
        ctx.runs_changed.connect(self.refresh)
        self.run_picker.currentIndexChanged.connect(self._picked)
        self.refresh()

    def _pane(self, side: str) -> AnswerPane:
        return self.base_pane if side == "base" else self.tuned_pane

    def refresh(self) -> None:
        self.run_picker.refresh(self.ctx.project)
        has_run = self.run_picker.run() is not None
        self.empty_note.setVisible(not has_run)
        self.run_button.setEnabled(has_run and self._task is None)

    def _picked(self, _index: int) -> None:
        run = self.run_picker.run()
        self.tuned_pane.title.setText(f"Trained model · {run.name}" if run else "Trained model")

    def run(self) -> None:
        prompt = self.prompt.text().strip()
        run = self.run_picker.run()
        if not prompt or run is None or self._task is not None:
            return
        for pane in (self.base_pane, self.tuned_pane):
            pane.text.clear()
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.busy.start("Loading the original model…")
        self._task = self.ctx.workers.run(compare_job(self.ctx.chat_models, run, prompt, self.sampling.settings()),
                                          "compare", on_event=self._on_event, on_done=self._done)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, Progress):
            self.busy.start(event.message)
        elif isinstance(event, AnsweredBy):  # the pieces that follow are this side's
            self._buffers[self._side].flush()
            self._side = "base" if event.weights == "original" else "tuned"
        elif isinstance(event, AnswerPiece):
            self._buffers[self._side].add(event.text)

    def _done(self) -> None:
        for buffer in self._buffers.values():
            buffer.flush()
        self._task = None
        self.busy.stop()
        self.stop_button.setEnabled(False)
        self.refresh()
        self.finished.emit({"base": self.base_pane.text.toPlainText().strip(),
                            "tuned": self.tuned_pane.text.toPlainText().strip()})

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.busy.message("Stopping…")
