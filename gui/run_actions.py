"""What can be done to one run, from its right-click menu (Home's runs list) or the "⋯" button beside the
Train page's run selector: see what it learned, rename, open its folder, delete.

The work is core's (core/run_manage.py: refusals carry a message and a hint); this module asks first,
shows errors through the funnel, drops the run's loaded chat models and tells every page (`runs_changed`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from core import run_manage
from core.errors import TuneDeskError
from core.runs import run_state
from gui import dialogs
from gui.context import AppContext
from gui.report_view import ReportChecks, ReportDialog, open_report
from gui.server_export import SERVER_EXPORT, export_for_server
from gui.theme import icon

REPORT, RENAME, OPEN, DELETE = "See what it learned…", "Rename…", "Open folder", "Delete…"


class RunActions(QObject):
    def __init__(self, ctx: AppContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.widget = parent
        self.report_dialog: ReportDialog | None = None

    def menu(self, run: Path, report: bool = True, parent: QWidget | None = None) -> QMenu:
        """The menu of `run`; `report`: offer the "did it learn?" report (chat runs; a labelling run has none)."""
        menu = QMenu(parent or self.widget)
        self.fill(menu, Path(run), report)
        return menu

    def fill(self, menu: QMenu, run: Path, report: bool = True) -> None:
        for text, name, slot in ((REPORT, "spark", self.show_report), (RENAME, "rename", self.rename),
                                 (OPEN, "folder", self.open_folder), (DELETE, "trash", self.delete)):
            if text == REPORT and not report:
                continue
            if text == DELETE:
                if report:  # a chat run: it can also train on a server (gui/server_export.py)
                    menu.addAction(icon("folder"), SERVER_EXPORT, lambda: export_for_server(self.ctx, self.widget, run))
                menu.addSeparator()
            menu.addAction(icon(name), text, lambda s=slot: s(run))

    def _training_here(self, run: Path) -> bool:
        """This app's training process is on `run` (also in the moment before its worker takes the run's lock)."""
        training = self.ctx.workers.training
        return training.is_running() and training.run is not None and Path(training.run).resolve() == run.resolve()

    def show_report(self, run: Path) -> None:
        self.report_dialog = open_report(self.ctx, run, self.widget, run_state(run).label)

    def rename(self, run: Path) -> None:
        state = run_state(run)
        if state.trainer_pid is not None or self._training_here(run):
            self.ctx.notifier.warning(f"“{state.label}” is being trained right now.",
                                      "Rename it once training has stopped or finished.")
            return
        name = dialogs.ask_text(self.widget, "Rename run", f"A name for {state.id}:", state.label)
        if name is None:
            return
        try:
            run_manage.rename_run(run, name)
        except TuneDeskError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        self.ctx.runs_changed.emit()

    def open_folder(self, run: Path) -> None:
        if not run.is_dir():
            self.ctx.notifier.warning(f"{run} no longer exists.", "It was deleted or moved; the list is refreshed.")
            self.ctx.runs_changed.emit()
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(run)))

    def delete(self, run: Path) -> None:
        state = run_state(run)
        if state.trainer_pid is not None or self._training_here(run):
            self.ctx.notifier.warning(f"“{state.label}” is being trained right now, so it cannot be deleted.",
                                      "Stop the training on the Train page first (it keeps a checkpoint), "
                                      "then delete the run.")
            return
        if ReportChecks.of(self.ctx).running(run):
            self.ctx.notifier.warning(f"TuneDesk is checking what “{state.label}” learned.",
                                      "Stop the check (Stop checking), then delete the run.")
            return
        if not dialogs.confirm(self.widget, "Delete run",
                               f"Delete “{state.label}” with its trained model, checkpoints and report?\n"
                               "Chats with it stay in the history. This cannot be undone.", yes="Delete"):
            return
        try:
            run_manage.delete_run(run)
        except TuneDeskError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        finally:
            self.ctx.chat_models.forget(run)  # a few hundred MB each, of a model nobody can choose any more
        self.ctx.runs_changed.emit()


class RunMenuButton(QToolButton):
    """"⋯" beside a run selector: the selected run's menu, built when it opens (the selection may have changed)."""

    def __init__(self, actions: RunActions, current: Callable[[], Path | None], report: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions_ = actions
        self.current = current
        self.report = report
        self.setText("⋯")
        self.setToolTip("This run: see what it learned, rename, open its folder, delete")
        self.setAccessibleName("Run actions")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")  # "⋯" says it already
        self.setFixedWidth(self.fontMetrics().horizontalAdvance("⋯") + 22)
        self.setMenu(QMenu(self))
        self.menu().aboutToShow.connect(self._fill)

    def _fill(self) -> None:
        menu = self.menu()
        menu.clear()
        run = self.current()
        if run is None:
            menu.addAction("No run selected").setEnabled(False)
            return
        self.actions_.fill(menu, run, self.report)
