"""run_app — what `python main.py` calls — opens the window on the first-run welcome, and quits cleanly.

Named to run after every other GUI test: once `app.exec()` has returned from
`quit()`, later windows in the same process never saw their background
tasks finish (measured: the next GUI test timed out after 180 s).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer

from gui_support import home  # noqa: F401 - fixture

from gui.app import run_app
from gui.main_window import MainWindow


def test_run_app_opens_on_the_welcome_with_the_demo_offered(qapp, home):
    seen: dict = {}

    def look_then_quit() -> None:
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        seen.update(page=window.current_page(), welcome=window.home_page.welcome.isVisible(),
                    offer=window.home_page.welcome.try_sample.text(), hook=sys.excepthook)
        window.close()
        qapp.quit()

    QTimer.singleShot(300, look_then_quit)
    assert run_app([]) == 0
    assert seen["page"] == "home" and seen["welcome"]
    assert "demo model" in seen["offer"] and "sample documents" in seen["offer"]
    assert seen["hook"] is not sys.__excepthook__  # errors go to the funnel while the app runs …
    assert sys.excepthook is not seen["hook"]  # … and the hook is handed back when it quits
    assert (home / "settings.ini").is_file()  # window geometry saved on quit
