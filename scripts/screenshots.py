"""Screenshots of every screen, taken by driving the real app: docs/screenshots/*.png.

Runs the whole flow in a fresh data folder: first-run welcome, the sample project from the
welcome page's demo button, model, documents (with one broken PDF), a trained run, chat
(a stopped answer, a source opened), compare, and grabs each page with QWidget.grab().
Every page is taken at 1440×900 (NN-name.png) and at the window's minimum size
(min-NN-name.png), then Train and Chat in the dark theme. Popups (the Answer settings menu,
a source's passage) are drawn into the window's picture where they open, so a popup that
runs past the window's edge shows as one.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py --run RUN
    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py --steps 24   # trains in the app instead

--run copies an already trained run folder into the project (e.g. one made by
`tunedesk train resources/sample_docs --preset quick --max-steps 3 --out RUN`); without it
the app trains one itself with --preset (default quick) and --steps. TUNEDESK_MODELS may point
at an existing converted-models cache to skip the one-off demo-model conversion.
--no-training takes only the pages that need no run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LARGE = (1440, 900)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--run", default="", help="a trained run folder to copy into the sample project")
    parser.add_argument("--preset", default="quick", choices=["quick", "standard", "thorough"])
    parser.add_argument("--steps", type=int, default=24, help="max_steps when the app trains (0: the preset's)")
    parser.add_argument("--no-training", action="store_true", help="only the pages that need no trained run")
    args = parser.parse_args()
    os.environ["TUNEDESK_HOME"] = tempfile.mkdtemp(prefix="tunedesk-shots-")
    os.environ.pop("TUNEDESK_THEME", None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QPoint, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication, QWidget

    from gui.app import create_window

    app = QApplication([sys.argv[0]])
    window = create_window(app)
    window.show()
    window.start()
    minimum = window.minimumSize()
    sizes = {"": QSize(*LARGE), "min-": minimum}

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

    def shot(name: str, popups: tuple[QWidget, ...] = ()) -> None:
        spin(0.6)  # let the plots' throttled redraw and layouts settle
        picture = window.grab()
        if popups:  # a popup is a window of its own: draw it where it opened, cut off where the window ends
            painter = QPainter(picture)
            for popup in popups:
                if popup.isVisible():
                    at = popup.mapToGlobal(QPoint(0, 0)) - window.mapToGlobal(QPoint(0, 0))
                    painter.drawPixmap(at, popup.grab())
            painter.end()
        picture.save(str(out / f"{name}.png"))
        print("saved", out / f"{name}.png", flush=True)

    def at_each_size(take: Callable[[str], None]) -> None:
        for prefix, size in sizes.items():
            window.resize(size)
            spin(0.3)
            take(prefix)
        window.resize(sizes[""])

    def dismiss_banners() -> None:
        for banner in list(window.notifications.banners):
            banner.dismiss()
        spin(0.2)

    at_each_size(lambda p: shot(f"{p}01-welcome"))
    window.home_page.welcome.try_sample.click()
    docs = window.documents_page
    wait(lambda: docs.result is not None and len(docs.result.documents) == 3 and docs._task is None, 300, "documents")
    broken = Path(tempfile.mkdtemp()) / "scanned_contract.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog" + bytes(range(256)) * 4)
    docs.add_paths([str(broken)])
    wait(lambda: docs.result is not None and len(docs.result.documents) == 4 and docs._task is None, 300, "re-read")
    dismiss_banners()

    def documents(prefix: str) -> None:
        docs.table.selectRow(0)
        docs.preview_tabs.setCurrentIndex(0)
        shot(f"{prefix}03-documents")
        docs.preview_tabs.setCurrentIndex(1)
        wait(lambda: "──" in docs.examples_view.toPlainText(), 120, "training examples")
        shot(f"{prefix}03b-documents-examples")
        docs.preview_tabs.setCurrentIndex(0)

    window.show_page("documents")
    at_each_size(documents)
    window.show_page("model")
    wait(lambda: window.model_page.report is not None and window.model_page._task is None, 300, "model info")
    at_each_size(lambda p: shot(f"{p}02-model"))

    train = window.train_page
    window.show_page("train")
    train.choose_preset(args.preset)

    def train_settings(prefix: str) -> None:
        train.advanced_toggle.setChecked(True)
        shot(f"{prefix}04b-train-settings")
        train.advanced_toggle.setChecked(False)

    if args.no_training:
        at_each_size(lambda p: shot(f"{p}04-train"))
        at_each_size(train_settings)
        window.close()
        return 0

    project = window.ctx.project
    if args.run:
        shutil.copytree(args.run, project.runs_dir / Path(args.run).name)
        window.ctx.runs_changed.emit()
        train.refresh_runs(select_newest=True)
    else:
        train.form.set_values({"max_steps": args.steps, "eval_every": 5, "save_every": 10})
        train.start_button.click()
        wait(lambda: len(train.plots.series["loss"].x) >= max(3, args.steps // 2), 3600, "training steps")
        dismiss_banners()
        at_each_size(lambda p: shot(f"{p}04c-train-running"))
        wait(lambda: train.state == "idle", 3600, "training to finish")
    dismiss_banners()
    at_each_size(lambda p: shot(f"{p}04-train"))
    at_each_size(train_settings)
    window.show_page("home")
    at_each_size(lambda p: shot(f"{p}00-home"))

    chat = window.chat_page
    window.show_page("chat")
    chat.sampling.max_new_tokens.setValue(60)

    def ask(question: str, stop_after: int = 0) -> None:
        pieces: list[str] = []

        def on_piece(piece: str) -> None:
            pieces.append(piece)
            if stop_after and len(pieces) == stop_after:
                chat.stop()

        chat.piece_received.connect(on_piece)
        chat.input.setPlainText(question)
        chat.send_button.click()
        wait(lambda: chat._task is None, 900, "chat answer")
        chat.piece_received.disconnect(on_piece)

    ask("Who founded Harbor Lane Bakery, and when?")
    ask("What is the signature loaf called?")
    chat.sampling.max_new_tokens.setValue(200)
    ask("Describe a day at the bakery in detail.", stop_after=6)
    chat.sampling.max_new_tokens.setValue(60)
    at_each_size(lambda p: shot(f"{p}05-chat"))

    def answer_settings(prefix: str) -> None:
        menu = chat.settings_button.menu()
        menu.popup(chat.settings_button.mapToGlobal(QPoint(0, chat.settings_button.height())))
        spin(0.3)
        shot(f"{prefix}05b-chat-answer-settings", popups=(menu,))
        menu.hide()

    at_each_size(answer_settings)
    with_sources = next((b for b in chat.transcript.bubbles if b.sources.items), None)
    if with_sources is not None:
        def passage(prefix: str) -> None:
            chat.transcript.ensureWidgetVisible(with_sources)
            with_sources.sources.open_passage(with_sources.sources.items[0].where, with_sources.sources.items[0].text)
            spin(0.3)
            shot(f"{prefix}05c-chat-passage", popups=(with_sources.sources.dialog,))
            with_sources.sources.dialog.close()
        at_each_size(passage)

    chat.tabs.setCurrentIndex(1)
    chat.compare.prompt.setText("Who founded Harbor Lane Bakery?")
    chat.compare.run_button.click()
    wait(lambda: chat.compare._task is None and bool(chat.compare.tuned_pane.text.toPlainText()), 900, "compare")
    at_each_size(lambda p: shot(f"{p}06-compare"))

    os.environ["TUNEDESK_THEME"] = "dark"
    window.themes.apply()
    window.show_page("train")
    at_each_size(lambda p: shot(f"{p}07-dark-train"))
    window.show_page("chat")
    chat.tabs.setCurrentIndex(0)
    at_each_size(lambda p: shot(f"{p}08-dark-chat"))
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
