"""Pieces of the chat screens: message bubbles with their sources, the scrolling transcript, sampling
settings, model picker."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QMouseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QFrame,
                               QHBoxLayout, QLabel, QMenu, QPlainTextEdit, QScrollArea, QSizePolicy, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from core import projects
from core.chat import SamplingSettings
from gui.settings_form import field_docs
from gui.theme import set_icon


STOPPED_TEXT = "■ Stopped"


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
        self.who_label = who
        top.addWidget(who)
        self.stopped_label = QLabel(STOPPED_TEXT)  # an answer cut short says so, not only by its length
        self.stopped_label.setObjectName("stoppedMark")
        self.stopped_label.setToolTip("You stopped this answer before the model finished it.")
        self.stopped_label.hide()
        top.addWidget(self.stopped_label)
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
        self.note_label = QLabel()
        self.note_label.setObjectName("bubbleNote")
        self.note_label.setWordWrap(True)
        self.note_label.hide()
        layout.addWidget(self.note_label)
        self.sources = SourceList()
        self.sources.hide()
        layout.addWidget(self.sources)

    def text(self) -> str:
        return self.text_label.text()

    def set_sources(self, sources: list[dict[str, Any]]) -> None:
        """The passages the answer was given, listed under it (none: the list is hidden)."""
        self.sources.set_sources(sources)
        self.sources.setVisible(bool(self.sources.items))

    def set_note(self, text: str) -> None:
        """A quiet line under the answer, e.g. that the original model's knowledge answered it."""
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def set_stopped(self, stopped: bool) -> None:
        """Mark an answer that a stop request cut short (core.events.AnswerDone.stopped)."""
        self.stopped_label.setVisible(stopped)

    def is_stopped(self) -> bool:
        return not self.stopped_label.isHidden()

    def append(self, piece: str) -> None:
        self.text_label.setText(self.text_label.text() + piece)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text().strip())
        self.copied.emit(self.text().strip())


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit, at whatever width the bubble has."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 40)
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, width))


def snippet_of(passage: str) -> str:
    """The passage's prose on one line: heading lines ("# Staff Handbook") say little in a snippet."""
    lines = [line for line in passage.splitlines() if line.strip()]
    prose = [line for line in lines if not line.lstrip().startswith("#")] or lines
    return " ".join(" ".join(prose).split())


class PassageDialog(QDialog):
    """One source passage in full: the document, the passage number and its whole text, selectable."""

    def __init__(self, where: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Source · {where}")
        self.resize(560, 420)
        layout = QVBoxLayout(self)
        title = QLabel(where)
        title.setObjectName("sectionTitle")
        title.setWordWrap(True)
        layout.addWidget(title)
        self.text = QPlainTextEdit(text.strip())
        self.text.setReadOnly(True)
        layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class SourceItem(QFrame):
    """One source: the document and passage number over a one-line snippet. A click (or Enter, Space)
    opens the whole passage; the tooltip shows it on hover."""

    opened = Signal(str, str)  # where, the passage text

    def __init__(self, number: int, source: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        document = str(source.get("document", "?"))
        passage = source.get("passage")
        self.where = f"{document} · passage {int(passage) + 1}" if isinstance(passage, int) else document
        self.text = str(source.get("text", ""))
        self.setObjectName("sourceItem")
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        body = html.escape(self.text.strip()).replace("\n", "<br>")
        self.setToolTip(f"<b>{html.escape(self.where)}</b><p>{body}</p><p><i>Click to open the passage.</i></p>")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 5, 8, 6)
        layout.setSpacing(1)
        title = ElidedLabel(f"[{number}]  {self.where}")
        title.setObjectName("sourceTitle")
        self.snippet = ElidedLabel(snippet_of(self.text))
        self.snippet.setObjectName("sourceSnippet")
        layout.addWidget(title)
        layout.addWidget(self.snippet)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.opened.emit(self.where, self.text)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.opened.emit(self.where, self.text)
            return
        super().keyPressEvent(event)


class SourceList(QFrame):
    """An answer's sources, one SourceItem each; clicking one opens its passage in a PassageDialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bubbleSources")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 8, 0, 0)
        self._layout.setSpacing(4)
        caption = QLabel("SOURCES · click one to read it")
        caption.setObjectName("sourcesCaption")
        self._layout.addWidget(caption)
        self.items: list[SourceItem] = []
        self.dialog: PassageDialog | None = None  # the passage open now (tests read it)

    def set_sources(self, sources: list[dict[str, Any]]) -> None:
        for item in self.items:
            item.deleteLater()
        self.items = []
        for n, source in enumerate(s for s in sources if isinstance(s, dict)):
            item = SourceItem(n + 1, source)
            item.opened.connect(self.open_passage)
            self._layout.addWidget(item)
            self.items.append(item)

    def open_passage(self, where: str, text: str) -> None:
        """The whole passage in a window of its own (not modal: the chat stays usable beside it)."""
        if self.dialog is not None:
            self.dialog.close()
        dialog = PassageDialog(where, text, self.window())
        dialog.finished.connect(lambda _r: self.dialog is dialog and setattr(self, "dialog", None))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.show()

    def titles(self) -> list[str]:
        """"document · passage N" of each source, as shown."""
        return [item.where for item in self.items]


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


class InsideWindowMenu(QMenu):
    """A button's menu that opens inside the window: under the button, its right edge on the button's when
    the button sits at the window's right (the Answer settings popup ran past the window's edge, issue #21)."""

    def __init__(self, button: QWidget) -> None:
        super().__init__(button)
        self.button = button

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.move(self.position_for(self.sizeHint()))

    def position_for(self, size: QSize) -> QPoint:
        window = self.button.window()
        area = QRect(window.mapToGlobal(QPoint(0, 0)), window.size())
        below = self.button.mapToGlobal(QPoint(0, self.button.height()))
        x = min(below.x(), area.right() - size.width())  # no further right than the window
        y = min(below.y(), area.bottom() - size.height())
        return QPoint(max(area.left(), x), max(area.top(), y))


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
                self.addItem(f"Trained · {run.label}", str(run.path))
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
