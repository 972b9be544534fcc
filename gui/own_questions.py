"""The editor of a person's own questions for the "did it learn?" check (core/evaluation/own_questions.py): opened
from a run's report (gui/report_view.py), for the run and its project, and from the Documents page, for the project
before any run. Saving is the caller's job, on a worker thread."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from gui.theme import active
from gui.widgets import muted


class OwnQuestionsDialog(QDialog):
    """Questions a person writes, each with the words a right answer contains; checked before it closes, so a
    row with no right answer is named and nothing typed is lost."""

    def __init__(self, questions: list[Any], taken_from: str = "", parent: QWidget | None = None,
                 problem: str = "") -> None:
        from core.evaluation.own_questions import ANSWER_SEPARATOR

        super().__init__(parent)
        self.setWindowTitle("Your own questions")
        self.resize(760, 460)
        self.questions: list[Any] = []
        layout = QVBoxLayout(self)
        intro = ("Ask what you would ask Chat, in your own words, and write what a right answer contains (several "
                 f"ways to say it: separate them with {ANSWER_SEPARATOR}). The check asks these too, without your "
                 "documents in view, and reports them apart: questions made from your documents' own words are "
                 "easier than yours, so these are the figure to trust.")
        if taken_from:
            intro += f" These come from {taken_from}: change them or keep them."
        layout.addWidget(muted(intro))
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Your question", "A right answer contains"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.table, 1)
        for q in questions:
            self.add_row(q.question, f" {ANSWER_SEPARATOR} ".join(q.answers))
        for _ in range(3):
            self.add_row()
        row = QHBoxLayout()
        add = QPushButton("Add a row")
        add.clicked.connect(lambda: self.add_row())
        row.addWidget(add)
        row.addStretch(1)
        layout.addLayout(row)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {active().error}")
        self.error.setText(problem)  # a file that cannot be read: said, and replaced only when the person saves
        self.error.setVisible(bool(problem))
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def add_row(self, question: str = "", answers: str = "") -> None:
        n = self.table.rowCount()
        self.table.insertRow(n)
        self.table.setItem(n, 0, QTableWidgetItem(question))
        self.table.setItem(n, 1, QTableWidgetItem(answers))

    def rows(self) -> list[tuple[str, str]]:
        def text(r: int, c: int) -> str:
            item = self.table.item(r, c)
            return item.text() if item is not None else ""
        return [(text(r, 0), text(r, 1)) for r in range(self.table.rowCount())]

    def save(self) -> None:
        from core.errors import TuneDeskError
        from core.evaluation.own_questions import from_rows

        try:
            self.questions = from_rows(self.rows())
        except TuneDeskError as exc:  # said in the dialog, which stays open with everything typed
            self.error.setText(exc.one_line())
            self.error.show()
            return
        self.accept()


def open_own_questions_editor(parent: QWidget, workers: Any, questions: list[Any],
                              save_job: Callable[[list[Any]], Any], on_saved: Callable[[], None],
                              taken_from: str = "", problem: str = "") -> OwnQuestionsDialog:
    """Open the editor window-modal (not a nested event loop). Save writes on a worker (`save_job(questions)`, a
    gui.workers task function), then `on_saved`; a save that fails (a full disk, a folder gone) opens the editor
    again with what was typed and why, so nothing typed is lost."""
    dialog = OwnQuestionsDialog(questions, taken_from, parent, problem)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def save() -> None:
        typed = list(dialog.questions)
        workers.run(save_job(typed), "save-own-questions", on_success=lambda _result: on_saved(),
                    on_failure=lambda exc: open_own_questions_editor(
                        parent, workers, typed, save_job, on_saved, taken_from,
                        f"Not saved: {getattr(exc, 'message', exc)} {getattr(exc, 'hint', '')}".strip()))
    dialog.accepted.connect(save)
    dialog.open()
    return dialog
