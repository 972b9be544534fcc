"""The classify task in the real window: a "label text" project gets Data / Train / Try it; importing shows
label counts and problems, a bad file is explained and loses nothing; Try it labels a typed text and a whole
file and shows the confusion matrix and the worst rows. With TUNEDESK_SCREENSHOTS=DIR each screen is saved."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from classify_data import ticket_rows, write_tickets
from gui import dialogs
from gui_support import home, make_window, window  # noqa: F401  (fixtures)

SHOTS = os.environ.get("TUNEDESK_SCREENSHOTS")


def _shot(window, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(SHOTS) / f"classify-{name}.png"))


def _new_classify_project(window, monkeypatch, name: str = "Support tickets"):
    monkeypatch.setattr(dialogs, "ask_new_project", lambda *a, **k: (name, "classify"))
    window.home_page.new_button.click()
    return window.ctx.project


def test_import_screen_shows_counts_and_problems_and_a_bad_file_loses_nothing(window, qtbot, monkeypatch, tmp_path):
    project = _new_classify_project(window, monkeypatch)
    assert project.task == "classify" and window.current_page() == "data"
    visible = [k for k, b in window.nav_buttons.items() if b.isVisibleTo(window)]
    assert visible == ["home", "data", "classify_train", "try"]
    page = window.pages["data"]
    assert not window.pages["classify_train"].start_button.isEnabled()

    data = write_tickets(tmp_path / "tickets.csv", per_label=30)
    with open(data, "a", encoding="utf-8", newline="") as f:  # a duplicate and a conflicting label
        writer = csv.writer(f)
        writer.writerow([99, "Hi, the app crashes when I open it.", "technical"])
        writer.writerow([100, "Hi, the app crashes when I open it.", "billing"])
    page.import_file(data)
    qtbot.waitUntil(lambda: page.counts.rowCount() == 2, timeout=30_000)
    assert (page.text_combo.currentText(), page.label_combo.currentText()) == ("ticket", "team")
    counts = {page.counts.item(r, 0).text(): page.counts.item(r, 1).text() for r in range(2)}
    assert set(counts) == {"billing", "technical"}
    assert "two labels" in page.problems.text() and "crashes when I open it" in page.problems.text()
    assert page.rows.rowCount() == 62 and page.rows.horizontalHeaderItem(2).text() == "ticket"
    qtbot.waitUntil(lambda: window.pages["classify_train"].start_button.isEnabled(), timeout=5_000)
    window.resize(1320, 860)
    _shot(window, "data")

    one_label = tmp_path / "one.csv"  # readable, but nothing to learn: shown on the page, choice kept
    one_label.write_text("ticket,team\nrefund me,billing\ninvoice wrong,billing\n", encoding="utf-8")
    page.import_file(one_label)
    qtbot.waitUntil(lambda: page.error_label.isVisible(), timeout=30_000)
    assert "same label" in page.error_label.text() and "Add rows with the other labels" in page.error_label.text()

    page.import_file(data)
    qtbot.waitUntil(lambda: page.counts.rowCount() == 2 and not page.error_label.isVisible(), timeout=30_000)
    before = (project.root / "labelled.json").read_text()
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as f:
        f.truncate(200 * 2**20)
    page.import_file(huge)  # refused: a notification says why; the chosen data stays
    qtbot.waitUntil(lambda: any("200 MB" in t for t in window.notifications.texts()), timeout=30_000)
    qtbot.waitUntil(lambda: page.import_button.isEnabled(), timeout=10_000)
    assert (project.root / "labelled.json").read_text() == before and page.counts.rowCount() == 2
    assert not list((project.root / "data").glob("huge*"))


def test_try_it_labels_text_and_a_file_and_shows_where_it_is_wrong(window, qtbot, monkeypatch, tmp_path,
                                                                   classify_run):
    project = _new_classify_project(window, monkeypatch, "Tickets")
    shutil.copytree(classify_run, project.runs_dir / "run-20240101-000000")
    window.ctx.runs_changed.emit()
    window.show_page("try")
    page = window.pages["try"]
    assert window.current_page() == "try" and page.label_button.isEnabled()
    assert page.matrix.rowCount() == 2 and page.matrix.horizontalHeaderItem(0).text() == "billing"
    diagonal = int(page.matrix.item(0, 0).text()) + int(page.matrix.item(1, 1).text())
    assert diagonal >= 10 and "Accuracy" in page.metrics_label.text() and page.worst.rowCount() == 12

    page.input.setPlainText("Urgent: my invoice shows the wrong amount")
    qtbot.mouseClick(page.label_button, qtbot_left())
    qtbot.waitUntil(lambda: page.answer.text().startswith("billing"), timeout=120_000)
    assert "%" in page.answer.text() and "technical" in page.probabilities.text()

    source, target = tmp_path / "incoming.csv", tmp_path / "incoming-labelled.csv"
    with open(source, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ticket"])
        writer.writerows([text] for text, _ in ticket_rows(20, seed=3))
    page.classify_file(source, target)
    qtbot.waitUntil(lambda: "rows written" in page.file_status.text(), timeout=120_000)
    with open(target, encoding="utf-8", newline="") as f:
        written = list(csv.reader(f))
    assert len(written) == 41 and [r[0] for r in written[1:]] == [t for t, _ in ticket_rows(20, seed=3)]
    assert page.file_progress.value() == page.file_progress.maximum()
    window.resize(1320, 860)
    _shot(window, "try")
    window.show_page("train")
    assert window.current_page() == "classify_train"
    train = window.pages["classify_train"]
    qtbot.waitUntil(lambda: train.stats["accuracy"].value.text().endswith("%"), timeout=5_000)
    _shot(window, "train")


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
