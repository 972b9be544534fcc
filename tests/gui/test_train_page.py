"""Train: a real short run in the worker subprocess — live curves, stop with a checkpoint, resume to the end."""

from __future__ import annotations

import json

from conftest import SAMPLE_DOCS
from gui_support import TRAINING_TIMEOUT_MS, home, make_window, only_known, window  # noqa: F401 - fixtures

from core import projects
from core.events import Progress, StepMetrics
from core.runs import run_state
from core.training.config import TrainConfig
from gui.pages.train import IDLE, PREPARING, TRAINING

STEPS = 4


def test_start_see_curves_stop_and_resume(window, qtbot):
    project = projects.create_project("Train")
    projects.add_documents(project, [SAMPLE_DOCS])
    window.ctx.open_project(project)
    window.show_page("train")
    page = window.train_page
    assert page.start_button.isEnabled() and not page.stop_button.isEnabled() and not page.resume_button.isEnabled()

    page.preset_buttons["quick"].click()
    page.advanced_toggle.setChecked(True)
    assert page.form.isVisible()
    assert "Peak learning rate" in page.form.widgets["learning_rate"].toolTip()  # the field's docstring
    # small and quick: every step is real, but short
    page.form.set_values({"max_steps": STEPS, "batch_size": 2, "max_seq_len": 128, "eval_every": 0, "save_every": 1,
                          **only_known(replay=False, report=False)})
    assert page.config().preset == "custom" and page.config().max_steps == STEPS

    steps: list[int] = []
    counted: list[tuple[int, int]] = []  # (bar value, bar maximum) after each counted preparation event
    home_said: dict[str, str] = {}  # what Home's runs table said while preparing and while training

    def home_status() -> str:
        table = window.home_page.runs_table
        return table.item(0, 1).text() if table.rowCount() else ""

    def on_event(event):  # connected after the page's own handler: sees what the page made of each event
        if isinstance(event, Progress) and page.state == PREPARING:
            home_said.setdefault("preparing", home_status())
            if event.total:
                counted.append((page.progress.value(), page.progress.maximum()))
        if isinstance(event, StepMetrics):
            home_said.setdefault("training", home_status())
            steps.append(event.step)
            if len(steps) == 1:
                page.stop_button.click()  # stop as soon as the first step is seen

    page.process.event.connect(on_event)
    page.start_button.click()
    assert page.state == PREPARING and page.stop_button.isEnabled() and not page.start_button.isEnabled()
    qtbot.waitUntil(lambda: page.state == IDLE, timeout=TRAINING_TIMEOUT_MS)
    # Issue #21: preparing is counted, not an endless busy bar, and the lists follow the run's one state
    assert counted and all(0 <= value <= maximum and maximum > 0 for value, maximum in counted), counted
    assert home_said["preparing"] == "Preparing" and home_said["training"].startswith("Training ·"), home_said
    assert home_status().startswith("Paused")

    run = projects.list_runs(project)[0]
    assert run.status == "stopped" and run.has_checkpoint and run.resumable, run
    stopped_at = run.step
    assert 1 <= stopped_at < STEPS
    qtbot.waitUntil(lambda: page.plots.points("loss") == stopped_at, timeout=5_000)  # drawn by the throttled timer
    assert page.plots.redraws >= 1
    assert "Stopped" in page.status_label.text()
    assert page.resume_button.isEnabled() and page.run_combo.currentData() == str(run.path)
    assert "Paused" in page.run_combo.currentText()
    # one main action: Resume; Start says it begins another run (issue #21: "both Start and Resume enabled")
    assert page.resume_button.property("primary") and not page.start_button.property("primary")
    assert page.start_button.text() == "Start a new run"

    page.resume_button.click()
    assert page.state != IDLE
    qtbot.waitUntil(lambda: page.state == IDLE, timeout=TRAINING_TIMEOUT_MS)
    page.process.event.disconnect(on_event)

    run = run_state(run.path)
    assert run.status == "finished" and run.step == STEPS and run.has_adapter
    assert home_status().startswith("Trained")
    started = window.home_page.runs_table.item(0, 3).text()
    assert started == run.created.replace("T", " ")[:16]  # when Start was pressed (run.json 'created')
    assert steps[-1] == STEPS and steps[stopped_at] == stopped_at + 1  # resumed after the checkpoint, no step lost
    qtbot.waitUntil(lambda: page.plots.points("loss") == STEPS, timeout=5_000)  # one curve, no fold-back
    assert page.plots.points("val_loss") >= 1 and page.plots.points("lr") == STEPS
    assert page.stats["step"].value.text() == f"{STEPS} / {STEPS}"
    assert page.progress.value() == page.progress.maximum() == STEPS
    log = page.log.toPlainText()
    assert "Resuming" in log and "Checkpoint saved" in log and "Finished" in log
    # posted with the page's last update, delivered on the main thread's next turn (Notifier queues it)
    try:
        qtbot.waitUntil(lambda: any("Your model is trained" in t for t in window.notifications.texts()), timeout=5_000)
    except qtbot.TimeoutError:
        raise AssertionError(f"no 'trained' note: {window.notifications.texts()}, page says {page.status_label.text()!r}")
    saved = json.loads((run.path / "run.json").read_text())["config"]
    assert TrainConfig.from_dict(saved).max_steps == STEPS and saved["batch_size"] == 2


def test_overfitting_warning_and_throttled_redraws(window, qtbot):
    """Events as the worker sends them: a burst of steps is drawn a few times, not once per step."""
    from core.events import EvalMetrics

    window.ctx.open_project(projects.create_project("Curves"))
    window.show_page("train")
    page = window.train_page
    page.plots.clear()
    page.state = TRAINING  # as after Start: an idle page ignores the shared worker's events (a classify run's)
    before = page.plots.redraws
    for step in range(1, 201):
        page.on_event(StepMetrics(step, 200, step / 50, 2.0 - step / 200, 1e-3, 900.0, step * 0.5, (200 - step) * 0.5))
    qtbot.wait(600)
    assert page.plots.points("loss") == 200
    assert 1 <= page.plots.redraws - before <= 3  # 200 steps, a handful of repaints
    assert page.stats["step"].value.text() == "200 / 200"

    assert not page.overfit_label.isVisible()
    message = ("The model is starting to memorise the training text instead of generalising (validation loss is "
               "rising while training loss falls). Consider stopping, or use fewer epochs.")
    page.on_event(EvalMetrics(200, 2.5, 0.4, overfitting=True, message=message))
    assert page.overfit_label.isVisible() and message in page.overfit_label.text()


def test_trained_banner_goes_once_chat_is_shown_by_the_sidebar(window, qtbot):
    from gui_support import banner_texts

    window.ctx.open_project(projects.create_project("Banner"))
    window.show_page("train")
    window.train_page.state = TRAINING  # as after Start: the page that started the run hears its end
    window.train_page._training_ended("finished")  # what the worker's end of a finished run calls
    qtbot.waitUntil(lambda: "Your model is trained" in banner_texts(window), timeout=5_000)
    window.nav_buttons["documents"].click()
    assert "Your model is trained" in banner_texts(window)  # it leads to Chat, not here: it stays
    window.nav_buttons["chat"].click()
    assert window.current_page() == "chat"
    assert "Your model is trained" not in banner_texts(window)
