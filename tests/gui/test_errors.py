"""Every failure reaches the user through the one funnel, in words, with what to do."""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer

from gui_support import (TRAINING_TIMEOUT_MS, add_run, banner_texts, home, make_window,  # noqa: F401 - fixtures
                         tiny_run, window)

from core import projects
from core.errors import Cancelled, ModelError
from gui.pages.train import IDLE
from gui.wording import for_app

MISSING_MODEL = "/nonexistent/tunedesk-model-folder"


def core_error_for_missing_model() -> ModelError:
    """What core itself says about the missing model: the GUI must show exactly that, hint included."""
    from core.models import resolve_model

    try:
        resolve_model(MISSING_MODEL)
    except ModelError as exc:
        assert exc.message.startswith("Model not found") and exc.hint
        return exc
    raise AssertionError("resolve_model accepted a folder that does not exist")


def test_interrupted_run_is_offered_for_resume_and_a_failing_worker_is_shown(make_window, qtbot, tiny_run):
    """A run left 'training' by a killed app is offered on start; its worker fails (model gone) with a message."""
    project = projects.create_project("Interrupted")
    add_run(project, tiny_run, status="training", model=MISSING_MODEL)
    window = make_window()
    qtbot.waitUntil(lambda: any("was interrupted" in t for t in window.notifications.texts()))
    banner = next(b for b in window.notifications.banners if "was interrupted" in b.note.message)
    label, _callback = banner.note.actions[0]
    assert label == "Resume training"

    resume_button = next(b for b in banner.findChildren(type(window.train_page.resume_button)) if b.text() == label)
    resume_button.click()
    page = window.train_page
    assert window.current_page() == "train" and page.state != IDLE
    qtbot.waitUntil(lambda: page.state == IDLE, timeout=TRAINING_TIMEOUT_MS)
    expected = core_error_for_missing_model()
    shown = f"{for_app(expected.message)}\n{for_app(expected.hint)}"  # core's words, in the app's terms (no flags)
    qtbot.waitUntil(lambda: shown in banner_texts(window))  # message and hint
    assert "Training failed" in page.status_label.text()
    assert f"Failed: Model not found: {MISSING_MODEL}" in page.log.toPlainText()


def test_a_model_path_that_does_not_exist(window, qtbot):
    window.ctx.open_project(projects.create_project("Models"))
    window.show_page("model")
    page = window.model_page
    qtbot.waitUntil(lambda: page._task is None, timeout=180_000)  # the demo model's details first
    page.folder_edit.setText(MISSING_MODEL)
    page.folder_radio.setChecked(True)
    page.use_button.click()
    expected = core_error_for_missing_model()
    shown = f"{for_app(expected.message)}\n{for_app(expected.hint)}"
    qtbot.waitUntil(lambda: shown in banner_texts(window), timeout=60_000)
    assert "Could not use this model" in page.fields["fits"].text()
    assert projects.open_project("Models").model == "demo"  # nothing was changed


def test_invalid_settings_are_listed_together_and_nothing_starts(window, qtbot):
    project = projects.create_project("Settings")
    (project.documents_dir / "note.txt").write_text("Some text to learn.")
    window.ctx.open_project(project)
    page = window.train_page
    page.form.set_values({"learning_rate": 5.0, "batch_size": 0})
    page.form.widgets["warmup_ratio"].setText("lots")
    page.start_button.click()
    qtbot.waitUntil(lambda: "Warm-up share must be a number" in banner_texts(window))
    page.form.set_values({"warmup_ratio": 0.05})
    page.start_button.click()
    qtbot.waitUntil(lambda: "learning_rate must be in (0, 0.1]" in banner_texts(window))
    assert "batch_size must be ≥ 1" in banner_texts(window)
    assert page.state == IDLE and projects.list_runs(project) == []


def test_uncaught_exceptions_in_threads_and_slots_reach_the_funnel(window, qtbot):
    def fail_in_thread() -> None:
        raise ModelError("The weights file is truncated.", "Download the model again.")

    thread = threading.Thread(target=fail_in_thread)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: "The weights file is truncated.\nDownload the model again." in banner_texts(window))

    def fail_in_slot() -> None:
        raise ValueError("boom in a slot")

    QTimer.singleShot(0, fail_in_slot)
    qtbot.waitUntil(lambda: "Something went wrong: ValueError: boom in a slot" in banner_texts(window))
    assert "This is a bug in TuneDesk" in banner_texts(window)

    before = len(window.ctx.notifier.history)
    cancelled = threading.Thread(target=lambda: (_ for _ in ()).throw(Cancelled()))
    cancelled.start()
    cancelled.join()
    qtbot.wait(200)
    assert len(window.ctx.notifier.history) == before  # stopping is never shown as a failure


def test_hints_name_the_apps_buttons_and_settings_not_flags(window, qtbot):
    """Issue #21 item 4: core writes its hints once, in terminal words; the app shows them in its own."""
    from core.training.config import TrainConfig
    from core.training.memory import oom_error

    error = oom_error(TrainConfig(preset="standard", batch_size=4, max_seq_len=640), "at step 12", 10)
    assert "--batch-size 2" in error.hint and "--resume" in error.hint  # what the CLI prints, unchanged
    window.ctx.notifier.report_exception(error)
    window.ctx.notifier.report_exception(ModelError("This model is gated.", "Save a token: tunedesk models login"))
    qtbot.waitUntil(lambda: "gated" in banner_texts(window), timeout=5_000)
    shown = banner_texts(window)
    assert "--" not in shown and "tunedesk " not in shown, shown
    assert "press Resume" in shown and "“Examples at once”: 2" in shown and "Hub token… on the Model page" in shown

    window.show_page("train")  # the Train page's log speaks the same way (a worker's stop message)
    window.train_page.log_line("Stopped at step 3 of 8. Continue with --resume.")
    assert window.train_page.log.toPlainText().endswith("Stopped at step 3 of 8. Press Resume.")
