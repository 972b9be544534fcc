"""Resume, as the window offers it: the start-up banner and the Train page's button agree with core.runs.

Both run folders are real: one failed out of memory in the real training loop
(in this process; the allocator's failure injected at step 3), one is locked
by a real second process, as a CLI training it would lock it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT
from gui_support import add_run, banner_texts, home, make_window, tiny_run  # noqa: F401 - fixtures

from core import projects
from core.errors import OutOfMemory
from core.events import StepMetrics
from core.training.loop import train_run

HOLD_LOCK = ("import sys, time; sys.path.insert(0, sys.argv[1]); from core.locks import run_lock\n"
             "with run_lock(sys.argv[2]):\n    print('locked', flush=True); time.sleep(300)")


def _offers(window) -> list[str]:
    """The messages of start-up banners that carry a "Resume training" button."""
    return [b.note.message for b in window.notifications.banners
            if any(label == "Resume training" for label, _ in b.note.actions)]


def _settled(window, qtbot) -> None:
    """Banners are delivered through a queued signal: once a note posted now is shown, every earlier one is."""
    window.ctx.notifier.info("settled")
    qtbot.waitUntil(lambda: "settled" in banner_texts(window))


def test_out_of_memory_failure_is_offered_for_resume_and_the_button_agrees(make_window, qtbot, tiny_run):
    project = projects.create_project("Big batch")
    run = add_run(project, tiny_run, status="stopped")  # checkpoints step-1 and step-2
    meta = json.loads((run / "run.json").read_text())
    meta["config"]["max_steps"] = 4
    (run / "run.json").write_text(json.dumps(meta))

    def allocator_fails_at_step_3(event):
        if isinstance(event, StepMetrics):
            raise MemoryError("DefaultCPUAllocator: can't allocate memory")

    with pytest.raises(OutOfMemory) as err:
        train_run(run, on_event=allocator_fails_at_step_3, resume=True)
    assert err.value.message == "Out of memory at step 3. The last checkpoint (step 2) is kept."
    assert "continue with --resume" in err.value.hint  # what the failure banner tells the user to do

    window = make_window()
    _settled(window, qtbot)
    assert _offers(window) == ["Training of “Big batch” failed (out of memory) at step 2 of 4."]
    banner = next(b for b in window.notifications.banners if b.note.message == _offers(window)[0])
    assert banner.note.hint == "It can continue from step 2 of 4."

    window.ctx.open_project(projects.open_project("Big batch"))
    window.show_page("train")
    page = window.train_page
    assert page.run_combo.currentData() == str(run)
    assert page.resume_button.isEnabled()
    assert page.status_label.text() == ("Failed (out of memory): can continue from step 2 of 4. "
                                        "Press Resume to continue.")
    assert page.run_combo.currentText().endswith("Failed · step 2/4")


def test_a_run_another_process_trains_is_not_offered_and_cannot_be_resumed(make_window, qtbot, tiny_run):
    project = projects.create_project("Elsewhere")
    run = add_run(project, tiny_run, status="training")  # what run.json says while a trainer works on it
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(ROOT), str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        window = make_window()
        _settled(window, qtbot)
        assert _offers(window) == []

        window.ctx.open_project(projects.open_project("Elsewhere"))
        window.show_page("train")
        page = window.train_page
        assert page.run_combo.currentData() == str(run)
        assert not page.resume_button.isEnabled()
        assert page.status_label.text() == (f"Being trained elsewhere, by another TuneDesk process (pid {child.pid}). "
                                            "Wait for it to finish, or stop it there.")
        assert "Being trained elsewhere" in page.run_combo.currentText()
    finally:
        child.kill()
        child.wait()

    # The same folder once that process is gone: killed mid-training, so now it is offered and resumable —
    # the refusals above were the live lock's doing, not something else about the folder.
    page.refresh_runs()
    assert page.resume_button.isEnabled()
    assert page.status_label.text() == "Interrupted: can continue from step 2 of 2. Press Resume to continue."
    window.offer_resume()
    qtbot.waitUntil(lambda: _offers(window) == ["Training of “Elsewhere” was interrupted at step 2 of 2."])
