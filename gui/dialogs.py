"""The few questions the app asks in a dialog, in one module.

Pages call these instead of QInputDialog / QMessageBox / QFileDialog directly,
so there is one look for them, and GUI tests can answer them (a modal dialog
blocks a test that clicks its way through the app).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget


def ask_text(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value.strip() if ok and value.strip() else None


def ask_secret(parent: QWidget, title: str, label: str) -> str | None:
    """Like ask_text, with the typing hidden (an access token)."""
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Password, "")
    return value.strip() if ok and value.strip() else None


def confirm(parent: QWidget, title: str, text: str, yes: str = "OK") -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is ok


def choose_files(parent: QWidget, title: str, filters: str) -> list[str]:
    files, _ = QFileDialog.getOpenFileNames(parent, title, "", filters)
    return files


def choose_file(parent: QWidget, title: str, filters: str) -> str | None:
    file, _ = QFileDialog.getOpenFileName(parent, title, "", filters)
    return file or None


def choose_folder(parent: QWidget, title: str) -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, title)
    return folder or None


def choose_save_file(parent: QWidget, title: str, suggested: str, filters: str) -> str | None:
    file, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return file or None


TASK_CHOICES = (("chat", "Chat with documents",
                 "Teach a model what your documents say (PDF, Word, web pages, text), then ask it questions."),
                ("classify", "Label text",
                 "Rows of text with labels (reviews marked positive / negative, tickets marked by team) → a model "
                 "that labels new text."))


def ask_new_project(parent: QWidget, name: str) -> tuple[str, str] | None:
    """(name, task) for a new project, or None when cancelled: the task decides the pages it gets."""
    from PySide6.QtWidgets import QButtonGroup, QDialog, QDialogButtonBox, QLabel, QRadioButton, QVBoxLayout

    dialog = QDialog(parent)
    dialog.setWindowTitle("New project")
    dialog.setMinimumWidth(460)
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLabel("Name of the new project:"))
    edit = QLineEdit(name)
    edit.selectAll()
    layout.addWidget(edit)
    layout.addSpacing(6)
    layout.addWidget(QLabel("What should it make?"))
    group = QButtonGroup(dialog)
    for key, title, text in TASK_CHOICES:
        button = QRadioButton(title)
        button.setProperty("task", key)
        button.setChecked(key == "chat")
        group.addButton(button)
        layout.addWidget(button)
        note = QLabel(text)
        note.setObjectName("muted")
        note.setWordWrap(True)
        note.setContentsMargins(24, 0, 0, 4)
        layout.addWidget(note)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted or not edit.text().strip():
        return None
    return edit.text().strip(), str(group.checkedButton().property("task"))
