"""Start the desktop app: `run_app(argv)` is what main.py calls on a double-click."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.context import AppContext
from gui.main_window import MainWindow
from gui.theme import ThemeManager, icon

_main_thread_gc: object | None = None


def collect_garbage_on_the_main_thread() -> None:
    """Python's cyclic GC runs in whichever thread happens to allocate; when that
    is a chat or loading thread and the garbage holds Qt objects, their C++
    destructors run off the GUI thread and the app segfaults (seen in CI while a
    worker thread loaded a tokenizer). Automatic GC is switched off and a
    main-thread timer collects instead (pyqtgraph's GarbageCollector, made for
    exactly this). Training runs in its own process, so nothing heavy waits on it.
    """
    global _main_thread_gc
    if _main_thread_gc is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _main_thread_gc = GarbageCollector(interval=0.5)


def create_window(app: QApplication) -> MainWindow:
    """The themed main window with its context and error funnel; used by run_app, tests and screenshots."""
    from core.quiet import quiet_libraries

    quiet_libraries()  # loading bars and library warnings would only reach a console nobody sees
    collect_garbage_on_the_main_thread()
    app.setApplicationName("TuneDesk")
    app.setOrganizationName("TuneDesk")
    app.setApplicationDisplayName("TuneDesk")
    app.setDesktopFileName("tunedesk")
    app.setWindowIcon(icon("app", "#000000"))
    themes = ThemeManager(app)
    ctx = AppContext()
    ctx.notifier.install_hooks()
    window = MainWindow(ctx, themes)
    app.aboutToQuit.connect(ctx.notifier.uninstall_hooks)
    return window


def run_app(argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    window = create_window(app)  # type: ignore[arg-type]
    window.show()
    window.start()
    if os.environ.get("TUNEDESK_QUIT_WHEN_SHOWN"):  # bench/startup.py: time from launch to a usable window
        QTimer.singleShot(0, lambda: _report_shown_and_quit(app, window))
    code = app.exec()
    # Python 3.11's last garbage collection, at interpreter exit, hit a refcount bug in a C extension here
    # ("Fatal Python error: bool_dealloc", exit -6 after the window had closed cleanly: tests/gui/test_app_start.py,
    # and the frozen app's window check). Objects left when the app has quit are the OS's to reclaim: freezing
    # them keeps that collection away from them. Bisecting found no one culprit (adding an unrelated class
    # moved it), so this is a workaround, not a fix.
    import gc

    gc.freeze()
    return code


def _report_shown_and_quit(app: QApplication, window: MainWindow) -> None:
    """Runs once the event loop has shown and laid out the window: the moment a user could click."""
    print(f"TUNEDESK_WINDOW_SHOWN visible={window.isVisible()} page={window.current_page()}", flush=True)
    window.close()
    app.quit()
