"""Train: a preset (every setting one click away), Start / Stop / Resume, live curves, ETA, log.

Preparing a run (reading documents, building examples) is a Task on a
QThread; training itself is the worker subprocess (gui.workers.TrainingProcess).
This page only turns their events into numbers, curves and words. About 400 lines as one
idea: the settings, the buttons and the live view all follow the one selected run's state.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QSplitter, QToolButton, QVBoxLayout, QWidget)

from core import projects
from core.errors import TuneDeskError
from core.pipeline import request_preparation
from core.progress import duration_words
from core.events import Caution, CheckpointSaved, EvalMetrics, Failed, Finished, Progress, Stage, StepMetrics
from core.runs import RunState, run_state
from core.store import RunDir
from core.training.config import PRESET_HELP, PRESETS, TrainConfig
from gui.context import AppContext
from gui.pages.home import run_status_text
from gui.plots import TrainingPlots
from gui.report_view import ReportView
from gui.run_actions import RunActions, RunMenuButton
from gui.settings_form import ConfigForm, preset_values
from gui.theme import mark_primary, set_icon
from gui.widgets import Card, Page, PresetButton, Stat, StatGrid, format_duration, muted, scrolling
from gui.wording import for_app

IDLE, PREPARING, TRAINING, STOPPING = "idle", "preparing", "training", "stopping"


class TrainPage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Train", "Teach the model your documents. You can stop at any time and resume later "
                                  "from the last checkpoint.", parent)
        self.ctx = ctx
        self.state = IDLE
        self._announced = True  # the run being prepared is in the lists (the worker holds its lock)
        self._finished_training = False  # the steps are done: what follows is the "did it learn?" check
        self.run_path: Path | None = None  # the run shown (and trained, while busy)
        self.process = ctx.workers.training
        self.process.event.connect(self.on_event)
        self.process.log.connect(self.log_line)
        self.process.ended.connect(self._training_ended)

        self.run_combo = QComboBox()
        self.run_combo.setMinimumWidth(240)
        self.run_combo.currentIndexChanged.connect(self._run_selected)
        self.header_actions.addWidget(muted("Run", wrap=False))
        self.header_actions.addWidget(self.run_combo)
        self.run_menu_button = RunMenuButton(RunActions(ctx, self), lambda: self.run_path if self.state == IDLE else None)
        self.header_actions.addWidget(self.run_menu_button)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("The selected run's tuned model for Ollama, llama.cpp or transformers, checked")
        self.export_button.clicked.connect(self.open_export)
        self.header_actions.addWidget(self.export_button)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._settings_panel())
        split.addWidget(scrolling(self._progress_panel()))  # a small window scrolls it; nothing overlaps
        split.setStretchFactor(1, 1)
        split.setSizes([330, 900])
        self.body.addWidget(split, 1)

        ctx.project_changed.connect(lambda _p: self.refresh_runs(select_newest=True))
        ctx.documents_changed.connect(self._update_buttons)
        ctx.runs_changed.connect(lambda: self.refresh_runs() if self.state == IDLE else None)  # renamed, deleted
        self.choose_preset("standard")
        self.refresh_runs(select_newest=True)

    # Layout -----------------------------------------------------------------------------
    def _settings_panel(self) -> QWidget:
        card = Card("How thoroughly?")
        # Presets, advanced settings and their descriptions scroll together above the buttons, which stay put:
        # a small window scrolls them instead of clipping inputs or hiding the descriptions (issue #21).
        choices = QWidget()
        choices.setObjectName("formArea")
        choices_layout = QVBoxLayout(choices)
        choices_layout.setContentsMargins(0, 0, 0, 0)
        choices_layout.setSpacing(10)
        self.preset_group = QButtonGroup(self)
        self.preset_buttons: dict[str, QPushButton] = {}
        for name in PRESETS:
            button = PresetButton(name.capitalize(), PRESET_HELP.get(name, ""))
            button.clicked.connect(lambda _c=False, n=name: self.choose_preset(n))
            self.preset_group.addButton(button)
            self.preset_buttons[name] = button
            choices_layout.addWidget(button)
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setText("Advanced settings")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        set_icon(self.advanced_toggle, "settings")
        choices_layout.addWidget(self.advanced_toggle)
        self.form = ConfigForm()
        self.form.changed.connect(self._form_changed)
        self.form.setObjectName("formArea")
        self.form.setVisible(False)
        self.advanced_toggle.toggled.connect(self._show_advanced)
        choices_layout.addWidget(self.form)
        self.preset_note = muted("")
        choices_layout.addWidget(self.preset_note)
        choices_layout.addStretch(1)
        self.form_scroll = scrolling(choices)
        self.form_scroll.viewport().setObjectName("formArea")
        card.add(self.form_scroll, 1)
        self.start_button = QPushButton("Start training")
        set_icon(self.start_button, "play")
        mark_primary(self.start_button)
        self.stop_button = QPushButton("Stop")
        set_icon(self.stop_button, "stop")
        self.resume_button = QPushButton("Resume")
        set_icon(self.resume_button, "resume")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.start_button.setToolTip("Start a new run (Ctrl+Return)")
        self.stop_button.setToolTip("Stop at the next step and save a checkpoint (Ctrl+.)")
        self.resume_button.setToolTip("Continue the selected run from its last checkpoint")
        self.start_hint = muted("Add documents first, on the Documents page.")
        self.start_hint.hide()
        card.add(self.start_hint)
        card.add(self.start_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.resume_button)
        card.add(buttons)
        card.setMinimumWidth(270)
        return card

    def _progress_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        stats_card = Card()
        self.stats = {key: Stat(label) for key, label in (
            ("step", "step"), ("loss", "training loss"), ("val", "validation loss"), ("eta", "time left"),
            ("speed", "tokens / s"))}
        self.stat_grid = StatGrid(self.stats.values())  # wraps onto two rows rather than cut a number off
        stats_card.add(self.stat_grid)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        stats_card.add(self.progress)
        self.status_label = muted("")
        stats_card.add(self.status_label)
        self.estimate_label = muted("")
        stats_card.add(self.estimate_label)
        layout.addWidget(stats_card)
        self.overfit_label = QLabel()
        self.overfit_label.setObjectName("overfitWarning")
        self.overfit_label.setWordWrap(True)
        self.overfit_label.hide()
        layout.addWidget(self.overfit_label)
        self.report_view = ReportView(self.ctx, compact=True)  # "did it learn?" of the selected finished run
        layout.addWidget(self.report_view)
        vertical = QSplitter(Qt.Orientation.Vertical)
        self.plots = TrainingPlots()
        vertical.addWidget(self.plots)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("What the training is doing appears here.")
        vertical.addWidget(self.log)
        vertical.setSizes([520, 110])
        layout.addWidget(vertical, 1)
        return panel

    # Settings ---------------------------------------------------------------------------
    def _show_advanced(self, on: bool) -> None:
        self.form.setVisible(on)  # below the presets, whose descriptions stay: the panel scrolls

    def choose_preset(self, name: str) -> None:
        self._preset = name
        self.form.set_values(preset_values(name))
        self.preset_buttons[name].setChecked(True)

    def _form_changed(self) -> None:
        try:
            custom = self.form.values() != preset_values(self._preset)
        except TuneDeskError:
            custom = True
        self.preset_note.setText(f"Based on {self._preset.capitalize()}, with your changes." if custom else "")

    def config(self) -> TrainConfig:
        """The settings on screen as a validated TrainConfig (ConfigError lists every problem)."""
        values = self.form.values()
        preset = self._preset if values == preset_values(self._preset) else "custom"
        model = self.ctx.project.model if self.ctx.project else "demo"
        config = TrainConfig(model=model, preset=preset, **values)
        config.validate()
        return config

    # Runs ---------------------------------------------------------------------------------
    def refresh_runs(self, select_newest: bool = False) -> None:
        project = self.ctx.project
        keep = None if select_newest else self.run_path
        if self.state != IDLE:
            keep = self.run_path
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        runs = projects.list_runs(project) if project else []
        for run in runs:
            self.run_combo.addItem(f"{run.label} · {run_status_text(run)}", str(run.path))
        if not runs:
            self.run_combo.addItem("No runs yet", None)
        index = max(0, self.run_combo.findData(str(keep))) if keep else 0
        self.run_combo.setCurrentIndex(index)
        self.run_combo.blockSignals(False)
        self._run_selected()

    def selected_run(self) -> RunState | None:
        data = self.run_combo.currentData()
        return run_state(Path(data)) if data else None

    def _run_selected(self, *_args: Any) -> None:
        if self.state != IDLE:
            return
        run = self.selected_run()
        new_path = run.path if run else None
        if new_path != self.run_path:  # the log and warning belong to the run they came from
            self.overfit_label.hide()
            self.log.clear()
        self.run_path = new_path
        self.report_view.show_run(new_path)
        if run is None:
            self.plots.clear()
            self._set_stats(None)
        else:
            self.plots.load(RunDir(run.path).read_metrics())
            self._show_saved(run)
        self._update_buttons()

    def _show_saved(self, run: RunState) -> None:
        records = RunDir(run.path).read_metrics()
        steps = [r for r in records if r.get("type") == "step"]
        evals = [r for r in records if r.get("type") == "eval"]
        self._set_stats(steps[-1] if steps else None, evals[-1]["val_loss"] if evals else None, run.total_steps)
        if run.resumable:  # the words and the button come from the same RunState, so they cannot disagree
            self.status_label.setText(f"{run.describe()} Press Resume to continue.")
        elif run.trained_elsewhere:
            self.status_label.setText(f"{run.describe()} Wait for it to finish, or stop it there.")
        else:
            self.status_label.setText(run_status_text(run))
        try:
            meta = RunDir(run.path).read_run()
        except TuneDeskError:
            meta = {}
        estimate = for_app((meta.get("estimate") or {}).get("message", ""))
        measured = [f"{duration_words(meta['measured_seconds_per_step'])} per step"] if meta.get(
            "measured_seconds_per_step") else []
        measured += [f"peak memory {meta['peak_memory_gb']:.1f} GB"] if meta.get("peak_memory_gb") else []
        self.estimate_label.setText(f"Estimated before training: {estimate}"
                                    + (f" Measured: {', '.join(measured)}." if measured else "") if estimate else "")

    def _set_stats(self, step: dict[str, Any] | None, val: float | None = None, total: int = 0) -> None:
        if step is None:
            for stat in self.stats.values():
                stat.set("—")
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.status_label.setText("")
            return
        total = int(step.get("total_steps") or total or 1)
        self.stats["step"].set(f"{step['step']} / {total}")
        self.stats["loss"].set(f"{step['loss']:.3f}")
        self.stats["val"].set("—" if val is None or math.isnan(val) else f"{val:.3f}")
        self.stats["eta"].set(format_duration(step.get("eta_s", 0)) if self.state != IDLE else "—")
        self.stats["speed"].set(f"{step['tokens_per_second']:.0f}")
        self.progress.setRange(0, total)
        self.progress.setValue(step["step"])

    def _update_buttons(self) -> None:
        has_project = self.ctx.project is not None
        has_docs = has_project and bool(projects.document_files(self.ctx.project))
        run = self.selected_run() if self.state == IDLE else None
        self.start_button.setEnabled(self.state == IDLE and has_docs)
        resumable = self.state == IDLE and run is not None and run.resumable
        self.resume_button.setEnabled(resumable)
        # A stopped run's next step is Resume: it is the main action then, and Start says it begins another run.
        self.start_button.setText("Start a new run" if resumable else "Start training")
        mark_primary(self.resume_button, resumable)
        mark_primary(self.start_button, not resumable)
        self.stop_button.setEnabled(self.state in (PREPARING, TRAINING))
        self.stop_button.setText("Stopping…" if self.state == STOPPING else "Stop")
        self.run_combo.setEnabled(self.state == IDLE)
        self.export_button.setEnabled(self.state == IDLE and run is not None and run.has_adapter)
        for button in self.preset_buttons.values():
            button.setEnabled(self.state == IDLE)
        self.form.setEnabled(self.state == IDLE)
        self.start_hint.setVisible(has_project and not has_docs and self.state == IDLE)

    # Start / stop / resume -------------------------------------------------------------------
    def start(self) -> None:
        project = self.ctx.project
        if project is None or self.state != IDLE:
            return
        try:
            config = self.config()
        except TuneDeskError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        run = projects.new_run_dir(project)
        try:  # a few hundred bytes: the documents folder and the settings, for the worker to prepare from
            request_preparation(run, [project.documents_dir], config)
        except OSError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        self._begin(run, PREPARING)
        self.log_line(f"New run {run.name}: preset {config.preset}, model {config.model}")
        self.status_label.setText("Starting: loading the model and reading your documents…")
        self.progress.setRange(0, 0)
        # Preparing runs in the training worker process, as from the command line: in the app's own process it
        # took 2–3× as long (core/pipeline.py request_preparation), and a stop ends it at once.
        self.process.start(run, prepare=True)
        self.refresh_runs()
        self._update_buttons()

    def _preparation_ended(self, run: Path) -> bool:
        """After the worker ended: a folder that never became a trainable run is removed. True if it was."""
        import shutil

        if not RunDir(run).run_json.is_file():  # stopped or failed while preparing (core/pipeline.py writes it last)
            shutil.rmtree(run, ignore_errors=True)
            self.run_path = None
            return True
        return False

    def resume(self, run: Path | None = None) -> None:
        target = Path(run) if run else (self.selected_run().path if self.selected_run() else None)
        if target is None or self.state != IDLE:
            return
        self._begin(target, TRAINING)
        self.plots.load(RunDir(target).read_metrics())
        self.log_line(f"Resuming {target.name} from its last checkpoint…")
        self._launch(target, resume=True)

    def _begin(self, run: Path, state: str) -> None:
        self.state = state
        self._announced = state != PREPARING
        self._finished_training = False
        self.estimate_label.clear()
        self.run_path = run
        self.report_view.show_run(None)
        self.overfit_label.hide()
        self.log.clear()
        self.plots.clear()
        self._set_stats(None)
        self._update_buttons()

    def _launch(self, run: Path, resume: bool) -> None:
        self.state = TRAINING
        self.status_label.setText("Loading the model…")
        self.progress.setRange(0, 0)
        self.process.start(run, resume=resume)
        self.refresh_runs()
        self._update_buttons()

    def stop(self) -> None:
        if self.state == PREPARING:
            self.process.stop()  # nothing to save yet: the worker ends at once
            self.status_label.setText("Stopping…")
        elif self.state == TRAINING:
            self.process.stop()
            self.status_label.setText("Stopping the check of what it learned (the model is trained and saved)…"
                                      if self._finished_training else
                                      "Stopping at the end of this step and saving a checkpoint…")
        else:
            return
        self.state = STOPPING
        self._update_buttons()

    def open_export(self) -> None:
        """The Export dialog for the selected run (its work runs on a worker: gui/export_dialog.py)."""
        from gui.export_dialog import ExportDialog

        run = self.selected_run()
        if run is not None and run.has_adapter:
            self.export_dialog = ExportDialog(self.ctx, run.path, self)
            self.export_dialog.open()

    def _training_ended(self, outcome: str) -> None:
        if self.state == IDLE:  # the training process is shared: a classify project's run is not this page's
            return
        words = {"finished": "Training finished.", "stopped": "Stopped. Press Resume to continue later.",
                 "failed": "Training failed — see the message above."}
        if self.state in (PREPARING, STOPPING) and self.run_path is not None and self._preparation_ended(self.run_path):
            words = {"stopped": "Stopped before training began.", "failed": "Could not prepare the run — see the message above."}
        self._finish_idle(words.get(outcome, outcome))
        if outcome == "finished":
            self.ctx.notifier.info("Your model is trained.", "Open Chat to talk to it, or Compare to see what changed.",
                                   actions=(("Chat with it", lambda: self.ctx.navigate.emit("chat")),), page="chat")

    def _finish_idle(self, message: str) -> None:
        self.state = IDLE
        self.ctx.runs_changed.emit()  # every list, this page's picker too (it refreshes on runs_changed when idle)
        self.status_label.setText(message)  # after: the refresh shows the run's saved state, this says what ended
        self._update_buttons()

    # Events ------------------------------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        if self.state == IDLE:  # the training process is shared: a classify project's events are not this page's
            return
        if self.state == PREPARING and not self._announced:  # the worker holds the run now: lists say "Preparing"
            self._announced = True
            self.ctx.runs_changed.emit()
        if self.state == PREPARING and (isinstance(event, StepMetrics)
                                        or (isinstance(event, Progress) and event.stage == Stage.TRAIN)):
            self.state = TRAINING
            self.refresh_runs()
            self.ctx.runs_changed.emit()
            self._update_buttons()
        if isinstance(event, StepMetrics):
            self.plots.add_step(event)
            self.run_combo.setItemText(self.run_combo.currentIndex(), f"{self.run_path.name if self.run_path else ''}"
                                       f" · Training · step {event.step}/{event.total_steps}")
            last_val = self.plots.series["val_loss"].y[-1] if self.plots.series["val_loss"].y else None
            self._set_stats(vars(event), last_val)
            self.status_label.setText(f"Training — epoch {event.epoch:.1f}, {format_duration(event.elapsed_s)} so far")
        elif isinstance(event, EvalMetrics):
            self.plots.add_eval(event)
            self.stats["val"].set(f"{event.val_loss:.3f}")
            self.log_line(f"Step {event.step}: validation loss {event.val_loss:.3f} (training {event.train_loss:.3f})")
            if event.overfitting:
                self.overfit_label.setText("⚠  " + (event.message or "The model may be memorising instead of learning."))
                self.overfit_label.show()
        elif isinstance(event, CheckpointSaved):
            self.log_line(f"Checkpoint saved at step {event.step}")
        elif isinstance(event, Finished):
            self.log_line(event.message or "Finished.")
            self._finished_training = not event.stopped_by_user
        elif isinstance(event, Failed):
            self.log_line(f"Failed: {event.message}" + (f" — {event.hint}" if event.hint else ""))
        elif isinstance(event, Caution):  # a skipped file, a run that may not fit, an early stop: worth a banner
            self.log_line(f"Note: {event.message}")
            self.ctx.notifier.warning(event.message)
        elif isinstance(event, Progress):
            self._show_progress(event)

    def _show_progress(self, event: Progress) -> None:
        """Preparation and the final check report counted work: a filling bar and "37/120 · about 2 minutes
        left" instead of an endless busy bar (issue #21). A tick (one answer of many) updates without a log line."""
        if not event.tick or event.done == event.total:
            self.log_line(event.message)
        if event.stage == Stage.ESTIMATE:  # core.pipeline.preflight: memory and time, in words
            self.estimate_label.setText(for_app(event.message))
        between_steps = self.state != PREPARING and self.plots.series["loss"].x and not self._finished_training
        if self.state == STOPPING or between_steps:
            return
        self.status_label.setText(for_app(event.message))
        if event.total > 0:
            self.progress.setRange(0, event.total)
            self.progress.setValue(min(event.done, event.total))
        else:
            self.progress.setRange(0, 0)

    def log_line(self, text: str) -> None:
        self.log.appendPlainText(f"{_dt.datetime.now():%H:%M:%S}  {for_app(text)}")
