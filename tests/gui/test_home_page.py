"""Home: the first-run welcome, projects, remembered window and project, themes."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QPalette

from gui_support import home, make_window, window  # noqa: F401 - fixtures

from core import projects
from gui import dialogs


def test_first_run_welcome_creates_the_sample_project_with_the_demo_model(window, qtbot):
    page = window.home_page
    assert window.current_page() == "home"
    assert page.welcome.isVisible() and not page.lists.isVisible()
    assert not window.nav_buttons["train"].isEnabled()  # nothing to train without a project

    qtbot.mouseClick(page.welcome.try_sample, qtbot_left())
    project = window.ctx.project
    assert project is not None and project.model == "demo"
    assert window.current_page() == "documents"
    docs = window.documents_page
    qtbot.waitUntil(lambda: docs.result is not None and len(docs.result.read) == 3, timeout=180_000)
    assert "3 read, 0 skipped" in docs.summary.text()
    assert window.nav_buttons["train"].isEnabled()
    assert window.windowTitle().startswith("Sample project")
    # its own questions come with it, in a person's words, each answerable from the sample documents
    from core.evaluation.own_questions import read_own_questions

    questions = read_own_questions(project.root)
    qtbot.waitUntil(lambda: docs.own_button.text() == f"Your own questions ({len(questions)})…", timeout=30_000)
    text = " ".join(c.text for c in docs.result.chunks)
    assert len(questions) >= 5 and all(any(a in text for a in q.answers) for q in questions)


def test_create_rename_delete_projects(window, qtbot, monkeypatch):
    monkeypatch.setattr(dialogs, "ask_new_project", lambda *a, **k: ("Recipes", "chat"))
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "Family recipes")
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    page = window.home_page

    page.new_button.click()
    assert window.ctx.project.name == "Recipes" and window.current_page() == "documents"
    window.show_page("home")
    assert page.lists.isVisible() and page.selected_name() == "Recipes"
    assert "0 documents · 0 runs · demo model" in page.project_list.currentItem().text()

    page.rename_button.click()
    assert [p.name for p in projects.list_projects()] == ["Family recipes"]
    assert window.ctx.project.name == "Family recipes"  # the open project follows its new name
    assert "Family recipes" in window.project_badge.text()

    # Chat has a model of one of its runs loaded (the cached value is not what is tested here);
    # a model of another project, or the plain demo model, stays.
    models = window.ctx.chat_models
    inside = window.ctx.project.runs_dir / "run-1"
    for key in ((str(inside), False, 0.0), (str(inside.parent.parent) + "-other/runs/run-1", False, 0.0),
                ("model:demo", True, 0.0)):
        models._remember(models._models, key, object())
    page.delete_button.click()
    assert projects.list_projects() == []
    assert window.ctx.project is None and page.welcome.isVisible()
    assert [k[0] for k in models._models] == [str(inside.parent.parent) + "-other/runs/run-1", "model:demo"]


def test_a_bad_name_is_explained_not_fatal(window, qtbot, monkeypatch):
    monkeypatch.setattr(dialogs, "ask_new_project", lambda *a, **k: ("a/b", "chat"))
    window.home_page.new_button.click()
    assert window.ctx.project is None
    qtbot.waitUntil(lambda: any("cannot contain /" in text and "Use letters" in text
                                for text in window.notifications.texts()))


def test_last_project_and_window_size_are_remembered(make_window):
    first = make_window()
    project = projects.create_project("Remembered")
    first.ctx.open_project(project)
    first.resize(QSize(1000, 700))
    first.close()

    second = make_window()
    assert second.ctx.project is not None and second.ctx.project.name == "Remembered"
    assert second.current_page() == "documents"
    # Not the 1320 x 860 a first start gets. The offscreen screen is 800 wide and the window's minimum 960
    # (issue #21): Qt fits a restored width to the screen, then the minimum holds; the height is kept as saved.
    from gui.main_window import MINIMUM_SIZE

    screen = second.screen().availableGeometry().width()
    assert (second.width(), second.height()) == (max(MINIMUM_SIZE.width(), min(1000, screen)), 700)


def test_dark_theme_follows_the_override_and_back(window, monkeypatch):
    light = window.palette().color(QPalette.ColorRole.Window).lightness()
    monkeypatch.setenv("TUNEDESK_THEME", "dark")
    window.themes.apply()
    dark = window.palette().color(QPalette.ColorRole.Window).lightness()
    assert window.themes.theme.name == "dark" and dark < 60 < light
    monkeypatch.setenv("TUNEDESK_THEME", "light")
    window.themes.apply()
    assert window.themes.theme.name == "light"


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
