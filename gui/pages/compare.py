"""Compare: one question, the original model's answer beside the trained one's.

Each side says what stood behind its answer (issue #21): the original model never sees your
documents; the trained run answers as Chat does, with the same "Use my documents" switch, so it
may have read passages (listed, each opens in full), quoted the documents' own statement, or
passed a general question to the original weights. Without that a user cannot tell whether
the two answers differ because of training or because one of them read the documents.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from core.events import AnswerDone, AnsweredBy, AnswerPiece, AnswerSources, Progress
from gui.chat_widgets import STOPPED_TEXT, ModelPicker, PieceBuffer, SamplingForm, SourceList
from gui.context import AppContext
from gui.jobs import compare_job
from gui.theme import mark_primary, set_icon
from gui.widgets import BusyLine, Card, muted


BASE_BACKING = "No passages: the original model has never seen your documents."
OFF_BACKING = "No passages: “Use my documents” is off, so it answered from what it learned."
ORIGINAL_BACKING = "No passages: a general question, answered by the original model's knowledge."
QUOTED_BACKING = "Quoted from your documents: source 1."
NONE_FOUND_BACKING = "No passages: none fitted the question, so it answered from what it learned."
UNAVAILABLE_BACKING = "No passages: your documents could not be searched ({why})."


def passages_backing(n: int) -> str:
    return f"Read {n} passage{'s' if n != 1 else ''} from your documents before answering."


class AnswerPane(Card):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        top = QHBoxLayout()
        self.title = QLabel(title)
        self.title.setObjectName("sectionTitle")
        top.addWidget(self.title)
        self.stopped_label = QLabel(STOPPED_TEXT)
        self.stopped_label.setObjectName("stoppedMark")
        self.stopped_label.hide()
        top.addWidget(self.stopped_label)
        top.addStretch(1)
        copy = QToolButton()
        set_icon(copy, "copy", 15)
        copy.setToolTip("Copy this answer")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText().strip()))
        top.addWidget(copy)
        self.add(top)
        self.backing = QLabel()  # whether passages stood behind this answer: what makes the two differ
        self.backing.setObjectName("bubbleNote")
        self.backing.setWordWrap(True)
        self.add(self.backing)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.add(self.text, 1)
        self.sources = SourceList()
        self.sources.hide()
        self.add(self.sources)

    def clear(self) -> None:
        self.text.clear()
        self.backing.clear()
        self.set_sources([])
        self.stopped_label.hide()

    def set_sources(self, sources: list[dict[str, Any]]) -> None:
        self.sources.set_sources(sources)
        self.sources.setVisible(bool(sources))

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
        self._answers = 0  # answers begun in this comparison (AnsweredBy events)
        self._passages = True  # the switch as it was when this comparison began
        self._weights = ""  # whose weights write the answer now: "original" or "tuned"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(10)
        row = QHBoxLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("A question about your documents, e.g. “Who founded Harbor Lane Bakery?”")
        self.prompt.returnPressed.connect(self.run)
        self.run_picker = ModelPicker(include_base=False)
        self.run_picker.setMinimumWidth(200)
        self.use_documents = QCheckBox("Use my documents")  # the same switch as Chat's (ChatPage keeps them in step)
        self.use_documents.setChecked(True)
        self.run_button = QPushButton("Compare")
        set_icon(self.run_button, "compare")
        mark_primary(self.run_button)
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        set_icon(self.stop_button, "stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        row.addWidget(self.prompt, 1)  # the question gets the whole line: squeezed beside the picker it was unreadable
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        choice = QHBoxLayout()
        choice.addWidget(muted("Compare the original model with", wrap=False))
        choice.addWidget(self.run_picker)
        choice.addSpacing(12)
        choice.addWidget(self.use_documents)
        choice.addStretch(1)
        layout.addLayout(choice)
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
            pane.clear()
        self.run_button.setEnabled(False)
        self.use_documents.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.busy.start("Loading the original model…")
        self._passages, self._answers, self._side = self.use_documents.isChecked(), 0, "base"
        self._task = self.ctx.workers.run(
            compare_job(self.ctx.chat_models, run, prompt, self.sampling.settings(), passages=self._passages),
            "compare", on_event=self._on_event, on_done=self._done)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, Progress):
            self.busy.start(event.message)
        elif isinstance(event, AnsweredBy):  # the pieces that follow are this side's
            self._buffers[self._side].flush()
            # compare_job answers the original side first; a trained run may pass a general question to its
            # original weights, so which pane follows is counted, not read off the weights
            self._answers += 1
            self._side = "base" if self._answers == 1 else "tuned"
            self._show_backing(event)
        elif isinstance(event, AnswerSources):
            pane = self._pane(self._side)
            pane.set_sources([{"document": p.document, "passage": p.index, "text": p.text} for p in event.passages])
            if self._side == "tuned" and event.passages:
                pane.backing.setText(QUOTED_BACKING if event.quoted else passages_backing(len(event.passages)))
            elif self._side == "tuned" and self._passages and self._weights == "tuned":
                pane.backing.setText(NONE_FOUND_BACKING)
        elif isinstance(event, AnswerPiece):
            self._buffers[self._side].add(event.text)
        elif isinstance(event, AnswerDone):
            self._buffers[self._side].flush()
            self._pane(self._side).stopped_label.setVisible(event.stopped)

    def _show_backing(self, event: AnsweredBy) -> None:
        """What the side about to answer stands on, before its passages (if any) arrive."""
        pane = self._pane(self._side)
        self._weights = event.weights
        if self._side == "base":
            pane.backing.setText(BASE_BACKING)
        elif event.documents_unavailable:
            pane.backing.setText(UNAVAILABLE_BACKING.format(why=event.documents_unavailable.rstrip(".")))
        elif event.weights == "original":
            pane.backing.setText(ORIGINAL_BACKING)
        else:
            pane.backing.setText(OFF_BACKING if not self._passages else "Looking for passages in your documents…")

    def backing(self) -> dict[str, str]:
        """What each side's note says (tests and scripts)."""
        return {"base": self.base_pane.backing.text(), "tuned": self.tuned_pane.backing.text()}

    def _done(self) -> None:
        for buffer in self._buffers.values():
            buffer.flush()
        self._task = None
        self._answers = 0
        self._side = "base"
        self.use_documents.setEnabled(True)
        self.busy.stop()
        self.stop_button.setEnabled(False)
        self.refresh()
        self.finished.emit({"base": self.base_pane.text.toPlainText().strip(),
                            "tuned": self.tuned_pane.text.toPlainText().strip()})

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.busy.message("Stopping…")
