"""Documents: drop files in, see read / skipped with the reason, preview passages and examples, remove."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from conftest import SAMPLE_DOCS
from doc_fixtures import make_corrupt_pdf
from gui_support import home, make_window, window  # noqa: F401 - fixtures

from core import projects
from core.dataset import examples as examples_module
from core.documents import ingest
from gui.main_window import MINIMUM_SIZE


def drop(page, paths: list[Path]) -> None:
    """What the window system delivers when files are dropped on the page."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    page.dropEvent(event)


def cell(page, row: int, column: int) -> str:
    return page.table.item(row, column).text()


def row_of(page, name: str) -> int:
    return next(r for r in range(page.table.rowCount()) if cell(page, r, 0) == name)


def test_dropped_documents_are_copied_read_skipped_previewed_and_removable(window, qtbot, tmp_path, monkeypatch):
    project = projects.create_project("Docs")
    window.ctx.open_project(project)
    window.show_page("documents")
    page = window.documents_page
    broken = make_corrupt_pdf(tmp_path / "broken_download.pdf")
    expected_reason = ingest([broken]).documents[0].reason
    assert expected_reason

    made_on_main_thread: list[bool] = []
    real_preview = examples_module.preview_examples

    def preview_examples(*args, **kwargs):
        made_on_main_thread.append(threading.current_thread() is threading.main_thread())
        return real_preview(*args, **kwargs)

    monkeypatch.setattr(examples_module, "preview_examples", preview_examples)

    drop(page, [SAMPLE_DOCS, broken])
    qtbot.waitUntil(lambda: page.result is not None and len(page.result.documents) == 4 and page._task is None,
                    timeout=180_000)
    # copies live in the project; the originals stay where they were
    assert (project.documents_dir / "broken_download.pdf").is_file() and broken.is_file()
    assert (project.documents_dir / "sample_docs" / "velloran_expedition.txt").is_file()
    assert "4 files: 3 read, 1 skipped" in page.summary.text()

    bad = row_of(page, "broken_download.pdf")
    assert cell(page, bad, 1) == "Skipped" and page.table.item(bad, 1).toolTip() == expected_reason
    assert page.skipped_label.isVisible()
    assert page.skipped_label.text() == f"Skipped broken_download.pdf: {expected_reason}"  # in full, not cut off
    good = row_of(page, "sample_docs/harbor_lane_bakery_handbook.md")
    assert cell(page, good, 1) == "Read" and int(cell(page, good, 4).replace(",", "")) > 100  # tokens counted

    # At the smallest window every count is in view (the name gives way) and both preview tabs show whole.
    window.resize(MINIMUM_SIZE)
    qtbot.waitUntil(lambda: window.size() == MINIMUM_SIZE)
    QApplication.processEvents()
    table = page.table
    for c in range(1, table.columnCount()):
        right = table.columnViewportPosition(c) + table.columnWidth(c)
        assert 0 <= table.columnViewportPosition(c) and right <= table.viewport().width(), f"column {c} off screen"
        assert table.columnWidth(c) >= table.horizontalHeader().sectionSizeHint(c)  # its header not cut
    tabs = page.preview_tabs.tabBar()
    assert tabs.sizeHint().width() <= page.preview_tabs.width(), "the preview tabs scroll"

    page.table.selectRow(good)
    assert "Passage 1" in page.chunks_view.toPlainText()
    assert "Marta Okonkwo" in page.chunks_view.toPlainText()
    qtbot.waitUntil(lambda: "You: " in page.examples_view.toPlainText(), timeout=60_000)
    examples = page.examples_view.toPlainText()
    assert "You: " in examples and "Model: " in examples and "harbor lane bakery handbook" in examples
    assert made_on_main_thread == [False]  # written by a worker: selecting a row never waits for it

    page.table.selectRow(bad)
    assert expected_reason in page.chunks_view.toPlainText()
    page.remove_button.click()
    qtbot.waitUntil(lambda: page.result is not None and len(page.result.documents) == 3 and page._task is None,
                    timeout=120_000)
    assert not (project.documents_dir / "broken_download.pdf").exists()
    assert "3 files: 3 read, 0 skipped" in page.summary.text() and not page.skipped_label.isVisible()
    assert page.next_button.isEnabled()


def test_table_shows_every_cell_keeps_status_colour_and_previews_the_real_mix(window, qtbot):
    from PySide6.QtGui import QColor

    from gui.theme import active

    project = projects.create_project("Mix")
    window.ctx.open_project(project)
    window.show_page("documents")
    page = window.documents_page
    drop(page, [SAMPLE_DOCS])
    qtbot.waitUntil(lambda: page.result is not None and len(page.result.documents) == 3 and page._task is None,
                    timeout=180_000)
    for r in range(page.table.rowCount()):  # no pages in .md/.html/.txt: a dash; no duplicates: 0, never blank
        assert cell(page, r, 2) == "–" and cell(page, r, 5) == "0"

    good = row_of(page, "sample_docs/harbor_lane_bakery_handbook.md")
    page.table.selectRow(good)
    qtbot.waitUntil(lambda: "──" in page.examples_view.toPlainText(), timeout=60_000)
    text = page.examples_view.toPlainText()
    assert "questions about its facts" in text and "passages to recite" in text  # counted by kind
    assert "── Question about a fact" in text and "── Passage to recite ──" in text  # a few of each, not recitals only

    # The selected row's status keeps its green: the selection colour used to repaint it like any text.
    qtbot.wait(100)
    picture = page.table.viewport().grab().toImage()
    area = page.table.visualItemRect(page.table.item(good, 1))
    green = QColor(active().success)

    def near(c: QColor) -> bool:
        return abs(c.red() - green.red()) + abs(c.green() - green.green()) + abs(c.blue() - green.blue()) < 60

    ratio = picture.devicePixelRatio()
    assert any(near(picture.pixelColor(int(x * ratio), int(y * ratio)))
               for x in range(area.left(), area.right()) for y in range(area.top(), area.bottom()))


def test_own_questions_are_written_for_the_project_before_any_run_and_a_failed_save_loses_nothing(window, qtbot):
    """The Documents page's "Your own questions…": written before the first run, kept in the project (where every
    run's check takes them, core.evaluation.own_questions.carry_project_questions) and counted on the button; a save
    that fails opens the editor again with what was typed and why."""
    from core.evaluation.own_questions import OWN_QUESTIONS_FILE, OwnQuestion, read_own_questions

    project = projects.create_project("Asked")
    with qtbot.waitSignal(window.documents_page.own_loaded, timeout=30_000):
        window.ctx.open_project(project)
    window.show_page("documents")
    page = window.documents_page
    assert page.own_button.isEnabled() and page.own_button.text() == "Your own questions…"

    page.own_button.click()
    editor = page.own_dialog
    assert editor is not None and editor.isVisible() and editor.table.rowCount() == 3
    editor.table.item(0, 0).setText("Who founded Harbor Lane Bakery?")
    editor.table.item(0, 1).setText("Marta | Okonkwo")
    editor.save()
    qtbot.waitUntil(lambda: page.own_button.text() == "Your own questions (1)…", timeout=30_000)
    assert read_own_questions(project.root) == [OwnQuestion("Who founded Harbor Lane Bakery?", ("Marta", "Okonkwo"))]
    window.resize(MINIMUM_SIZE)  # the window's smallest size: the button and "Next" each show their whole text
    qtbot.waitUntil(lambda: window.size() == MINIMUM_SIZE)
    QApplication.processEvents()
    for button in (page.own_button, page.next_button):
        assert button.width() >= button.sizeHint().width(), button.text()

    (project.root / OWN_QUESTIONS_FILE).unlink()
    (project.root / OWN_QUESTIONS_FILE).mkdir()  # where the file goes, a folder: the save fails
    page.own_button.click()
    editor = page.own_dialog
    editor.table.item(0, 1).setText("Marta Okonkwo")
    editor.save()
    qtbot.waitUntil(lambda: any(d.isVisible() and d is not editor and "Not saved" in d.error.text()
                                for d in page.findChildren(type(editor))), timeout=30_000)
    again = next(d for d in page.findChildren(type(editor)) if d.isVisible() and d is not editor)
    assert (again.table.item(0, 0).text(), again.table.item(0, 1).text()) == ("Who founded Harbor Lane Bakery?",
                                                                              "Marta Okonkwo")
    again.reject()


def test_a_folder_s_files_of_other_kinds_are_named_with_what_to_do(window, qtbot, tmp_path):
    """A folder's .doc and .xlsx files were left out without a word: the person saw fewer files and no reason."""
    project = projects.create_project("Folder")
    window.ctx.open_project(project)
    window.show_page("documents")
    page = window.documents_page
    folder = tmp_path / "Club papers"
    folder.mkdir()
    (folder / "minutes.md").write_text("# Minutes\n\nThe hall is booked for 4 June.\n", encoding="utf-8")
    (folder / "Handbook.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "rota.xlsx").write_bytes(b"PK")
    (folder / ".~lock.rota.xlsx").write_bytes(b"x")  # an office program's lock file: hidden, not named
    drop(page, [folder])
    qtbot.waitUntil(lambda: page.result is not None and len(page.result.documents) == 1 and page._task is None,
                    timeout=120_000)
    warnings = [n for n in window.ctx.notifier.history if n.message.startswith("Left out")]
    assert len(warnings) == 1
    assert "2 files" in warnings[0].message and "Handbook.doc" in warnings[0].message and "rota.xlsx" in warnings[0].message
    assert ".doc: open it in Word or LibreOffice Writer" in warnings[0].hint and ".xlsx:" in warnings[0].hint
