"""Every training setting, generated from the TrainConfig dataclass, in plain words.

Each setting shows a plain-language label and one line of what it does for you (PLAIN);
the exact term and the field docstring written under the field in core/training/config.py
(LoRA alpha, nf4, torch.compile…, read with `ast`, because Python keeps no attribute
docstrings at run time) are its tooltip (issue #21). A new field appears here without
touching the GUI: the widget follows the field's type, the label its name, the line its docstring.
"""

from __future__ import annotations

import ast
import dataclasses
import html
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


PLAIN: dict[str, tuple[str, str]] = {
    "precision": ("Memory saving", "How the model's own weights are stored while it learns. Auto picks what fits."),
    "learning_rate": ("Learning speed", "How big each learning step is. Too high and the model forgets how to talk."),
    "epochs": ("Passes over the examples", "How many times the model reads every training example."),
    "max_steps": ("Stop after steps", "Stop after this many steps, whatever the passes say (0: no limit)."),
    "min_steps": ("At least steps", "Train at least this many steps, even on a page or two of documents (0: no floor)."),
    "batch_size": ("Examples at once", "How many examples are read together. More needs more memory."),
    "grad_accum": ("Steps combined", "Read this many batches before each update: like more examples at once, "
                   "without the memory."),
    "rest_said": ("Skip what it already knows", "An example the model already answers word for word sits out "
                  "its next pass: about a tenth faster, but it learns a little less."),
    "max_seq_len": ("Longest example", "Longest example in tokens (about ¾ of a word each); longer ones are cut."),
    "lora_r": ("Adapter size", "How much the model can add to what it knows. Bigger learns more, trains slower."),
    "lora_alpha": ("Adapter strength", "How strongly the added weights count against the original ones."),
    "lora_dropout": ("Adapter noise", "Randomly ignore part of the adapter while learning; 0 suits a few facts best."),
    "target_modules": ("Layers that learn", "Which parts of the model get added weights: all-linear is all of them."),
    "warmup_ratio": ("Warm-up share", "Share of the run spent easing the learning speed up from zero."),
    "weight_decay": ("Weight shrinking", "Gently pulls the added weights towards zero; 0 is usually right."),
    "val_fraction": ("Examples kept for checking", "Share of examples never trained on, used to check progress."),
    "eval_every": ("Check every … steps", "How often progress is checked on the kept examples (0: only at the end)."),
    "save_every": ("Save every … steps", "How often a checkpoint is saved, so a stopped run can resume."),
    "keep_checkpoints": ("Checkpoints kept", "How many of the newest checkpoints stay on disk."),
    "early_stopping_patience": ("Stop when no better after", "Stop when the check has not improved this many "
                                "times in a row (0: never stop early)."),
    "chunk_tokens": ("Passage size", "How long each passage of your documents is, in tokens."),
    "overlap_tokens": ("Passage overlap", "Tokens shared by neighbouring passages, so no fact is cut in half."),
    "qa_pairs": ("Teach questions and answers", "Ask a question about each fact in your documents and teach "
                 "its answer: what makes the model learn them."),
    "passages_in_context": ("Teach reading passages", "Also teach answering with passages beside the question, "
                            "as Chat with your documents asks. Off by default: it makes training take about half "
                            "as long again, and Chat, which answers from what the model learned first, was "
                            "measured no better for it."),
    "replay": ("Keep general knowledge", "Mix in general questions with the model's own answers, so it keeps "
               "what it knew."),
    "replay_count": ("General questions mixed in", "How many of those general questions a run mixes in."),
    "replay_distribution": ("Copy the original's confidence", "On those general questions, learn how sure the "
                            "original model was of every word, not only the words it chose."),
    "anchor": ("Hold on to what it knew", "0 to 1. Higher keeps more general knowledge in the tuned model on its "
               "own (an export), but it learns your facts less firmly and trains a little slower. 0 is off."),
    "passages": ("Teach whole passages", "Also teach whole passages, so the model can quote and summarise them."),
    "seed": ("Random seed", "The same number gives the same run again."),
    "compile": ("Speed up on this CPU", "Prepare the model's layers for this processor: steps get a little "
                "faster after a short wait. Auto decides."),
    "gradient_checkpointing": ("Save memory, train slower", "Memory-saving mode only: recompute instead of "
                               "storing, for less memory and about a third more time per step."),
}
"""Setting → (plain label, one plain line). The term of the trade and the exact explanation are the tooltip."""


def plain_label(name: str) -> str:
    return PLAIN[name][0] if name in PLAIN else label_for(name)


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
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        outer.addLayout(grid)
        self.labels: dict[str, QLabel] = {}
        self.help_labels: dict[str, QLabel] = {}
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
            plain = PLAIN.get(f.name, ("", doc))[1]
            tip = f"<b>{html.escape(label_for(f.name))}</b> ({f.name})" + (f"<p>{html.escape(doc)}</p>" if doc else "")
            label = QLabel(plain_label(f.name))
            label.setWordWrap(True)  # a long label wraps rather than pushing its input under the scroll bar
            label.setToolTip(tip)
            widget.setToolTip(tip)
            widget.setMinimumWidth(70)
            widget.setMaximumWidth(150)
            self.labels[f.name] = label
            grid.addWidget(label, row, 0)
            grid.addWidget(widget, row, 1)
            row += 1
            if plain:
                help_label = QLabel(plain)
                help_label.setObjectName("muted")
                help_label.setWordWrap(True)
                help_label.setToolTip(tip)
                self.help_labels[f.name] = help_label
                grid.addWidget(help_label, row, 0, 1, 2)
                grid.setRowMinimumHeight(row + 1, 8)
                row += 2
        grid.setColumnStretch(0, 1)

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
                        problems.append(f"{plain_label(name)} must be a number (got {text!r})")
                else:
                    out[name] = text
        if problems:
            raise ConfigError(problems)
        return out
