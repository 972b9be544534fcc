"""`python main.py` opens the window on the first-run welcome, and quits cleanly.

Run in a child process, as a double-click would: `app.exec()` returning from
`quit()` leaves a QApplication that later GUI tests in the same process
cannot use (their background tasks never reported back), so the real
entry point gets a process of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT
from gui_support import home  # noqa: F401 - fixture

LOOK_THEN_QUIT = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
seen = {}

def look_then_quit():
    from gui.main_window import MainWindow
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
    seen.update(page=window.current_page(), welcome=window.home_page.welcome.isVisible(),
                offer=window.home_page.welcome.try_sample.text(), hooked=sys.excepthook is not sys.__excepthook__,
                title=window.windowTitle())
    window.close()
    app.quit()

QTimer.singleShot(500, look_then_quit)
import main
code = main.main([])
seen.update(code=code, unhooked=sys.excepthook is sys.__excepthook__)
print("RESULT " + json.dumps(seen))
"""


def test_main_opens_on_the_welcome_with_the_demo_offered_and_quits_cleanly(home):
    env = {**os.environ, "TUNEDESK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", LOOK_THEN_QUIT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert seen["code"] == 0 and seen["page"] == "home" and seen["welcome"] and seen["title"] == "TuneDesk"
    assert "demo model" in seen["offer"] and "sample documents" in seen["offer"]
    assert seen["hooked"] and seen["unhooked"]  # errors go to the funnel while the app runs, and the hook is handed back
    assert (home / "settings.ini").is_file()  # window geometry saved on quit
