"""The "did it learn?" report on screen, and runs you can manage (issue #21, items 5 and 6): real windows,
real run folders, the real evaluation on a worker thread, the real menu actions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel

from conftest import ROOT
from gui_support import add_run, banner_texts, home, make_window, tiny_run, window  # noqa: F401 - fixtures

from core import projects
from core.runs import run_state
from gui import dialogs
from gui.pages.train import TRAINING
from gui.report_view import ReportChecks, ReportDialog
from gui.run_actions import DELETE, OPEN, RENAME, REPORT
from gui.server_export import SERVER_EXPORT

CHECK_TIMEOUT_MS = 420_000  # two model loads and ~50 short answers on a busy CPU


def copy_run(project, run: Path, name: str) -> Path:
    target = project.runs_dir / name
    shutil.copytree(run, target, ignore=shutil.ignore_patterns(".tunedesk.lock", "report.json"))
    return target


def action(menu, text: str):
    found = [a for a in menu.actions() if a.text() == text]
    assert found, [a.text() for a in menu.actions()]
    return found[0]


def train_menu(page):
    menu = page.run_menu_button.menu()
    menu.aboutToShow.emit()  # what opening it does: built for the run selected now
    return menu


def test_report_is_shown_when_a_run_finishes_with_the_counts_of_report_json(window, qtbot, tiny_run):
    project = projects.create_project("Report")
    window.ctx.open_project(project)
    run = add_run(project, tiny_run)
    window.show_page("train")
    page, view = window.train_page, window.train_page.report_view

    page.state, page.run_path = TRAINING, run  # as while training it; then the worker says it finished
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        page._training_ended("finished")
    assert view.isVisible() and view.headline.text() == "Did it learn? Not checked yet"
    assert "questions that training never asked" in view.detail.text()
    assert view.check_button.isVisible() and not view.details_button.isVisible()

    # Stopping a check leaves no half report: a verdict on a few answers would mislead.
    checks = ReportChecks.of(window.ctx)
    with qtbot.waitSignal(checks.progress, timeout=30_000):
        view.check_button.click()
    assert view.stop_button.isVisible() and view.headline.text() == "Checking what it learned…"
    assert window.ctx.workers.checking.is_running()  # in its own process, not competing with the GUI thread
    with qtbot.waitSignal(checks.ended, timeout=CHECK_TIMEOUT_MS) as ended:
        view.stop_button.click()
    assert ended.args == [str(run), "stopped"]
    qtbot.waitUntil(lambda: view.data is not None and view.headline.text() == "Did it learn? Not checked yet",
                    timeout=30_000)
    assert not (run / "report.json").exists()

    with qtbot.waitSignal(checks.ended, timeout=CHECK_TIMEOUT_MS) as ended:
        view.check_button.click()
    assert ended.args == [str(run), "done"]
    qtbot.waitUntil(lambda: view.data is not None and view.data.summary is not None, timeout=30_000)
    report = json.loads((run / "report.json").read_text())
    facts = [a for a in report["answers"] if a["kind"] != "general"]
    general = [a for a in report["answers"] if a["kind"] == "general"]
    learned = sum(a["tuned_correct"] for a in facts)
    assert len(facts) == report["facts"]["questions"] > 0
    assert view.headline.text() == f"Learned {learned} of {len(facts)} facts from your documents"
    weighted = report["facts"]["text_weighted"]["tuned"]
    assert f"how much of your text it is: about {weighted:.0%} learned" in view.detail.text()
    assert f"{sum(a['tuned_correct'] for a in general)} of {len(general)} everyday questions" in view.general.text()
    assert view.details_button.isVisible() and not view.check_button.isVisible()
    assert view.own_button.isVisible()  # your own questions, from the Train page's card too

    view.details_button.click()  # the whole report: per document, per kind, every answer
    dialogs_open = [d for d in window.findChildren(ReportDialog) if d.isVisible()]
    assert len(dialogs_open) == 1
    full = dialogs_open[0].view
    qtbot.waitUntil(lambda: full.data is not None and full.data.summary is not None, timeout=30_000)
    per_doc = report["facts"]["per_document"]
    assert full.doc_table.rowCount() == len(per_doc)
    for r in range(full.doc_table.rowCount()):
        doc = full.doc_table.item(r, 0).text()
        mine = [a for a in facts if a["doc"] == doc]
        assert full.doc_table.item(r, 1).text() == f"{sum(a['tuned_correct'] for a in mine)} of {per_doc[doc]['questions']}"
        assert full.doc_table.item(r, 2).text() == f"{sum(a['base_correct'] for a in mine)} of {len(mine)}"
    assert full.kind_table.rowCount() == len(report["facts"]["per_kind"])
    text = full.items.toPlainText()
    for answer in report["answers"]:
        assert answer["q"] in text
    assert "Trained model:" in text and "Original model (" in text
    full.filter.setCurrentIndex(full.filter.findData("missed"))
    missed = full.items.toPlainText()
    assert missed.count("✗ Missed") == len(facts) - learned and "✓ Learned" not in missed


def test_a_stopped_run_says_why_it_has_no_report(window, qtbot, tiny_run):
    project = projects.create_project("Stopped")
    run = add_run(project, tiny_run, status="stopped", step=1, total_steps=2)
    shutil.rmtree(run / "adapter")  # as a run stopped after its first step: no final adapter, one checkpoint
    shutil.rmtree(run / "checkpoints" / "step-2")
    window.ctx.open_project(project)
    window.show_page("train")
    page = window.train_page
    qtbot.waitUntil(lambda: page.report_view.data is not None, timeout=30_000)
    assert not page.report_view.isVisible()  # the Train page's status line says Resume; no card for it

    action(train_menu(page), REPORT).trigger()
    full = page.run_menu_button.actions_.report_dialog.view
    qtbot.waitUntil(lambda: full.data is not None, timeout=30_000)
    assert full.headline.text() == "No report yet"
    assert "stopped at step 1 of 2, before it finished" in full.detail.text() and "press Resume" in full.detail.text()
    assert not full.check_button.isVisible()


def test_rename_open_and_delete_a_run_from_its_menu(window, qtbot, monkeypatch, tiny_run):
    project = projects.create_project("Manage")
    first = copy_run(project, tiny_run, "run-20240101-000000")
    second = copy_run(project, tiny_run, "run-20240102-000000")
    window.ctx.open_project(project)
    window.show_page("home")
    home_page, train_page = window.home_page, window.train_page
    assert home_page.runs_table.rowCount() == 2

    menu = home_page.run_menu(1)  # the older run: newest first
    assert [a.text() for a in menu.actions() if a.text()] == [REPORT, RENAME, OPEN, SERVER_EXPORT, DELETE]
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Bakery handbook, first try")
    action(menu, RENAME).trigger()
    assert first.is_dir() and run_state(first).label == "Bakery handbook, first try"  # the folder stays
    assert home_page.runs_table.item(1, 0).text() == "Bakery handbook, first try"
    assert any(train_page.run_combo.itemText(i).startswith("Bakery handbook, first try · ")
               for i in range(train_page.run_combo.count()))

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    action(home_page.run_menu(1), OPEN).trigger()
    assert opened == [str(first)]

    models = window.ctx.chat_models  # as after chatting with both runs: the deleted one's model must go
    for run in (first, second):
        models._remember(models._models, (str(run), False, True, 0.0), object())
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda _parent, title, text, yes="OK": asked.append(text) or True)
    action(home_page.run_menu(1), DELETE).trigger()
    assert asked and "Bakery handbook, first try" in asked[0] and "cannot be undone" in asked[0]
    assert not first.exists() and second.is_dir()
    assert [k[0] for k in models._models] == [str(second)]
    assert home_page.runs_table.rowCount() == 1 and home_page.runs_table.item(0, 0).text() == second.name
    assert [train_page.run_combo.itemData(i) for i in range(train_page.run_combo.count())] == [str(second)]

    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: False)  # "Cancel" deletes nothing
    window.show_page("train")
    action(train_menu(train_page), DELETE).trigger()
    assert second.is_dir()


def test_deleting_or_renaming_a_run_that_is_training_is_refused(window, qtbot, monkeypatch, tiny_run):
    project = projects.create_project("Busy")
    run = copy_run(project, tiny_run, "run-20240101-000000")
    window.ctx.open_project(project)
    window.show_page("train")
    page = window.train_page
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: asked.append(a) or True)
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: asked.append(a) or "New name")
    code = ("import sys, time; from core.locks import run_lock\n"
            "with run_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(120)")
    cli = subprocess.Popen([sys.executable, "-c", code, str(run)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:  # a `tunedesk train` in a terminal holds the run's lock while it trains
        assert cli.stdout.readline().strip() == "locked"
        action(train_menu(page), DELETE).trigger()
        qtbot.waitUntil(lambda: "being trained right now, so it cannot be deleted" in banner_texts(window),
                        timeout=5_000)
        assert "Stop the training on the Train page first" in banner_texts(window)
        action(train_menu(page), RENAME).trigger()
        assert not asked  # refused before asking anything
        assert (run / "adapter").is_dir() and run_state(run).name == ""
    finally:
        cli.kill()
        cli.wait(30)


def test_your_own_questions_are_written_checked_for_an_answer_and_asked_of_the_next_run(window, qtbot, tiny_run):
    """The full report's "Your own questions…": a row without a right answer is named in the dialog, which stays
    open with everything typed; saved, the questions are kept in the run and its project, and the report says a
    check will ask them; another run of the project says its check will ask them too, and offers them to edit."""
    from core.evaluation.own_questions import OwnQuestion, read_own_questions

    project = projects.create_project("Own")
    window.ctx.open_project(project)
    run = add_run(project, tiny_run)
    dialog = ReportDialog(window.ctx, run, "", window)
    view = dialog.view
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        dialog.show()
    assert view.own_button.isVisible() and "will be asked" not in view.detail.text()

    view.own_button.click()
    editor = view.own_dialog
    assert editor is not None and editor.isVisible() and editor.table.rowCount() == 3  # empty rows to type in
    editor.table.item(0, 0).setText("Who founded Harbor Lane Bakery?")
    editor.table.item(0, 1).setText("Marta | Okonkwo")
    editor.table.item(1, 0).setText("When does the bakery open?")
    editor.save()
    assert editor.isVisible() and editor.error.isVisible()
    assert "row 2 (“When does the bakery open?”) has no right answer" in editor.error.text()
    assert editor.table.item(0, 0).text() == "Who founded Harbor Lane Bakery?"  # nothing typed is lost
    editor.table.item(1, 1).setText("7 am")
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        editor.save()
    assert read_own_questions(run) == [OwnQuestion("Who founded Harbor Lane Bakery?", ("Marta", "Okonkwo")),
                                       OwnQuestion("When does the bakery open?", ("7 am",))]
    assert "Your 2 own questions will be asked when you check." in view.detail.text()
    assert read_own_questions(project.root) == read_own_questions(run)  # the project's too, for its next run
    window.show_page("home")
    window.show_page("documents")  # its count follows, when the page comes back
    qtbot.waitUntil(lambda: window.documents_page.own_button.text() == "Your own questions (2)…", timeout=30_000)

    second = copy_run(project, tiny_run, "run-20240102-000000")
    other = ReportDialog(window.ctx, second, "", window)
    with qtbot.waitSignal(other.view.loaded, timeout=30_000):
        other.show()
    assert "Your 2 own questions will be asked when you check." in other.view.detail.text()  # the project's
    other.view.own_button.click()
    offered = other.view.own_dialog
    assert [offered.table.item(r, 0).text() for r in range(2)] == ["Who founded Harbor Lane Bakery?",
                                                                  "When does the bakery open?"]
    assert offered.table.item(0, 1).text() == "Marta | Okonkwo"
    assert any("These come from your project" in label.text() for label in offered.findChildren(QLabel))
    offered.reject()
    assert read_own_questions(second) == []  # cancelled: nothing written; its check takes the project's then
