"""The one funnel for everything the user must be told: errors, warnings, notes.

Any thread may call `notifier.report_exception(exc)` or `notifier.post(...)`;
delivery to widgets always happens on the main thread through a queued
signal. `install_hooks` routes uncaught exceptions (main thread and worker
threads) here too, so nothing is only printed to a console (napari's
notification manager is the model for this).
"""

from __future__ import annotations

import dataclasses

import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from core.errors import Cancelled, TuneDeskError
from core.events import Failed

INFO, WARNING, ERROR = "info", "warning", "error"


@dataclass(frozen=True)
class Notification:
    level: str  # "info" | "warning" | "error"
    message: str  # what happened
    hint: str = ""  # what to do
    details: str = ""  # a traceback for unexpected errors, shown on demand
    actions: tuple[tuple[str, Callable[[], None]], ...] = field(default=())
    page: str = ""
    """The page key its action leads to ("chat"): once that page is shown, however the user got there,
    the note has done its job and goes (NotificationArea.page_shown)."""


def describe_exception(exc: BaseException) -> Notification | None:
    """Turn any exception into words; None for a cancellation (never a failure)."""
    if isinstance(exc, Cancelled):
        return None
    if isinstance(exc, TuneDeskError):
        return Notification(ERROR, exc.message, exc.hint)
    if isinstance(exc, MemoryError):
        return Notification(ERROR, "The computer ran out of memory.",
                            "Close other programs, or pick a smaller model or the Quick preset.")
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return Notification(ERROR, f"Something went wrong: {type(exc).__name__}: {exc}",
                        "This is a bug in TuneDesk. Your files are safe; try again, and report it if it repeats.",
                        details)


class Notifier(QObject):
    """Thread-safe: post from anywhere, `notified` fires on the main thread."""

    notified = Signal(object)  # Notification, main thread only
    _deliver = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history: list[Notification] = []
        self._deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)
        self._saved_hooks: tuple[Any, Any] | None = None

    def post(self, level: str, message: str, hint: str = "", details: str = "",
             actions: tuple[tuple[str, Callable[[], None]], ...] = (), page: str = "") -> None:
        self._deliver.emit(Notification(level, message, hint, details, tuple(actions), page))

    def info(self, message: str, hint: str = "", **kw: Any) -> None:
        self.post(INFO, message, hint, **kw)

    def warning(self, message: str, hint: str = "", **kw: Any) -> None:
        self.post(WARNING, message, hint, **kw)

    def report_exception(self, exc: BaseException) -> None:
        note = describe_exception(exc)
        if note is not None:
            self._deliver.emit(note)

    def report_failed(self, event: Failed) -> None:
        """A Failed event from a worker process: the same funnel as an exception."""
        self.post(ERROR, event.message, event.hint)

    @Slot(object)
    def _on_deliver(self, note: Notification) -> None:
        from gui.wording import for_app

        note = dataclasses.replace(note, message=for_app(note.message), hint=for_app(note.hint))
        self.history.append(note)
        del self.history[:-200]
        self.notified.emit(note)

    # Uncaught exceptions -------------------------------------------------------------
    def install_hooks(self) -> None:
        self._saved_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall_hooks(self) -> None:
        if self._saved_hooks is not None:
            sys.excepthook, threading.excepthook = self._saved_hooks
            self._saved_hooks = None

    def _excepthook(self, exc_type: type, exc: BaseException, tb: Any) -> None:
        if exc is None or isinstance(exc, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report_exception(exc.with_traceback(tb))

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.report_exception(args.exc_value)


class Banner(QFrame):
    """One notification: message in bold, hint below, optional action buttons, a close button."""

    closed = Signal()

    def __init__(self, note: Notification, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = note
        self.setObjectName("banner")
        self.setProperty("level", note.level)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 10, 8, 10)
        row.setSpacing(10)
        mark = QLabel({"error": "✕", "warning": "!", "info": "i"}[note.level])
        mark.setObjectName("bannerMark")
        mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mark.setFixedSize(22, 22)
        row.addWidget(mark, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.message_label = QLabel(note.message)
        self.message_label.setObjectName("bannerMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.message_label)
        self.hint_label = QLabel(note.hint)
        self.hint_label.setObjectName("bannerHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setVisible(bool(note.hint))
        text.addWidget(self.hint_label)
        if note.details:
            self.setToolTip(note.details[-3000:])
        row.addLayout(text, 1)
        for label, callback in note.actions:
            button = QPushButton(label)
            button.clicked.connect(callback)
            button.clicked.connect(self.dismiss)
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        close = QToolButton()
        close.setText("✕")
        close.setObjectName("bannerClose")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)

    def dismiss(self) -> None:
        self.hide()
        self.closed.emit()
        self.deleteLater()


class NotificationArea(QWidget):
    """A stack of banners above the pages. Errors stay until dismissed; notes fade after a while."""

    MAX_VISIBLE = 3
    INFO_SECONDS = 10

    def __init__(self, notifier: Notifier, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self.banners: list[Banner] = []
        notifier.notified.connect(self.show_notification)

    @Slot(object)
    def show_notification(self, note: Notification) -> None:
        if any(b.note.message == note.message and b.note.level == note.level for b in self.banners):
            return  # the same message twice in a row says nothing new
        banner = Banner(note, self)
        self.banners.append(banner)
        banner.closed.connect(lambda b=banner: self._forget(b))
        self._layout.addWidget(banner)
        while len(self.banners) > self.MAX_VISIBLE:
            self.banners[0].dismiss()
        if note.level == INFO:
            seconds = self.INFO_SECONDS * (6 if note.actions else 1)
            QTimer.singleShot(seconds * 1000, banner, banner.dismiss)

    def page_shown(self, key: str) -> None:
        """Dismiss the notes that lead to page `key`: the user is there now."""
        for banner in [b for b in self.banners if b.note.page == key]:
            banner.dismiss()

    def _forget(self, banner: Banner) -> None:
        if banner in self.banners:
            self.banners.remove(banner)

    def texts(self) -> list[str]:
        """What the user can read right now (message and hint of each banner)."""
        return [f"{b.note.message}\n{b.note.hint}".strip() for b in self.banners]
