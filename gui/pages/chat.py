"""Chat: streaming answers from the original model or a trained run, with history kept per project.

A trained run answers with sources (issue #4): a question about the documents gets the tuned
weights with the passages it was given listed under the answer; a general question gets the
original weights, and the bubble says so. Both are saved with the conversation.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton,
                               QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget, QWidgetAction)

from core import projects
from core.events import AnswerDone, AnsweredBy, AnswerPiece, AnswerSources, Progress
from gui.chat_widgets import InsideWindowMenu, MessageBubble, ModelPicker, PieceBuffer, SamplingForm, Transcript
from gui.context import AppContext
from gui.jobs import stream_job
from gui.pages.compare import ComparePanel
from gui.theme import icon, mark_primary, set_icon
from gui.widgets import BusyLine, Page, muted

ORIGINAL_NOTE = "General question — answered by the original model's knowledge"
QUOTED_NOTE = "Quoted from your documents — source 1"
RECALLED_NOTE = "Recalled from training — source 1 says the same"
"""For answers saved before the chat quoted the documents' statements (chat_history.json's "recalled")."""
USE_DOCUMENTS_TIP = ("On: a question about your documents is answered with the passages that fit it best, "
                     "and the answer quotes and cites them; they are listed under the answer.\n"
                     "Off: the trained model answers from what it learned alone.")


class ChatPage(Page):
    piece_received = Signal(str)  # each streamed piece as it arrives from the worker thread
    reply_finished = Signal(str)  # the whole reply (also after Stop), for whoever waits on it

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Chat", "Talk to your trained model, or compare it with the original.", parent)
        self.ctx = ctx
        self.conversations: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self._task = None
        self._bubble: MessageBubble | None = None
        self._answered_by: AnsweredBy | None = None  # the reply being written: whose weights,
        self._sources: AnswerSources = AnswerSources()  # and the passages it was given
        self._stopped = False  # and whether a stop request cut it short (AnswerDone.stopped, or Stop pressed)
        self._buffer = PieceBuffer(self._flush)

        self.settings_button = QToolButton()
        self.settings_button.setText("Answer settings")
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        set_icon(self.settings_button, "settings")
        self.settings_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = InsideWindowMenu(self.settings_button)
        self.sampling = SamplingForm()
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.sampling)
        menu.addAction(action)
        self.settings_button.setMenu(menu)
        self.header_actions.addWidget(self.settings_button)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._chat_tab(), "Chat")
        self.compare = ComparePanel(ctx, self.sampling)
        # One "Use my documents" switch, shown on both tabs: Compare's trained side answers as Chat does.
        self.compare.use_documents.setToolTip(USE_DOCUMENTS_TIP + "\nThe original model never sees them.")
        self.compare.use_documents.toggled.connect(self.use_documents.setChecked)
        self.use_documents.toggled.connect(self.compare.use_documents.setChecked)
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.setTabIcon(0, icon("chat"))
        self.tabs.setTabIcon(1, icon("compare"))
        self.body.addWidget(self.tabs, 1)

        send = QShortcut(QKeySequence("Ctrl+Return"), self.input, self.send)
        send.setContext(Qt.ShortcutContext.WidgetShortcut)  # Ctrl+Return on the Train page starts training
        stop = QShortcut(QKeySequence("Escape"), self, self.stop)
        stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        ctx.project_changed.connect(self._on_project)
        ctx.runs_changed.connect(lambda: self.model_picker.refresh(ctx.project))
        self._on_project(ctx.project)

    def _chat_tab(self) -> QWidget:
        tab = QWidget()
        layout = QHBoxLayout(tab)
        layout.setContentsMargins(0, 10, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.new_button = QPushButton("New conversation")
        set_icon(self.new_button, "new_chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+Shift+N)")
        self.new_button.clicked.connect(self.new_conversation)
        QShortcut(QKeySequence("Ctrl+Shift+N"), tab, self.new_conversation).setContext(
            Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.history_list = QListWidget()
        self.history_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.history_list.currentRowChanged.connect(self._open_conversation)
        left_layout.addWidget(self.new_button)
        left_layout.addWidget(self.history_list, 1)
        split.addWidget(left)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(muted("Talk to", wrap=False))
        self.model_picker = ModelPicker()
        top.addWidget(self.model_picker)
        top.addSpacing(12)
        self.use_documents = QCheckBox("Use my documents")
        self.use_documents.setChecked(True)
        self.use_documents.setToolTip(USE_DOCUMENTS_TIP)
        self.use_documents.toggled.connect(self._remember_use_documents)
        self.model_picker.currentIndexChanged.connect(self._model_picked)
        top.addWidget(self.use_documents)
        top.addStretch(1)
        right_layout.addLayout(top)
        self.transcript = Transcript()
        right_layout.addWidget(self.transcript, 1)
        self.busy = BusyLine()
        right_layout.addWidget(self.busy)
        row = QHBoxLayout()
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Type a question… (Ctrl+Enter to send)")
        self.input.setFixedHeight(64)
        row.addWidget(self.input, 1)
        buttons = QVBoxLayout()
        self.send_button = QPushButton("Send")
        set_icon(self.send_button, "send")
        mark_primary(self.send_button)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        set_icon(self.stop_button, "stop")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        row.addLayout(buttons)
        right_layout.addLayout(row)
        split.addWidget(right)
        split.setSizes([220, 800])
        split.setStretchFactor(1, 1)
        layout.addWidget(split)
        return tab

    # History ---------------------------------------------------------------------------------
    def _on_project(self, project: projects.Project | None) -> None:
        self.stop()
        self.setEnabled(project is not None)
        self.model_picker.refresh(project)
        if project is not None:
            for box in (self.use_documents, self.compare.use_documents):
                box.blockSignals(True)
                box.setChecked(self._setting_use_documents(project))
                box.blockSignals(False)
        self.conversations = projects.load_chat_history(project) if project else []
        self._fill_history()
        if self.conversations:
            self.history_list.setCurrentRow(len(self.conversations) - 1)
        else:
            self.new_conversation()

    def _fill_history(self) -> None:
        self.history_list.blockSignals(True)
        self.history_list.clear()
        for conv in self.conversations:
            item = QListWidgetItem(conv.get("title") or "New conversation")
            item.setToolTip(f"{conv.get('title', '')}\n{conv.get('model_label', '')}")
            self.history_list.addItem(item)
        self.history_list.blockSignals(False)

    def new_conversation(self) -> None:
        if self._task is not None:
            return
        self.current = None
        self.transcript.clear()
        self.history_list.clearSelection()
        self.history_list.setCurrentRow(-1)
        self.input.setFocus()

    def _open_conversation(self, row: int) -> None:
        if row < 0 or row >= len(self.conversations) or self._task is not None:
            return
        self.current = self.conversations[row]
        self.transcript.clear()
        trained = bool(self.current.get("run"))
        for message in self.current["messages"]:
            bubble = self.transcript.add(message["role"], message["content"], self.current.get("model_label", ""))
            bubble.set_stopped(bool(message.get("stopped")))
            if message["role"] == "assistant" and trained:
                self._show_backing(bubble, message.get("sources") or [], message.get("answered_by", ""),
                                   bool(message.get("quoted")), bool(message.get("recalled")))
        run_id = self.current.get("run") or ""
        if self.ctx.project is not None:
            self.model_picker.select_run(self.ctx.project.runs_dir / run_id if run_id else None)

    def _save(self) -> None:
        if self.ctx.project is not None:
            try:
                projects.save_chat_history(self.ctx.project, self.conversations)
            except Exception as exc:  # noqa: BLE001 - a full disk must not lose the answer on screen
                self.ctx.notifier.report_exception(exc)

    # Use my documents ----------------------------------------------------------------------------
    def _settings_key(self, project: projects.Project) -> str:
        return f"chat/useDocuments/{project.name}"

    def _setting_use_documents(self, project: projects.Project) -> bool:
        return str(self.ctx.settings.value(self._settings_key(project), "true")).lower() != "false"

    def _remember_use_documents(self, on: bool) -> None:
        if self.ctx.project is not None:
            self.ctx.settings.setValue(self._settings_key(self.ctx.project), "true" if on else "false")

    def _model_picked(self) -> None:
        """Only a trained run has documents to use: the original model answers alone."""
        trained = self.model_picker.run() is not None
        self.use_documents.setEnabled(trained and self._task is None)
        self.use_documents.setToolTip(USE_DOCUMENTS_TIP if trained else
                                      "Only a trained model answers with your documents: pick one under “Talk to”.")

    # Sending -----------------------------------------------------------------------------------
    def send(self) -> None:
        text = self.input.toPlainText().strip()
        project = self.ctx.project
        if not text or project is None or self._task is not None:
            return
        run = self.model_picker.run()
        label = self.model_picker.currentText()
        if self.current is None or self.current.get("run", "") != (run.name if run else ""):
            self.current = {"id": uuid.uuid4().hex[:12], "run": run.name if run else "", "model_label": label,
                            "title": text[:60], "messages": []}
            self.conversations.append(self.current)
            self.transcript.clear()
            self._fill_history()
            self.history_list.blockSignals(True)
            self.history_list.setCurrentRow(len(self.conversations) - 1)
            self.history_list.blockSignals(False)
        self.input.clear()
        self.current["messages"].append({"role": "user", "content": text})
        self.transcript.add("user", text)
        self._bubble = self.transcript.add("assistant", "", label)
        self._bubble.copied.connect(lambda _t: self.busy.start("Answer copied.") or self.busy.bar.hide())
        messages = [{"role": m["role"], "content": m["content"]} for m in self.current["messages"]]
        self._answered_by, self._sources, self._stopped = None, AnswerSources(), False
        self._set_busy(True)
        self.busy.start("Loading the model…")
        self._task = self.ctx.workers.run(
            stream_job(self.ctx.chat_models, run, project.model, run is None, messages, self.sampling.settings(),
                       passages=self.use_documents.isChecked()),
            "chat", on_event=self._on_piece, on_done=self._reply_done)

    def _on_piece(self, event: Any) -> None:
        if isinstance(event, Progress):
            self.busy.start(event.message)
        elif isinstance(event, AnswerPiece):
            self._buffer.add(event.text)
            self.piece_received.emit(event.text)
        elif isinstance(event, AnsweredBy):
            self._answered_by = event
            if event.documents_unavailable:
                self.ctx.notifier.warning("This answer could not use your documents.", event.documents_unavailable)
        elif isinstance(event, AnswerSources):
            self._sources = event
        elif isinstance(event, AnswerDone):
            self._stopped = self._stopped or event.stopped

    def _show_backing(self, bubble: MessageBubble, sources: list[dict[str, Any]], answered_by: str,
                      quoted: bool = False, recalled: bool = False) -> None:
        """What stands behind a trained run's answer: its sources, or a note that the original model wrote it,
        or that it quotes the documents' statement its first source holds (core/chat/grounding.py)."""
        bubble.set_sources(sources if isinstance(sources, list) else [])
        note = QUOTED_NOTE if quoted else RECALLED_NOTE if recalled else ""
        bubble.set_note(ORIGINAL_NOTE if answered_by == "original" else note)
        if answered_by == "original":  # the header names who wrote it, as the note does: not "Trained · run"
            bubble.who_label.setText("Original model")

    def _flush(self, text: str) -> None:
        if self._bubble is not None:
            self._bubble.append(text)

    def _reply_done(self) -> None:
        self._buffer.flush()
        self._task = None
        self._set_busy(False)
        self.busy.stop()
        answer = self._bubble.text().strip() if self._bubble is not None else ""
        if self._bubble is not None:
            self._bubble.set_stopped(self._stopped)
        if self.current is not None:
            trained = bool(self.current.get("run"))  # the original model alone has nothing behind its answers
            # {"document", "passage" (0-based, as the CLI writes it), "text"}: chat_history.json's form
            sources = [{"document": p.document, "passage": p.index, "text": p.text} for p in self._sources.passages]
            if trained and self._answered_by is not None and self._bubble is not None:
                self._show_backing(self._bubble, sources, self._answered_by.weights, self._sources.quoted)
            if answer:
                message: dict[str, Any] = {"role": "assistant", "content": answer}
                if self._stopped:
                    message["stopped"] = True
                if trained and self._answered_by is not None:
                    message["answered_by"] = self._answered_by.weights
                    if sources:
                        message["sources"] = sources
                    if self._sources.quoted:
                        message["quoted"] = True
                self.current["messages"].append(message)
            else:  # failed before any text: the question is kept, the empty bubble is not
                self._bubble.text_label.setText("(no answer)")
            self._save()
        self.reply_finished.emit(answer)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._stopped = True  # also when the stop lands before the model wrote anything
            self.busy.message("Stopping…")

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.model_picker.setEnabled(not busy)
        self.use_documents.setEnabled(not busy and self.model_picker.run() is not None)
        self.new_button.setEnabled(not busy)
        self.history_list.setEnabled(not busy)

    def last_answer(self) -> str:
        for bubble in reversed(self.transcript.bubbles):
            if bubble.role == "assistant":
                return bubble.text()
        return ""
