"""Small building blocks shared by the pages: page header, card, stat tile, busy line."""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QGridLayout, QHBoxLayout, QLabel, QLayout, QProgressBar,
                               QPushButton, QScrollArea, QSizePolicy, QTableWidget, QVBoxLayout, QWidget)

SPACING = 12
MARGIN = 28


class Page(QWidget):
    """A page: title, one-line explanation, then content with the app's margins."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("content")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(MARGIN, MARGIN - 6, MARGIN, MARGIN - 8)
        outer.setSpacing(SPACING)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("pageTitle")
        self.subtitle_label = QLabel(subtitle)
        self.subtitle_label.setObjectName("pageSubtitle")
        self.subtitle_label.setWordWrap(True)
        titles.addWidget(self.title_label)
        titles.addWidget(self.subtitle_label)
        header.addLayout(titles, 1)
        self.header_actions = QHBoxLayout()
        self.header_actions.setSpacing(8)
        header.addLayout(self.header_actions)
        outer.addLayout(header)
        self.body = QVBoxLayout()
        self.body.setSpacing(SPACING)
        outer.addLayout(self.body, 1)


class Card(QFrame):
    def __init__(self, title: str = "", parent: QWidget | None = None, margins: int = 16) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(margins, margins - 2, margins, margins)
        self.layout_.setSpacing(10)
        if title:
            label = QLabel(title)
            label.setObjectName("sectionTitle")
            self.layout_.addWidget(label)

    def add(self, item: QWidget | QLayout, stretch: int = 0) -> None:
        if isinstance(item, QLayout):
            self.layout_.addLayout(item, stretch)
        else:
            self.layout_.addWidget(item, stretch)


class Stat(QWidget):
    """A labelled number: 'Step 12 / 40'."""

    changed = Signal()

    def __init__(self, label: str, value: str = "—", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.value = QLabel(value)
        self.value.setObjectName("statValue")
        caption = QLabel(label)
        caption.setObjectName("statLabel")
        layout.addWidget(self.value)
        layout.addWidget(caption)

    def set(self, text: str) -> None:
        if text != self.value.text():
            self.value.setText(text)
            self.changed.emit()


class StatGrid(QWidget):
    """Stats side by side while they fit, wrapping onto a second row when the window is narrow, so a
    number is never cut off (issue #21: '248 / 248' and '2 h 46 min' were clipped at 1000×680)."""

    def __init__(self, stats: Iterable[Stat], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stats = list(stats)
        self.grid = QGridLayout(self)
        self.grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # narrower than 5 columns: wrap
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(SPACING * 2)
        self.grid.setVerticalSpacing(SPACING)
        self.columns = 0
        for stat in self.stats:
            stat.changed.connect(self._later)
        self._arrange()

    def _later(self) -> None:
        QTimer.singleShot(0, self._arrange)

    def cell_width(self) -> int:
        return max(max(stat.sizeHint().width(), stat.value.fontMetrics().horizontalAdvance("2 h 46 min"))
                   for stat in self.stats)

    def columns_for(self, width: int) -> int:
        spacing = self.grid.horizontalSpacing()
        return max(1, min(len(self.stats), (width + spacing) // (self.cell_width() + spacing)))

    def _arrange(self) -> None:
        columns = self.columns_for(self.width() if self.isVisible() else 10_000)
        if columns == self.columns:
            return
        self.columns = columns
        for stat in self.stats:
            self.grid.removeWidget(stat)
        for n, stat in enumerate(self.stats):
            self.grid.addWidget(stat, n // columns, n % columns)
        for c in range(len(self.stats)):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)

    def minimumSizeHint(self):  # type: ignore[override]
        hint = super().minimumSizeHint()
        hint.setWidth(self.cell_width())  # one column at the narrowest: the rest wraps
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()


def scrolling(widget: QWidget) -> QScrollArea:
    """`widget` in a vertical scroll area: a panel too tall for a small window scrolls instead of being
    squeezed until its parts clip or overlap."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    area.viewport().setObjectName("content")
    widget.setObjectName(widget.objectName() or "content")
    return area


class BusyLine(QWidget):
    """A message with an indeterminate progress bar, shown while background work runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setObjectName("muted")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setFixedWidth(140)
        self.bar.setFixedHeight(6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def start(self, message: str) -> None:
        self.label.setText(message)
        self.show()

    def message(self, message: str) -> None:
        self.label.setText(message)

    def stop(self) -> None:
        self.hide()


class PresetButton(QPushButton):
    """A checkable card: the preset's name over its one-line explanation (wrapped, never cut off)."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("presetButton")
        self.setCheckable(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        self.labels = []
        for value, name in ((title, "presetTitle"), (text, "muted")):
            label = QLabel(value)
            label.setObjectName(name)
            label.setWordWrap(True)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            layout.addWidget(label)
            self.labels.append(label)
        self.setToolTip(text)
        # A button's height is fixed to its size hint, which ignores the labels inside it: a description longer
        # than two lines was cut off in the middle of the taller space its layout gave it. Its box layout asks
        # the wrapped labels their height for the width, so the button takes the height it is given.
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Minimum)
        self.set_compact(False)

    def set_compact(self, compact: bool) -> None:
        """Only the name, to leave room for the advanced settings below."""
        self.labels[1].setVisible(not compact)
        lines = 1 if compact else 3
        self.setMinimumHeight(16 + self.fontMetrics().height() * lines + 8)


def read_only_table(headers: list[str], selectable: bool = True) -> QTableWidget:
    """The app's one look for a table people read: no grid, no row numbers, left-aligned headers, no editing.
    selectable: whole rows can be picked (lists people act on); else nothing takes focus (a summary)."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setShowGrid(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    if selectable:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    else:
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return table


def muted(text: str, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setObjectName("muted")
    label.setWordWrap(wrap)
    return label


def hspacer() -> QWidget:
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return spacer


def format_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit in ("B", "KB") else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def format_count(n: int) -> str:
    """135_000_000 → '135M'."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 10 else f"{value:.0f}{suffix}"
    return str(n)


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"
