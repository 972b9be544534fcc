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
    qtbot.waitUntil(dialog.outlook.isVisible, timeout=10_000)  # read on a worker
    assert dialog.outlook.text().startswith("This run has no “did it learn?” check yet")
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


def test_the_export_window_says_how_the_model_answers_everyday_questions_on_its_own(window, qtbot, tiny_run):
    """From the run's report: the tuned weights alone (what an export has) against the original model."""
    import json

    project = projects.create_project("Outlook")
    run = add_run(project, tiny_run)
    general = [{"q": f"Q{i}", "expected": ["x"], "doc": "", "kind": "general", "base": "x", "base_correct": True,
                "tuned": "x", "tuned_correct": True, "answered_by": "original"} for i in range(4)]
    (run / "report.json").write_text(json.dumps({
        "facts": {"questions": 0}, "answers": general,
        "general": {"questions": 4, "base": 1.0, "tuned": 1.0, "tuned_weights_alone": 0.75}}))
    window.ctx.open_project(project)
    window.show_page("train")
    window.train_page.export_button.click()
    dialog = window.train_page.export_dialog
    qtbot.waitUntil(dialog.outlook.isVisible, timeout=10_000)
    text = dialog.outlook.text()
    assert text.startswith("On its own, as an exported model answers: 3 of 4 everyday questions right "
                           "(the original model: 4 of 4).") and "train again with “Hold on to what it knew”: 1" in text, text
    dialog.reject()
