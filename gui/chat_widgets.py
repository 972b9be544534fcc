"""Pieces of the chat screens: message bubbles, the scrolling transcript, sampling settings, model picker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QScrollArea,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from core import projects
from core.chat import SamplingSettings
from gui.settings_form import field_docs
from gui.theme import set_icon


class MessageBubble(QFrame):
    copied = Signal(str)

    def __init__(self, role: str, text: str = "", label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setObjectName("bubbleUser" if role == "user" else "bubbleAssistant")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 10, 10)
        layout.setSpacing(4)
        top = QHBoxLayout()
        who = QLabel("You" if role == "user" else (label or "Model"))
        who.setObjectName("bubbleRole")
        top.addWidget(who)
        top.addStretch(1)
        if role == "assistant":
            self.copy_button = QToolButton()
            set_icon(self.copy_button, "copy", 15)
            self.copy_button.setToolTip("Copy this answer")
            self.copy_button.clicked.connect(self.copy)
            top.addWidget(self.copy_button)
        layout.addLayout(top)
        self.text_label = QLabel(text)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text_label)

    def text(self) -> str:
        return self.text_label.text()

    def append(self, piece: str) -> None:
        self.text_label.setText(self.text_label.text() + piece)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text().strip())
        self.copied.emit(self.text().strip())


class Transcript(QScrollArea):
    """Bubbles in a column: yours on the right, the model's on the left; follows the newest text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        inner.setObjectName("content")
        self.column = QVBoxLayout(inner)
        self.column.setContentsMargins(4, 4, 12, 4)
        self.column.setSpacing(10)
        self.column.addStretch(1)
        self.placeholder = QLabel("Ask anything about your documents.\nAnswers appear here as they are written.")
        self.placeholder.setObjectName("muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.column.insertWidget(0, self.placeholder)
        self.setWidget(inner)
        self.bubbles: list[MessageBubble] = []
        self.verticalScrollBar().rangeChanged.connect(lambda _lo, hi: self.verticalScrollBar().setValue(hi))

    def add(self, role: str, text: str = "", label: str = "") -> MessageBubble:
        self.placeholder.hide()
        bubble = MessageBubble(role, text, label)
        row = QHBoxLayout()
        if role == "user":
            row.addStretch(1)
            row.addWidget(bubble, 4)
        else:
            row.addWidget(bubble, 5)
            row.addStretch(1)
        self.column.insertLayout(self.column.count() - 1, row)
        self.bubbles.append(bubble)
        return bubble

    def clear(self) -> None:
        while self.column.count() > 2:  # the placeholder and the stretch stay
            item = self.column.takeAt(1)
            layout = item.layout()
            if layout is not None:
                while layout.count():
                    widget = layout.takeAt(0).widget()
                    if widget is not None:
                        widget.deleteLater()
        self.bubbles.clear()
        self.placeholder.show()


class PieceBuffer:
    """Streamed text waits here and reaches the bubble at most every 50 ms (one repaint, many tokens)."""

    def __init__(self, flush: callable, interval_ms: int = 50) -> None:  # type: ignore[valid-type]
        self._pending = ""
        self._flush = flush
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    def add(self, piece: str) -> None:
        self._pending += piece
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self._flush(text)
        self._timer.stop()


class SamplingForm(QWidget):
    """The SamplingSettings fields, tucked into a menu; each explained by its field docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        docs = field_docs(SamplingSettings)
        defaults = SamplingSettings()
        form = QFormLayout(self)
        form.setContentsMargins(14, 12, 14, 12)
        self.max_new_tokens = QSpinBox()
        self.max_new_tokens.setRange(8, 4096)
        self.max_new_tokens.setValue(defaults.max_new_tokens)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(defaults.temperature)
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(defaults.top_p)
        self.repetition_penalty = QDoubleSpinBox()
        self.repetition_penalty.setRange(1.0, 2.0)
        self.repetition_penalty.setSingleStep(0.05)
        self.repetition_penalty.setValue(defaults.repetition_penalty)
        for name, label, widget in (("max_new_tokens", "Longest reply (tokens)", self.max_new_tokens),
                                    ("temperature", "Temperature", self.temperature),
                                    ("top_p", "Top-p", self.top_p),
                                    ("repetition_penalty", "Repetition penalty", self.repetition_penalty)):
            widget.setToolTip(docs.get(name, ""))
            form.addRow(label, widget)
        note = QLabel("Temperature 0 gives the same answer every time.")
        note.setObjectName("muted")
        form.addRow(note)

    def settings(self) -> SamplingSettings:
        return SamplingSettings(max_new_tokens=self.max_new_tokens.value(), temperature=self.temperature.value(),
                                top_p=self.top_p.value(), repetition_penalty=self.repetition_penalty.value())


class ModelPicker(QComboBox):
    """'Original model' or a trained run (only runs that have an adapter)."""

    def __init__(self, include_base: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.include_base = include_base
        self.setMinimumWidth(280)

    def refresh(self, project: projects.Project | None) -> None:
        keep = self.currentData()
        self.blockSignals(True)
        self.clear()
        if project is not None:
            runs = [r for r in projects.list_runs(project) if r.has_adapter]
            for run in runs:
                self.addItem(f"Trained · {run.id}", str(run.path))
            if self.include_base:
                self.addItem("Original model (not trained)", "")
        # Keep a run the user picked; otherwise (first fill, or "original" while a new run appeared) the newest run.
        index = self.findData(keep) if keep else -1
        self.setCurrentIndex(index if index >= 0 else 0)
        self.blockSignals(False)
        self.currentIndexChanged.emit(self.currentIndex())

    def run(self) -> Path | None:
        """The chosen run, or None for the original model."""
        data = self.currentData()
        return Path(data) if data else None

    def select_run(self, run: Path | None) -> None:
        index = self.findData(str(run) if run else "")
        if index >= 0:
            self.setCurrentIndex(index)
