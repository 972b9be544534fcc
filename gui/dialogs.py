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
