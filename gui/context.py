"""What every page shares: the notifier, the workers, the settings and the open project.

Pages receive one `AppContext` and listen to its signals instead of to each
other, so a page can be built (and tested) alone.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal

from core import projects
from core.chat.assembly import ChatModels
from core.paths import data_dir
from core.projects import Project
from gui.notify import Notifier
from gui.workers import Workers


def app_settings() -> QSettings:
    """An INI file in the data folder: follows TUNEDESK_HOME, so tests never touch a user's settings."""
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


class AppContext(QObject):
    project_changed = Signal(object)  # Project | None
    runs_changed = Signal()  # a run was created, finished, stopped or removed
    documents_changed = Signal()
    navigate = Signal(str)  # page key: "home", "model", "documents", "train", "chat"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.notifier = Notifier(self)
        self.workers = Workers(self.notifier, self)
        self.settings = app_settings()
        self.chat_models = ChatModels()  # shared by Chat and Compare: loading is the slow part
        self.project: Project | None = None

    def open_project(self, project: Project | None) -> None:
        self.project = project
        self.settings.setValue("lastProject", project.name if project else "")
        self.project_changed.emit(project)

    def reload_project(self) -> None:
        """Re-read project.json (after rename or a model change) and tell the pages."""
        if self.project is not None:
            self.open_project(projects.open_project(self.project.name))

    def last_project(self) -> Project | None:
        name = str(self.settings.value("lastProject", "") or "")
        if not name:
            return None
        try:
            return projects.open_project(name)
        except projects.ProjectError:
            return None
