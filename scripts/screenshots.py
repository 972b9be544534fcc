"""Screenshots of every screen, taken by driving the real app: docs/screenshots/*.png.

Runs the whole flow in a fresh data folder — first-run welcome, sample
project, model, documents (with one broken PDF), a short real training run,
chat, compare — and grabs each page with QWidget.grab(). Then the same pages
in the dark theme.

    Xvfb :95 -screen 0 1440x900x24 &  DISPLAY=:95 python scripts/screenshots.py
    (or: ../shared/tools/screenshot.sh /tmp/x.png 600 python scripts/screenshots.py)

TUNEDESK_MODELS may point at an existing converted-models cache to skip the
one-off demo-model conversion. --preset (default standard) and --steps
(default: the preset's epochs) set the run; --no-training re-takes only the
pages that need no run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--preset", default="standard", choices=["quick", "standard", "thorough"])
    parser.add_argument("--steps", type=int, default=0, help="max_steps (0: as many as the preset's epochs give)")
    parser.add_argument("--no-training", action="store_true",
                        help="only the pages that need no trained run (welcome, documents, model): about a minute")
    args = parser.parse_args()
    os.environ["TUNEDESK_HOME"] = tempfile.mkdtemp(prefix="tunedesk-shots-")
    os.environ.pop("TUNEDESK_THEME", None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication

    from gui.app import create_window

    app = QApplication([sys.argv[0]])
    window = create_window(app)
    window.resize(QSize(1320, 860))
    window.show()
    window.start()

    def spin(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise SystemExit(f"timed out waiting for {what}")
            app.processEvents()
            time.sleep(0.05)

    def shot(name: str) -> None:
        spin(0.6)  # let the plots' throttled redraw and layouts settle
        window.grab().save(str(out / f"{name}.png"))
        print("saved", out / f"{name}.png", flush=True)

    def dismiss_banners() -> None:
        for banner in list(window.notifications.banners):
            banner.dismiss()
        spin(0.2)

    shot("01-welcome")
    window.home_page.welcome.try_sample.click()
    docs = window.documents_page
    wait(lambda: docs.result is not None and len(docs.result.documents) == 3 and docs._task is None, 180, "documents")
    broken = Path(tempfile.mkdtemp()) / "scanned_contract.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog" + bytes(range(256)) * 4)
    docs.add_paths([str(broken)])
    wait(lambda: docs.result is not None and len(docs.result.documents) == 4 and docs._task is None, 120, "re-read")
    docs.table.selectRow(0)
    shot("03-documents")
    docs.preview_tabs.setCurrentIndex(1)
    shot("03b-documents-examples")
    docs.preview_tabs.setCurrentIndex(0)

    window.show_page("model")
    wait(lambda: window.model_page.report is not None and window.model_page._task is None, 180, "model info")
    shot("02-model")
    if args.no_training:
        window.close()
        return 0

    train = window.train_page
    window.show_page("train")
    train.choose_preset(args.preset)
    train.form.set_values({"max_steps": args.steps, "eval_every": 5, "save_every": 10})
    train.start_button.click()
    wait(lambda: len(train.plots.series["loss"].x) >= (max(6, args.steps // 2) if args.steps else 20), 1800,
         "training steps")
    dismiss_banners()
    shot("04-train")
    train.advanced_toggle.setChecked(True)
    shot("04b-train-settings")
    train.advanced_toggle.setChecked(False)
    wait(lambda: train.state == "idle", 1800, "training to finish")
    dismiss_banners()

    window.show_page("home")
    shot("00-home")

    chat = window.chat_page
    window.show_page("chat")
    chat.sampling.max_new_tokens.setValue(60)
    chat.input.setPlainText("Who founded Harbor Lane Bakery, and when?")
    chat.send_button.click()
    wait(lambda: chat._task is None and bool(chat.last_answer()), 600, "chat answer")
    chat.input.setPlainText("What is the signature loaf called?")
    chat.send_button.click()
    wait(lambda: chat._task is None and chat.last_answer() != "" and len(chat.transcript.bubbles) == 4, 600, "answer 2")
    shot("05-chat")

    chat.tabs.setCurrentIndex(1)
    chat.compare.prompt.setText("Who founded Harbor Lane Bakery?")
    chat.compare.run_button.click()
    wait(lambda: chat.compare._task is None and bool(chat.compare.tuned_pane.text.toPlainText()), 600, "compare")
    shot("06-compare")

    os.environ["TUNEDESK_THEME"] = "dark"
    window.themes.apply()
    window.show_page("train")
    shot("07-dark-train")
    window.show_page("chat")
    chat.tabs.setCurrentIndex(0)
    shot("08-dark-chat")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
