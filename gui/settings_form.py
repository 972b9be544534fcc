"""Every training setting, generated from the TrainConfig dataclass, explained by its field docstring.

A new field in core/training/config.py appears here without touching the
GUI: the widget follows the field's type, and the one-line explanation is the
docstring written under the field (read with `ast`, because Python keeps no
attribute docstrings at run time).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget)

from core.errors import ConfigError
from core.training.config import CHOICES, PRESETS, TrainConfig

HIDDEN = {"model", "preset"}  # chosen elsewhere (the Model page, the preset buttons)


def field_docs(cls: type = TrainConfig) -> dict[str, str]:
    """{field name: the string literal right below it} from the class source; {} if the source is absent."""
    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError):  # a frozen bundle may ship no .py source
        return {}
    docs: dict[str, str] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for node, following in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


WORDS = {"lora": "LoRA", "qa": "Q&A", "val": "validation", "seq": "sequence", "len": "length",
         "accum": "accumulation", "grad": "gradient", "r": "rank"}


def label_for(name: str) -> str:
    """'max_seq_len' → 'Max sequence length'."""
    words = " ".join(WORDS.get(w, w) for w in name.split("_"))
    return words[:1].upper() + words[1:]


def preset_values(name: str) -> dict[str, Any]:
    """All visible settings of a preset: the dataclass defaults overlaid with PRESETS[name]."""
    base = {f.name: getattr(TrainConfig(), f.name) for f in dataclasses.fields(TrainConfig) if f.name not in HIDDEN}
    base.update({k: v for k, v in PRESETS.get(name, {}).items() if k in base})
    return base


class ConfigForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.docs = field_docs()
        self.widgets: dict[str, QWidget] = {}
        self.types: dict[str, Any] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 14, 0)  # room for the scroll bar beside the inputs
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        outer.addLayout(grid)
        row = 0
        defaults = TrainConfig()
        for f in dataclasses.fields(TrainConfig):
            if f.name in HIDDEN:
                continue
            value = getattr(defaults, f.name)
            widget = self._widget_for(f.name, value)
            self.widgets[f.name] = widget
            self.types[f.name] = type(value)
            doc = self.docs.get(f.name, "")
            label = QLabel(label_for(f.name))
            label.setToolTip(doc)
            widget.setToolTip(doc)
            grid.addWidget(label, row, 0)
            grid.addWidget(widget, row, 1)
            row += 1
            if doc:
                help_label = QLabel(doc)
                help_label.setObjectName("muted")
                help_label.setWordWrap(True)
                grid.addWidget(help_label, row, 0, 1, 2)
                grid.setRowMinimumHeight(row + 1, 8)
                row += 2
        grid.setColumnStretch(1, 1)

    def _widget_for(self, name: str, value: Any) -> QWidget:
        if isinstance(value, bool):
            box = QCheckBox()
            box.toggled.connect(lambda _v: self.changed.emit())
            return box
        if name in CHOICES:
            combo = QComboBox()
            combo.addItems(CHOICES[name])
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
            return combo
        if isinstance(value, int):
            spin = QSpinBox()
            spin.setRange(0, 1_000_000)
            spin.valueChanged.connect(lambda _v: self.changed.emit())
            return spin
        edit = QLineEdit()  # floats (1e-3 reads better typed than spun) and free text
        edit.textEdited.connect(lambda _t: self.changed.emit())
        return edit

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            widget = self.widgets.get(name)
            if widget is None:
                continue
            widget.blockSignals(True)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QLineEdit):
                widget.setText(f"{value:g}" if isinstance(value, float) else str(value))
            widget.blockSignals(False)
        self.changed.emit()

    def values(self) -> dict[str, Any]:
        """The settings as typed; raises one ConfigError naming every value that is not a number."""
        out: dict[str, Any] = {}
        problems: list[str] = []
        for name, widget in self.widgets.items():
            if isinstance(widget, QCheckBox):
                out[name] = widget.isChecked()
            elif isinstance(widget, QComboBox):
                out[name] = widget.currentText()
            elif isinstance(widget, QSpinBox):
                out[name] = widget.value()
            elif isinstance(widget, QLineEdit):
                text = widget.text().strip()
                if self.types[name] is float:
                    try:
                        out[name] = float(text)
                    except ValueError:
                        problems.append(f"{label_for(name)} must be a number (got {text!r})")
                else:
                    out[name] = text
        if problems:
            raise ConfigError(problems)
        return out
