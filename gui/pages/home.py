"""Home: projects (create, open, rename, delete), their recent runs, and the first-run welcome."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem,
                               QMenu, QPushButton, QTableWidgetItem, QWidget)

from core import projects
from core.evaluation.own_questions import add_sample_questions
from core.projects import Project
from core.runs import RunState, RunStatus
from gui import dialogs
from gui.context import AppContext
from gui.run_actions import RunActions
from gui.theme import mark_primary, set_icon
from gui.widgets import Card, Page, muted, read_only_table

STATUS_WORDS = {
    RunStatus.PREPARING: "Preparing", RunStatus.PREPARED: "Ready to train", RunStatus.TRAINING: "Being trained elsewhere",
    RunStatus.INTERRUPTED: "Interrupted", RunStatus.STOPPED: "Paused", RunStatus.FINISHED: "Trained",
    RunStatus.FAILED: "Failed", RunStatus.UNKNOWN: "Incomplete",
}


def run_status_text(run: RunState) -> str:
    """A run's state in a few words, as core.runs decides it (a list never re-derives it from run.json)."""
    words = STATUS_WORDS.get(run.status, run.status)
    if run.status is RunStatus.TRAINING and not run.trained_elsewhere:
        words = "Training"
    elif run.status is RunStatus.PREPARING and run.trained_elsewhere:
        words = "Being prepared elsewhere"
    elif run.status is RunStatus.INTERRUPTED and not run.has_checkpoint:
        words = "Interrupted (no checkpoint)"
    if run.total_steps:
        words += f" · step {run.step}/{run.total_steps}"
    return words


class WelcomeCard(Card):
    """Shown while there is no project: the one-click way to see the whole flow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent, margins=28)
        self.layout_.setSpacing(14)
        title = QLabel("Welcome to TuneDesk")
        title.setObjectName("pageTitle")
        self.add(title)
        self.add(muted("Teach a small language model what your documents say, then chat with it — all on this "
                       "computer, nothing leaves it. The built-in demo model and three sample documents let you try "
                       "the whole thing offline in a few minutes."))
        steps = QHBoxLayout()
        steps.setSpacing(12)
        for number, (head, text) in enumerate((
                ("Add documents", "PDF, Word, web pages, text or Markdown."),
                ("Train", "Watch the model learn, live. Stop and resume any time."),
                ("Chat", "Ask it about your documents; compare it with the original.")), start=1):
            card = Card(f"{number}. {head}", margins=14)
            card.add(muted(text))
            card.layout_.addStretch(1)
            steps.addWidget(card)
        self.add(steps)
        buttons = QHBoxLayout()
        self.try_sample = QPushButton("Try it with the demo model and sample documents")
        set_icon(self.try_sample, "spark")
        mark_primary(self.try_sample)
        self.start_empty = QPushButton("Start an empty project")
        set_icon(self.start_empty, "plus")
        buttons.addWidget(self.try_sample)
        buttons.addWidget(self.start_empty)
        buttons.addStretch(1)
        self.add(buttons)


class HomePage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Projects", "Each project keeps its documents, trained models and chats together.", parent)
        self.ctx = ctx
        self.new_button = QPushButton("New project")
        set_icon(self.new_button, "plus")
        mark_primary(self.new_button)
        self.new_button.clicked.connect(self.new_project)
        self.header_actions.addWidget(self.new_button)

        self.welcome = WelcomeCard()
        self.welcome.try_sample.clicked.connect(self.create_sample_project)
        self.welcome.start_empty.clicked.connect(self.new_project)
        self.body.addWidget(self.welcome)

        self.lists = QWidget()
        row = QHBoxLayout(self.lists)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        left = Card("Your projects")
        self.project_list = QListWidget()
        self.project_list.setMinimumWidth(280)
        self.project_list.currentItemChanged.connect(self._show_runs)
        self.project_list.itemDoubleClicked.connect(lambda _item: self.open_selected())
        left.add(self.project_list, 1)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open")
        set_icon(self.open_button, "open")
        self.rename_button = QPushButton("Rename")
        set_icon(self.rename_button, "rename")
        self.delete_button = QPushButton("Delete")
        set_icon(self.delete_button, "trash")
        self.open_button.clicked.connect(self.open_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.open_button, self.rename_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        left.add(actions)
        row.addWidget(left, 2)

        right = Card("Recent runs")
        self.runs_table = read_only_table(["Run", "Status", "Preset", "Started"])
        self.runs_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs_table.horizontalHeader().setStretchLastSection(True)
        self.runs_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.runs_table.customContextMenuRequested.connect(self._run_context_menu)
        self.run_actions = RunActions(ctx, self)
        right.add(self.runs_table, 1)
        self.runs_hint = muted("Runs appear here once you train. Open a project, add documents, then go to Train.")
        right.add(self.runs_hint)
        self.runs_menu_hint = muted("Right-click a run to see what it learned, rename it, open its folder or delete it.")
        right.add(self.runs_menu_hint)
        row.addWidget(right, 3)
        self.body.addWidget(self.lists, 1)
        self.filler = QWidget()  # takes the spare height while only the welcome card shows
        self.body.addWidget(self.filler, 1)

        ctx.project_changed.connect(lambda _p: self.refresh())
        ctx.runs_changed.connect(self.refresh)
        self.refresh()

    # Data ------------------------------------------------------------------------------
    def refresh(self) -> None:
        current = self.selected_name() or (self.ctx.project.name if self.ctx.project else None)
        found = projects.list_projects()
        self.welcome.setVisible(not found)
        self.filler.setVisible(not found)
        self.lists.setVisible(bool(found))
        self.project_list.blockSignals(True)
        self.project_list.clear()
        for project in found:
            docs = len(projects.document_files(project))
            runs = projects.list_runs(project)
            model = "demo model" if project.model == "demo" else project.model.replace("\\", "/").rsplit("/", 1)[-1]
            what = (f"{docs} document{'s' * (docs != 1)}" if project.task == "chat" else "labels text")
            item = QListWidgetItem(f"{project.name}\n{what} · {len(runs)} run{'s' * (len(runs) != 1)}"
                                   + (f" · {model}" if project.task == "chat" else ""))
            item.setData(Qt.ItemDataRole.UserRole, project.name)
            item.setToolTip(str(project.root))
            self.project_list.addItem(item)
            if project.name == current:
                self.project_list.setCurrentItem(item)
        if self.project_list.currentItem() is None and self.project_list.count():
            self.project_list.setCurrentRow(0)
        self.project_list.blockSignals(False)
        self._show_runs()
        has = self.project_list.currentItem() is not None
        for button in (self.open_button, self.rename_button, self.delete_button):
            button.setEnabled(has)

    def selected_name(self) -> str | None:
        item = self.project_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _selected(self) -> Project | None:
        name = self.selected_name()
        if name is None:
            return None
        try:
            return projects.open_project(name)
        except projects.ProjectError as exc:
            self.ctx.notifier.report_exception(exc)
            return None

    def _show_runs(self, *_args: object) -> None:
        project = self._selected() if self.selected_name() else None
        runs = projects.list_runs(project) if project else []
        self.runs_table.setRowCount(len(runs))
        for r, run in enumerate(runs):
            values = [run.label, run_status_text(run), run.preset.capitalize(), run.created.replace("T", " ")[:16]]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, str(run.path))
                item.setToolTip(f"{run.path}\nRight-click: see what it learned, rename, open folder, delete")
                self.runs_table.setItem(r, c, item)
        self.runs_hint.setVisible(not runs)
        self.runs_menu_hint.setVisible(bool(runs))

    def run_menu(self, row: int) -> QMenu | None:
        """The right-click menu of the run in `row` (core/run_manage.py does the work, gui/run_actions.py asks)."""
        item = self.runs_table.item(row, 0)
        if item is None:
            return None
        project = self._selected()
        return self.run_actions.menu(Path(item.data(Qt.ItemDataRole.UserRole)),
                                     report=project is None or project.task == "chat", parent=self.runs_table)

    def _run_context_menu(self, pos: QPoint) -> None:
        row = self.runs_table.rowAt(pos.y())
        menu = self.run_menu(row) if row >= 0 else None
        if menu is not None:
            self.runs_table.selectRow(row)
            menu.exec(self.runs_table.viewport().mapToGlobal(pos))
            menu.deleteLater()

    # Actions ---------------------------------------------------------------------------
    def create_sample_project(self) -> None:
        if not self._may_switch():
            return
        try:
            project = projects.create_project(projects.unique_name("Sample project"), "demo")
            projects.add_sample_documents(project)
            add_sample_questions(project.root)  # its first report leads with questions in a person's words
        except Exception as exc:  # noqa: BLE001 - shown through the funnel
            self.ctx.notifier.report_exception(exc)
            return
        self.ctx.open_project(project)
        self.ctx.navigate.emit("documents")

    def new_project(self) -> None:
        if not self._may_switch():
            return
        answer = dialogs.ask_new_project(self, projects.unique_name("My project"))
        if answer is None:
            return
        name, task = answer
        try:
            project = projects.create_project(name, "demo", task)
        except projects.ProjectError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        self.ctx.open_project(project)
        self.ctx.navigate.emit("documents")

    def _may_switch(self, name: str | None = None) -> bool:
        """Training keeps its project open: the Train page follows one run at a time."""
        current = self.ctx.project
        if current is not None and current.name != name and self.ctx.workers.training.is_running():
            self.ctx.notifier.warning(f"“{current.name}” is training.",
                                      "Stop the training (Train page) before opening another project; "
                                      "you can resume it later.")
            return False
        return True

    def open_selected(self) -> None:
        project = self._selected()
        if project is not None and self._may_switch(project.name):
            self.ctx.open_project(project)
            self.ctx.navigate.emit("documents")

    def rename_selected(self) -> None:
        project = self._selected()
        if project is None:
            return
        if self.ctx.project and self.ctx.project.name == project.name and self.ctx.workers.training.is_running():
            self.ctx.notifier.warning("This project is busy.", "Stop training first, then rename it.")
            return
        name = dialogs.ask_text(self, "Rename project", "New name:", project.name)
        if name is None:
            return
        try:
            renamed = projects.rename_project(project, name)
        except projects.ProjectError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        if self.ctx.project and self.ctx.project.name == project.name:
            self.ctx.open_project(renamed)
        self.refresh()
        self._select(renamed.name)

    def delete_selected(self) -> None:
        project = self._selected()
        if project is None:
            return
        if self.ctx.project and self.ctx.project.name == project.name and self.ctx.workers.training.is_running():
            self.ctx.notifier.warning("This project is busy.", "Stop training first, then delete it.")
            return
        if not dialogs.confirm(self, "Delete project",
                               f"Delete “{project.name}” with its documents, trained models and chats?\n"
                               "This cannot be undone.", yes="Delete"):
            return
        try:
            projects.delete_project(project)
        except (projects.ProjectError, OSError) as exc:
            self.ctx.notifier.report_exception(exc)
            return
        self.ctx.chat_models.forget(project.root)  # its loaded chat models go with it
        if self.ctx.project and self.ctx.project.name == project.name:
            self.ctx.open_project(None)
        self.refresh()

    def _select(self, name: str) -> None:
        for i in range(self.project_list.count()):
            if self.project_list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.project_list.setCurrentRow(i)
