"""Chat and Compare with the real model: streamed answers, stop, copy, history per project, base vs tuned."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from gui_support import (CHAT_TIMEOUT_MS, add_run, home, make_window, tiny_run,  # noqa: F401 - fixtures
                         window)

from core import projects

QUESTION = "Who founded Harbor Lane Bakery?"


def open_project_with_run(window, tiny_run):
    project = projects.create_project("Chat")
    run = add_run(project, tiny_run)
    window.ctx.open_project(project)
    window.show_page("chat")
    return project, run


def test_streamed_answer_from_the_trained_model_kept_in_history(window, qtbot, tiny_run):
    project, run = open_project_with_run(window, tiny_run)
    chat = window.chat_page
    assert chat.model_picker.run() == run  # a trained run is offered first
    chat.sampling.max_new_tokens.setValue(24)
    pieces: list[str] = []
    chat.piece_received.connect(pieces.append)

    chat.input.setPlainText(QUESTION)
    window.activateWindow()
    chat.input.setFocus()
    with qtbot.waitSignal(chat.reply_finished, timeout=CHAT_TIMEOUT_MS) as finished:
        qtbot.keyClick(chat.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # the shortcut sends
        assert not chat.send_button.isEnabled() and chat.stop_button.isEnabled()
    answer = finished.args[0]
    assert answer and len(pieces) >= 3  # streamed piece by piece, not in one block
    assert "".join(pieces).strip() == answer == chat.last_answer().strip()
    assert chat.send_button.isEnabled() and not chat.stop_button.isEnabled()
    assert chat.input.toPlainText() == ""

    chat.transcript.bubbles[-1].copy_button.click()
    assert QGuiApplication.clipboard().text() == answer

    saved = json.loads(project.chat_history.read_text())["conversations"]
    assert saved[-1]["run"] == run.name and saved[-1]["title"] == QUESTION
    assert saved[-1]["messages"] == [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": answer}]

    chat.new_button.click()
    assert chat.transcript.bubbles == [] and chat.current is None
    window.ctx.open_project(projects.open_project("Chat"))  # reopening the project brings the conversation back
    assert chat.history_list.count() == 1 and [b.text() for b in chat.transcript.bubbles] == [QUESTION, answer]


def test_stop_keeps_the_partial_answer_and_base_model_is_selectable(window, qtbot, tiny_run):
    project, _run = open_project_with_run(window, tiny_run)
    chat = window.chat_page
    chat.model_picker.select_run(None)
    assert chat.model_picker.run() is None and "Original" in chat.model_picker.currentText()
    chat.sampling.max_new_tokens.setValue(400)
    pieces: list[str] = []

    def on_piece(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            chat.stop_button.click()

    chat.piece_received.connect(on_piece)
    chat.input.setPlainText("Tell me a long story about a lighthouse keeper.")
    with qtbot.waitSignal(chat.reply_finished, timeout=CHAT_TIMEOUT_MS) as finished:
        chat.send_button.click()
    partial = finished.args[0]
    assert partial and len(pieces) < 60  # stopped within a token or two of the request, far short of 400
    saved = json.loads(project.chat_history.read_text())["conversations"][-1]
    assert saved["run"] == "" and saved["messages"][-1] == {"role": "assistant", "content": partial}


def test_compare_base_and_tuned_side_by_side(window, qtbot, tiny_run):
    _project, run = open_project_with_run(window, tiny_run)
    chat = window.chat_page
    chat.tabs.setCurrentIndex(1)
    compare = chat.compare
    assert compare.run_picker.run() == run and compare.run_button.isEnabled()
    assert run.name in compare.tuned_pane.title.text()
    chat.sampling.max_new_tokens.setValue(24)
    compare.prompt.setText(QUESTION)
    with qtbot.waitSignal(compare.finished, timeout=CHAT_TIMEOUT_MS) as finished:
        compare.run_button.click()
        assert not compare.run_button.isEnabled()
    answers = finished.args[0]
    assert answers["base"] and answers["tuned"]
    assert compare.base_pane.text.toPlainText().strip() == answers["base"]
    assert compare.tuned_pane.text.toPlainText().strip() == answers["tuned"]
    assert compare.run_button.isEnabled()
