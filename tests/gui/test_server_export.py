"""Export run for a server (issue #19): from a run's menu, the archive `tunedesk pack` makes, written on a worker."""

from __future__ import annotations

import tarfile

from gui_support import add_run, banner_texts, home, make_window, tiny_run, window  # noqa: F401 - fixtures

from core import projects
from gui import dialogs
from gui.run_actions import RunActions
from gui.server_export import SERVER_EXPORT


def _server_action(window, run):
    menu = RunActions(window.ctx, window).menu(run)
    found = [a for a in menu.actions() if a.text() == SERVER_EXPORT]
    assert found, [a.text() for a in menu.actions()]
    return found[0]


def test_a_stopped_run_is_packed_with_its_launch_commands(window, qtbot, monkeypatch, tiny_run, tmp_path):
    project = projects.create_project("Server")
    window.ctx.open_project(project)
    run = add_run(project, tiny_run, status="stopped")
    asked = []
    monkeypatch.setattr(dialogs, "choose_save_file",
                        lambda _parent, title, suggested, filters: asked.append(suggested) or str(tmp_path / "job"))
    _server_action(window, run).trigger()
    archive = tmp_path / "job.tar.gz"  # the suffix is added when the name lacks it
    qtbot.waitUntil(lambda: "Packed for a server" in banner_texts(window), timeout=60_000)
    assert asked and asked[0].endswith(f"{run.name}.tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        readme = tar.extractfile(f"{run.name}/SERVER.md").read().decode()
    assert f"{run.name}/run.json" in names and f"{run.name}/checkpoints/step-2/adapter.safetensors" in names
    assert f"torchrun --nproc_per_node=N --no-python -- tunedesk train --run {run.name}" in readme


def test_a_finished_run_is_not_packed_and_says_what_to_do_instead(window, qtbot, monkeypatch, tiny_run):
    project = projects.create_project("Finished")
    window.ctx.open_project(project)
    run = add_run(project, tiny_run)  # finished
    monkeypatch.setattr(dialogs, "choose_save_file", lambda *a, **k: (_ for _ in ()).throw(AssertionError("asked")))
    _server_action(window, run).trigger()
    qtbot.waitUntil(lambda: "has finished training" in banner_texts(window), timeout=10_000)
    assert "Export its model instead" in banner_texts(window)
