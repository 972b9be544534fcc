"""Chat and Compare with the real model: streamed answers, stop, copy, history per project, answers with
sources and the original model's general answers, base vs tuned."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from gui_support import (CHAT_TIMEOUT_MS, add_run, home, make_window, tiny_run,  # noqa: F401 - fixtures
                         window)

from core import projects
from gui.pages.chat import QUOTED_NOTE, RECALLED_NOTE

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
    chat.use_documents.setChecked(False)  # decoded token by token (with sources, a quoted statement comes whole)
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
    user, reply = saved[-1]["messages"]
    assert user == {"role": "user", "content": QUESTION}
    assert reply["role"] == "assistant" and reply["content"] == answer and reply["answered_by"] == "tuned"

    chat.new_button.click()
    assert chat.transcript.bubbles == [] and chat.current is None
    window.ctx.open_project(projects.open_project("Chat"))  # reopening the project brings the conversation back
    assert chat.history_list.count() == 1 and [b.text() for b in chat.transcript.bubbles] == [QUESTION, answer]


def ask(chat, qtbot, question: str) -> str:
    chat.input.setPlainText(question)
    with qtbot.waitSignal(chat.reply_finished, timeout=CHAT_TIMEOUT_MS) as finished:
        chat.send_button.click()
    return finished.args[0]


def test_answer_lists_its_sources_and_the_switch_turns_them_off(window, qtbot, tiny_run):
    project, run = open_project_with_run(window, tiny_run)
    chat = window.chat_page
    chat.sampling.max_new_tokens.setValue(16)
    assert chat.use_documents.isChecked() and chat.use_documents.isEnabled()  # on by default for a trained run
    assert "cite" in chat.use_documents.toolTip()

    first = ask(chat, qtbot, QUESTION)
    bubble = chat.transcript.bubbles[-1]
    assert first and bubble.sources.isVisible() and bubble.sources.items
    assert bubble.sources.titles()[0].startswith("harbor_lane_bakery_handbook.md · passage ")
    item = bubble.sources.items[0]
    assert "Harbor Lane" in item.toolTip() and item.snippet.text()  # the whole passage on hover, a snippet shown
    assert "Marta Okonkwo" in first and "Marta Okonkwo" in item.toolTip()  # the statement source 1 holds, quoted
    assert bubble.note_label.isVisible() and bubble.note_label.text() == QUOTED_NOTE
    assert not bubble.is_stopped()  # an answer that ran to its end is not marked

    # A click on a source opens its whole passage, not only the one-line snippet.
    qtbot.mouseClick(item, Qt.MouseButton.LeftButton)
    dialog = bubble.sources.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.text.toPlainText() == item.text.strip() and len(item.text) > len(item.snippet.text())
    assert item.where in dialog.windowTitle()
    dialog.close()
    qtbot.waitUntil(lambda: bubble.sources.dialog is None)

    chat.use_documents.setChecked(False)
    second = ask(chat, qtbot, "When did Harbor Lane Bakery open?")
    bubble = chat.transcript.bubbles[-1]
    assert second and bubble.sources.items == [] and not bubble.sources.isVisible()
    assert not bubble.note_label.isVisible()  # still the trained model's answer, only closed-book

    saved = json.loads(project.chat_history.read_text())["conversations"][-1]["messages"]
    assert [m["role"] for m in saved] == ["user", "assistant"] * 2  # one conversation: the follow-up kept history
    assert saved[1]["sources"][0]["document"] == "harbor_lane_bakery_handbook.md"
    assert isinstance(saved[1]["sources"][0]["passage"], int) and saved[1]["sources"][0]["text"]
    assert saved[1]["quoted"] is True and "quoted" not in saved[3]
    assert "sources" not in saved[3] and saved[3]["answered_by"] == "tuned"

    # Reopening the project (a fresh read of chat_history.json) brings the sources back under the first answer.
    chat.new_button.click()
    window.ctx.open_project(projects.open_project("Chat"))
    assert not chat.use_documents.isChecked()  # remembered for this project
    bubbles = [b for b in chat.transcript.bubbles if b.role == "assistant"]
    assert [b.text() for b in bubbles] == [first, second]
    shown = [f"{s['document']} · passage {s['passage'] + 1}" for s in saved[1]["sources"]]
    assert bubbles[0].sources.titles() == shown
    assert bubbles[0].note_label.text() == QUOTED_NOTE and not bubbles[1].note_label.isVisible()
    assert bubbles[1].sources.items == []


def test_general_question_is_answered_by_the_original_model_without_sources(window, qtbot, tiny_run):
    _project, run = open_project_with_run(window, tiny_run)
    chat = window.chat_page
    chat.sampling.max_new_tokens.setValue(12)
    answer = ask(chat, qtbot, "What is the capital of France?")
    bubble = chat.transcript.bubbles[-1]
    assert answer and bubble.sources.items == [] and not bubble.sources.isVisible()
    assert bubble.note_label.isVisible() and "original model" in bubble.note_label.text()
    assert bubble.who_label.text() == "Original model"  # the header agrees with the note (issue #21 item 3)

    # An old history (written before sources existed) still opens: no sources, no note, no error; an answer saved
    # when the chat recalled before quoting keeps the note it had then.
    old = {"id": "old", "run": run.name, "model_label": "Trained", "title": "Old",
           "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
                        {"role": "user", "content": "Who founded it?"},
                        {"role": "assistant", "content": "Marta Okonkwo.", "answered_by": "tuned", "recalled": True}]}
    projects.save_chat_history(window.ctx.project, [old])
    window.ctx.open_project(projects.open_project("Chat"))
    assert [b.text() for b in chat.transcript.bubbles] == ["Hi", "Hello.", "Who founded it?", "Marta Okonkwo."]
    assert chat.transcript.bubbles[1].sources.items == [] and not chat.transcript.bubbles[1].note_label.isVisible()
    assert chat.transcript.bubbles[3].note_label.text() == RECALLED_NOTE


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
    assert not chat.use_documents.isEnabled()  # the original model has no documents to use
    assert partial and len(pieces) < 60  # stopped within a token or two of the request, far short of 400
    bubble = chat.transcript.bubbles[-1]
    assert bubble.is_stopped() and bubble.stopped_label.isVisible() and "Stopped" in bubble.stopped_label.text()
    saved = json.loads(project.chat_history.read_text())["conversations"][-1]
    assert saved["run"] == "" and saved["messages"][-1] == {"role": "assistant", "content": partial, "stopped": True}
    window.ctx.open_project(projects.open_project(project.name))  # the mark comes back with the conversation
    assert chat.transcript.bubbles[-1].is_stopped() and not chat.transcript.bubbles[0].is_stopped()


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


def test_compare_says_which_side_read_passages_and_follows_the_switch(window, qtbot, tiny_run):
    from gui.pages.compare import BASE_BACKING, OFF_BACKING, QUOTED_BACKING, passages_backing

    _project, _run = open_project_with_run(window, tiny_run)
    chat = window.chat_page
    chat.tabs.setCurrentIndex(1)
    compare = chat.compare
    chat.sampling.max_new_tokens.setValue(12)
    assert compare.use_documents.isChecked() and chat.use_documents.isChecked()
    compare.prompt.setText(QUESTION)
    with qtbot.waitSignal(compare.finished, timeout=CHAT_TIMEOUT_MS):
        compare.run_button.click()
    backing = compare.backing()
    assert backing["base"] == BASE_BACKING and not compare.base_pane.sources.isVisible()
    tuned = compare.tuned_pane
    assert tuned.sources.isVisible() and tuned.sources.items  # the passages the trained side read, listed
    assert tuned.sources.titles()[0].startswith("harbor_lane_bakery_handbook.md · passage ")
    # the run's statement that a found passage holds, quoted (tests/test_grounding.py), or the passages read
    assert backing["tuned"] in (QUOTED_BACKING, passages_backing(len(tuned.sources.items)))
    qtbot.mouseClick(tuned.sources.items[0], Qt.MouseButton.LeftButton)  # opens like Chat's sources
    assert tuned.sources.dialog is not None and tuned.sources.dialog.isVisible()
    tuned.sources.dialog.close()

    compare.use_documents.setChecked(False)  # the same switch as Chat's: turning it off here turns off both
    assert not chat.use_documents.isChecked()
    with qtbot.waitSignal(compare.finished, timeout=CHAT_TIMEOUT_MS):
        compare.run_button.click()
    assert compare.backing() == {"base": BASE_BACKING, "tuned": OFF_BACKING}
    assert not tuned.sources.isVisible() and tuned.sources.items == []
