"""Start the desktop app: `run_app(argv)` is what main.py calls on a double-click."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from gui.context import AppContext
from gui.main_window import MainWindow
from gui.theme import ThemeManager, icon


def create_window(app: QApplication) -> MainWindow:
    """The themed main window with its context and error funnel; used by run_app, tests and screenshots."""
    from core.quiet import quiet_libraries

    quiet_libraries()  # loading bars and library warnings would only reach a console nobody sees
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
    return app.exec()
