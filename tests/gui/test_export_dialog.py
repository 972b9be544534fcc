"""Export from the Train page: the dialog runs a real export of a real run off the main thread and shows the
checks' verdict with its figures."""

from __future__ import annotations

from gui_support import home, make_window, tiny_run, window, add_run  # noqa: F401 - fixtures

from core import projects

EXPORT_TIMEOUT_MS = 400_000


def test_export_adapter_from_the_train_page(window, qtbot, tiny_run, tmp_path):
    project = projects.create_project("Export")
    run = add_run(project, tiny_run)
    window.ctx.open_project(project)
    window.show_page("train")
    page = window.train_page
    assert page.run_combo.currentData() == str(run) and page.export_button.isEnabled()

    page.export_button.click()
    dialog = page.export_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    assert dialog.quant_combo.isEnabled()  # Ollama is the first choice, with its weights choice
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("adapter"))
    assert not dialog.quant_combo.isEnabled()
    assert dialog.folder_edit.text().endswith(f"{run.name}-adapter")
    out = tmp_path / "exported"
    dialog.folder_edit.setText(str(out))

    dialog.export_button.click()
    assert dialog.busy() and not dialog.export_button.isEnabled() and dialog.stop_button.isEnabled()
    assert not dialog.close_button.isEnabled()
    worker = dialog.task
    assert worker is not None and worker.isRunning()  # the export is a Task on its own thread
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=EXPORT_TIMEOUT_MS)

    assert dialog.result is not None and dialog.result.passed, dialog.log.toPlainText()
    text = dialog.verdict.text()
    assert text.startswith("Export checked: every check passed.")
    assert "✓ adapter loaded with peft onto the base model" in text
    assert "4/4 greedy answers identical to the in-app tuned model" in text
    assert (out / "adapter_model.safetensors").is_file() and (out / "adapter_config.json").is_file()
    assert list((run / "exports").glob("*-adapter.json"))  # the record beside the run
    assert dialog.export_button.isEnabled() and dialog.close_button.isEnabled() and not dialog.command.isVisible()
    assert "Exporting" in dialog.log.toPlainText()
