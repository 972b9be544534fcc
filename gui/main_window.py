"""The window: a sidebar of pages, the notification banners, and the pages themselves."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton, QStackedWidget,
                               QVBoxLayout, QWidget)

from core import projects
from core.projects import Project
from core.runs import RunStatus
from gui import dialogs
from gui.context import AppContext
from gui.notify import NotificationArea
from gui.pages.chat import ChatPage
from gui.pages.documents import DocumentsPage
from gui.pages.home import HomePage
from gui.pages.labels_data import DataPage
from gui.pages.labels_train import ClassifyTrainPage
from gui.pages.labels_try import TryPage
from gui.pages.model import ModelPage
from gui.pages.train import TrainPage
from gui.theme import ThemeManager, icon, set_icon

PAGES = (("home", "Home", "home"), ("model", "Model", "model"), ("documents", "Documents", "documents"),
         ("train", "Train", "train"), ("chat", "Chat", "chat"),
         ("data", "Data", "documents"), ("classify_train", "Train", "train"), ("try", "Try it", "spark"))
TASK_PAGES = {"chat": ("home", "model", "documents", "train", "chat"),
              "classify": ("home", "data", "classify_train", "try")}
"""The pages each project task shows in the sidebar (core/projects.py TASKS); Ctrl+1… follow this order."""
SAME_PLACE = {"classify": {"documents": "data", "model": "data", "train": "classify_train", "chat": "try"},
              "chat": {"data": "documents", "classify_train": "train", "try": "chat"}}
"""A page asked for by the other task's name (after opening a project, say) shows its counterpart."""
DEFAULT_SIZE = QSize(1320, 860)
MINIMUM_SIZE = QSize(960, 640)
"""The smallest window every page holds at without clipping (tests/gui/test_layouts.py): a 1366×768 laptop
with a task bar, or 1280×800 at 125%, fits it; below it pages would scroll in both directions."""


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, themes: ThemeManager) -> None:
        super().__init__()
        self.ctx = ctx
        self.themes = themes
        self.setWindowTitle("TuneDesk")
        self.setWindowIcon(icon("app", "#000000"))
        self.setMinimumSize(MINIMUM_SIZE)

        central = QWidget()
        central.setObjectName("content")
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._sidebar())
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.notifications = NotificationArea(ctx.notifier)
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(24, 12, 24, 0)
        holder_layout.addWidget(self.notifications)
        column.addWidget(holder)
        self.stack = QStackedWidget()
        self.pages = {
            "home": HomePage(ctx), "model": ModelPage(ctx), "documents": DocumentsPage(ctx),
            "train": TrainPage(ctx), "chat": ChatPage(ctx),
            "data": DataPage(ctx), "classify_train": ClassifyTrainPage(ctx), "try": TryPage(ctx),
        }
        for page in self.pages.values():
            self.stack.addWidget(page)
        column.addWidget(self.stack, 1)
        row.addLayout(column, 1)
        self.setCentralWidget(central)

        themes.changed.connect(self.train_page.plots.apply_theme)
        ctx.navigate.connect(self.show_page)
        ctx.project_changed.connect(self._project_changed)
        self._shortcuts()
        self._restore_geometry()

    # Properties for tests and scripts -------------------------------------------------------
    @property
    def home_page(self) -> HomePage:
        return self.pages["home"]  # type: ignore[return-value]

    @property
    def model_page(self) -> ModelPage:
        return self.pages["model"]  # type: ignore[return-value]

    @property
    def documents_page(self) -> DocumentsPage:
        return self.pages["documents"]  # type: ignore[return-value]

    @property
    def train_page(self) -> TrainPage:
        return self.pages["train"]  # type: ignore[return-value]

    @property
    def chat_page(self) -> ChatPage:
        return self.pages["chat"]  # type: ignore[return-value]

    # Layout ---------------------------------------------------------------------------------
    def _sidebar(self) -> QWidget:
        bar = QFrame()
        bar.setObjectName("sidebar")
        bar.setFixedWidth(212)
        layout = QVBoxLayout(bar)
        layout.setContentsMargins(14, 18, 14, 14)
        layout.setSpacing(4)
        brand = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(icon("app", "#000000").pixmap(30, 30))
        title = QLabel("TuneDesk")
        title.setObjectName("appTitle")
        brand.addWidget(logo)
        brand.addWidget(title)
        brand.addStretch(1)
        layout.addLayout(brand)
        layout.addSpacing(18)
        self.nav = QButtonGroup(self)
        self.nav_buttons: dict[str, QPushButton] = {}
        for number, (key, label, icon_name) in enumerate(PAGES, start=1):
            button = QPushButton(label)
            button.setObjectName("navButton")
            button.setCheckable(True)
            button.setToolTip(f"{label} (Ctrl+{number})")
            set_icon(button, icon_name, 19)
            button.clicked.connect(lambda _c=False, k=key: self.show_page(k))
            self.nav.addButton(button)
            self.nav_buttons[key] = button
            layout.addWidget(button)
        layout.addStretch(1)
        caption = QLabel("PROJECT")
        caption.setObjectName("projectCaption")
        self.project_badge = QLabel()
        self.project_badge.setObjectName("projectName")
        self.project_badge.setWordWrap(True)
        layout.addWidget(caption)
        layout.addWidget(self.project_badge)
        return bar

    def task(self) -> str:
        return self.ctx.project.task if self.ctx.project is not None else "chat"

    def _shortcuts(self) -> None:
        for number in range(1, 6):
            QShortcut(QKeySequence(f"Ctrl+{number}"), self, lambda n=number: self._page_number(n))
        QShortcut(QKeySequence.StandardKey.New, self, self.home_page.new_project)
        QShortcut(QKeySequence("Ctrl+O"), self, lambda: self.show_page("home"))
        QShortcut(QKeySequence.StandardKey.Quit, self, self.close)
        start = QShortcut(QKeySequence("Ctrl+Return"), self.train_page, self.train_page.start)
        start.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        stop = QShortcut(QKeySequence("Ctrl+."), self.train_page, self.train_page.stop)
        stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _page_number(self, number: int) -> None:
        keys = TASK_PAGES[self.task()]
        if number <= len(keys):
            self.show_page(keys[number - 1])

    def show_page(self, key: str) -> None:
        if key != "home" and self.ctx.project is None:
            key = "home"
        key = SAME_PLACE.get(self.task(), {}).get(key, key)
        self.stack.setCurrentWidget(self.pages[key])
        self.nav_buttons[key].setChecked(True)
        self.notifications.page_shown(key)

    def current_page(self) -> str:
        return next(k for k, p in self.pages.items() if p is self.stack.currentWidget())

    def _project_changed(self, project: Project | None) -> None:
        shown = TASK_PAGES[project.task if project is not None else "chat"]
        for number, key in enumerate(shown, start=1):
            self.nav_buttons[key].setToolTip(f"{self.nav_buttons[key].text()} (Ctrl+{number})")
        for key, button in self.nav_buttons.items():
            button.setVisible(key in shown)
            button.setEnabled(key == "home" or project is not None)
        self.project_badge.setText(project.name if project else "None open")
        self.setWindowTitle(f"{project.name} — TuneDesk" if project else "TuneDesk")
        if project is None:
            self.show_page("home")

    # Start-up and shut-down ---------------------------------------------------------------------
    def start(self) -> None:
        """Open the last project (or Home on a first run) and offer to resume an interrupted run."""
        project = self.ctx.last_project()
        self.ctx.open_project(project)
        self._project_changed(project)
        self.show_page("documents" if project else "home")
        self.offer_resume()

    def offer_resume(self) -> None:
        """Offer the newest run that core.runs calls resumable: killed, stopped or failed (out of memory, say),
        never one that another process is training now."""
        found = []
        for project in projects.list_projects():
            found.extend((project, run) for run in projects.resumable_runs(project))
        if not found:
            return
        project, run = found[0]
        more = f" ({len(found) - 1} more to continue)" if len(found) > 1 else ""
        ended = {RunStatus.STOPPED: "was stopped", RunStatus.FAILED: f"failed ({run.error or 'see its log'})"}
        at = f" at step {run.step} of {run.total_steps}" if run.total_steps else ""
        self.ctx.notifier.info(
            f"Training of “{project.name}” {ended.get(run.status, 'was interrupted')}{at}{more}.",
            f"It can continue from {run.resumes_from()}.",
            actions=(("Resume training", lambda: self.resume(project, run.path)),))

    def resume(self, project: Project, run_path: object) -> None:
        project = projects.open_project(project.name)
        self.ctx.open_project(project)
        self.show_page("train")
        page = self.pages["classify_train"] if project.task == "classify" else self.train_page
        page.resume(run_path)  # type: ignore[attr-defined]

    def _restore_geometry(self) -> None:
        geometry = self.ctx.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            return
        screen = self.screen().availableGeometry()
        size = DEFAULT_SIZE.boundedTo(screen.size() * 0.92).expandedTo(self.minimumSize())
        self.resize(size)
        self.move(screen.center() - self.rect().center())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.ctx.workers.training.is_running():
            if not dialogs.confirm(self, "Training is running",
                                   "Stop training and quit? A checkpoint is saved, and you can resume it "
                                   "next time.", yes="Stop and quit"):
                event.ignore()
                return
        self.ctx.settings.setValue("window/geometry", self.saveGeometry())
        self.ctx.settings.sync()
        self.ctx.workers.shutdown()
        event.accept()
