"""Train (classify projects): settings, Start / Stop / Resume, live loss curves, accuracy and macro-F1.

The same parts as the chat task's Train page: preparing the run is a Task
(gui/classify_jobs.py), training is the worker subprocess (gui.workers.TrainingProcess,
which core/worker.py routes to core/classify/train.py by run.json's task), the
curves are gui/plots.py's. Each validation check adds a ClassifierEval event: its
accuracy and macro-F1 are shown here, its confusion matrix on the Try-it page.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QPlainTextEdit, QProgressBar,
                               QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from core import projects
from core.classify.config import ClassifyConfig
from core.classify.prepare import is_classify_run
from core.classify.project import load_choice
from core.errors import TuneDeskError
from core.events import Caution, CheckpointSaved, ClassifierEval, EvalMetrics, Failed, Finished, Progress, StepMetrics
from core.runs import RunStatus, run_state
from core.store import RunDir
from gui.classify_jobs import prepare_job
from gui.context import AppContext
from gui.pages.home import run_status_text
from gui.plots import TrainingPlots
from gui.theme import mark_primary, set_icon
from gui.widgets import Card, Page, Stat, format_duration, muted
from gui.wording import for_app

IDLE, PREPARING, TRAINING, STOPPING = "idle", "preparing", "training", "stopping"


def classify_runs(project: Any) -> list[Any]:
    return [r for r in projects.list_runs(project) if is_classify_run(r.path)] if project else []


class ClassifyTrainPage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Train", "Teach the encoder your labels. Stop at any time and resume later from the last "
                                  "checkpoint.", parent)
        self.ctx = ctx
        self.state = IDLE
        self.run_path: Path | None = None
        self._prepare_task: Any = None
        self.process = ctx.workers.training
        self.process.event.connect(self._process_event)
        self.process.ended.connect(self._training_ended)

        self.run_combo = QComboBox()
        self.run_combo.setMinimumWidth(360)
        self.run_combo.currentIndexChanged.connect(self._run_selected)
        self.header_actions.addWidget(muted("Run", wrap=False))
        self.header_actions.addWidget(self.run_combo)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._settings_panel())
        split.addWidget(self._progress_panel())
        split.setStretchFactor(1, 1)
        split.setSizes([330, 900])
        self.body.addWidget(split, 1)
        ctx.project_changed.connect(lambda _p: self.refresh_runs())
        ctx.runs_changed.connect(self.refresh_runs)  # a run added, finished or deleted elsewhere (Try it, the CLI)
        ctx.documents_changed.connect(self._update_buttons)

    # Layout -----------------------------------------------------------------------------------
    def _settings_panel(self) -> QWidget:
        card = Card("Settings")
        defaults = ClassifyConfig()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.model_combo = QComboBox()
        self.model_combo.addItem("MiniLM (built in)", "minilm")  # the full name cut off in the settings column
        self.model_combo.setItemData(0, "all-MiniLM-L6-v2, the encoder that comes with TuneDesk",
                                     Qt.ItemDataRole.ToolTipRole)
        self.epochs = QDoubleSpinBox()
        self.epochs.setRange(0.5, 50)
        self.epochs.setSingleStep(1)
        self.epochs.setDecimals(1)
        self.epochs.setValue(defaults.epochs)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(1e-5, 1e-1)
        self.learning_rate.setSingleStep(1e-4)
        self.learning_rate.setValue(defaults.learning_rate)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 256)
        self.batch_size.setValue(defaults.batch_size)
        self.max_length = QSpinBox()
        self.max_length.setRange(16, 512)
        self.max_length.setValue(defaults.max_length)
        for label, widget, tip in (
                ("Model", self.model_combo, ClassifyConfig.__doc__ or ""),
                ("Epochs", self.epochs, "Passes over the training rows."),
                ("Learning rate", self.learning_rate, "Peak learning rate of the adapters and the head."),
                ("Batch size", self.batch_size, "Rows per optimiser step."),
                ("Longest text", self.max_length, "Tokens kept of each text; longer texts are cut.")):
            widget.setToolTip(tip)
            form.addRow(label, widget)
        card.add(form)
        card.add(muted("Rare labels weigh more in the loss, so an uneven data set still learns them. "
                       f"{int(defaults.val_fraction * 100)}% of each label's rows are kept aside to measure the model."))
        card.layout_.addStretch(1)
        self.start_hint = muted("Import labelled rows first, on the Data page.")
        card.add(self.start_hint)
        self.start_button = QPushButton("Start training")
        set_icon(self.start_button, "play")
        mark_primary(self.start_button)
        self.stop_button = QPushButton("Stop")
        set_icon(self.stop_button, "stop")
        self.resume_button = QPushButton("Resume")
        set_icon(self.resume_button, "resume")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(lambda: self.resume())
        card.add(self.start_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.resume_button)
        card.add(buttons)
        card.setMinimumWidth(300)
        return card

    def _progress_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        stats_card = Card()
        stats = QHBoxLayout()
        self.stats = {key: Stat(label) for key, label in (
            ("step", "step"), ("loss", "training loss"), ("accuracy", "accuracy"), ("f1", "macro-F1"),
            ("eta", "time left"))}
        for stat in self.stats.values():
            stats.addWidget(stat)
        stats_card.add(stats)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        stats_card.add(self.progress)
        self.status_label = muted("")
        stats_card.add(self.status_label)
        layout.addWidget(stats_card)
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

    # Runs and settings ----------------------------------------------------------------------------
    def config(self) -> ClassifyConfig:
        choice = load_choice(self.ctx.project) if self.ctx.project else None
        if choice is None:
            raise TuneDeskError("No labelled data chosen yet.", "Import a file on the Data page first.")
        config = ClassifyConfig(text_column=choice.text_column, label_column=choice.label_column,
                                model=str(self.model_combo.currentData() or "minilm"), epochs=self.epochs.value(),
                                learning_rate=self.learning_rate.value(), batch_size=self.batch_size.value(),
                                max_length=self.max_length.value())
        config.validate()
        return config

    def refresh_runs(self) -> None:
        keep = self.run_path
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        runs = classify_runs(self.ctx.project)
        for run in runs:
            self.run_combo.addItem(f"{run.label} · {run_status_text(run)}", str(run.path))
        if not runs:
            self.run_combo.addItem("No runs yet", None)
        index = self.run_combo.findData(str(keep)) if keep else -1
        self.run_combo.setCurrentIndex(max(0, index))
        self.run_combo.blockSignals(False)
        self._run_selected()

    def selected_run(self) -> Any:
        data = self.run_combo.currentData()
        return run_state(Path(data)) if data else None

    def _run_selected(self, *_args: Any) -> None:
        if self.state != IDLE:
            return
        run = self.selected_run()
        if run is None or run.path != self.run_path:
            self.log.clear()
        self.run_path = run.path if run else None
        self.plots.clear()
        self._set_stats(None)
        if run is not None:
            records = RunDir(run.path).read_metrics()
            self.plots.load(records)
            steps = [r for r in records if r.get("type") == "step"]
            evals = [r for r in records if r.get("type") == "classify"]
            if steps:
                self._set_step(steps[-1]["step"], steps[-1]["total_steps"], steps[-1]["loss"], 0.0)
            if evals:
                self._set_quality(evals[-1]["accuracy"], evals[-1]["macro_f1"])
            self.status_label.setText(run.describe() + (" Press Resume to continue." if run.resumable else ""))
        self._update_buttons()

    def _set_stats(self, _none: None) -> None:
        for stat in self.stats.values():
            stat.set("—")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label.setText("")

    def _set_step(self, step: int, total: int, loss: float, eta: float) -> None:
        self.stats["step"].set(f"{step} / {total}")
        self.stats["loss"].set(f"{loss:.3f}")
        self.stats["eta"].set(format_duration(eta) if self.state != IDLE else "—")
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(step)

    def _set_quality(self, accuracy: float, macro_f1: float) -> None:
        self.stats["accuracy"].set(f"{accuracy:.1%}")
        self.stats["f1"].set(f"{macro_f1:.3f}")

    def _update_buttons(self) -> None:
        project = self.ctx.project
        has_data = project is not None and load_choice(project) is not None
        run = self.selected_run() if self.state == IDLE else None
        self.start_button.setEnabled(self.state == IDLE and has_data)
        self.start_hint.setVisible(self.state == IDLE and not has_data)
        self.resume_button.setEnabled(self.state == IDLE and run is not None and run.resumable)
        self.stop_button.setEnabled(self.state in (PREPARING, TRAINING))
        self.stop_button.setText("Stopping…" if self.state == STOPPING else "Stop")
        self.run_combo.setEnabled(self.state == IDLE)
        for widget in (self.model_combo, self.epochs, self.learning_rate, self.batch_size, self.max_length):
            widget.setEnabled(self.state == IDLE)

    # Start / stop / resume ----------------------------------------------------------------------
    def start(self) -> None:
        project = self.ctx.project
        if project is None or self.state != IDLE:
            return
        if self.ctx.workers.training.is_running():
            self.ctx.notifier.warning("A training run is already going.", "Wait for it or stop it first.")
            return
        try:
            config = self.config()
        except TuneDeskError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        choice = load_choice(project)
        run = projects.new_run_dir(project)
        self._begin(run, PREPARING)
        self.log_line(f"New run {run.name}: {config.model}, {config.epochs:g} epochs")
        self.status_label.setText("Reading the data and keeping a validation set aside…")
        self._prepare_task = self.ctx.workers.run(
            prepare_job(Path(choice.file), run, config, choice.has_header), "prepare-classify-run",  # type: ignore[union-attr]
            on_event=self._process_event, on_success=lambda _r: self._launch(run, resume=False),
            on_failure=lambda _e: self._prepare_ended(run, "Could not prepare the run."),
            on_done=self._prepare_done)
        self._prepare_task.cancelled.connect(lambda: self._prepare_ended(run, "Stopped before training began."))

    def _prepare_done(self) -> None:
        self._prepare_task = None

    def _prepare_ended(self, run: Path, message: str) -> None:
        import shutil

        if run_state(run).status in (RunStatus.UNKNOWN, RunStatus.PREPARED):
            shutil.rmtree(run, ignore_errors=True)
        self.run_path = None
        self._finish_idle(message)

    def resume(self, run: Path | None = None) -> None:
        selected = self.selected_run()
        target = Path(run) if run else (selected.path if selected else None)
        if target is None or self.state != IDLE:
            return
        self._begin(target, TRAINING)
        self.plots.load(RunDir(target).read_metrics())
        self.log_line(f"Resuming {target.name} from its last checkpoint…")
        self._launch(target, resume=True)

    def _begin(self, run: Path, state: str) -> None:
        self.state = state
        self.run_path = run
        self.log.clear()
        self.plots.clear()
        self._set_stats(None)
        self._update_buttons()

    def _launch(self, run: Path, resume: bool) -> None:
        self.state = TRAINING
        self.ctx.runs_changed.emit()
        self.status_label.setText("Loading the model…")
        self.progress.setRange(0, 0)
        self.process.start(run, resume=resume)
        self.refresh_runs()
        self._update_buttons()

    def stop(self) -> None:
        if self.state == PREPARING and self._prepare_task is not None:
            self._prepare_task.cancel()
        elif self.state == TRAINING:
            self.process.stop()
            self.status_label.setText("Stopping at the end of this step and saving a checkpoint…")
        else:
            return
        self.state = STOPPING
        self._update_buttons()

    def _training_ended(self, outcome: str) -> None:
        if self.state == IDLE:  # a chat project's run: not ours
            return
        words = {"finished": "Training finished.", "stopped": "Stopped. Press Resume to continue later.",
                 "failed": "Training failed — see the message above."}
        self._finish_idle(words.get(outcome, outcome))
        if outcome == "finished":
            self.ctx.notifier.info("Your classifier is trained.", "Open Try it to label text with it, and to see "
                                   "which validation rows it gets wrong.",
                                   actions=(("Try it", lambda: self.ctx.navigate.emit("try")),), page="try")

    def _finish_idle(self, message: str) -> None:
        self.state = IDLE
        self.refresh_runs()
        self.status_label.setText(message)
        self.ctx.runs_changed.emit()
        self._update_buttons()

    # Events -----------------------------------------------------------------------------------------
    def _process_event(self, event: Any) -> None:
        if self.state == IDLE:  # the training process is shared: a chat run's events are not ours
            return
        if isinstance(event, StepMetrics):
            self.plots.add_step(event)
            self._set_step(event.step, event.total_steps, event.loss, event.eta_s)
            self.status_label.setText(f"Training — epoch {event.epoch:.1f}, {format_duration(event.elapsed_s)} so far")
        elif isinstance(event, EvalMetrics):
            self.plots.add_eval(event)
        elif isinstance(event, ClassifierEval):
            self._set_quality(event.accuracy, event.macro_f1)
            self.log_line(f"Step {event.step}: accuracy {event.accuracy:.1%}, macro-F1 {event.macro_f1:.3f}")
        elif isinstance(event, CheckpointSaved):
            self.log_line(f"Checkpoint saved at step {event.step}")
        elif isinstance(event, Finished):
            self.log_line(event.message or "Finished.")
        elif isinstance(event, Failed):
            self.log_line(f"Failed: {event.message}" + (f" — {event.hint}" if event.hint else ""))
        elif isinstance(event, Caution):
            self.log_line(f"Note: {event.message}")
            self.ctx.notifier.warning(event.message)
        elif isinstance(event, Progress):
            self.log_line(event.message)
            if not self.plots.series["loss"].x:
                self.status_label.setText(event.message)

    def log_line(self, text: str) -> None:
        self.log.appendPlainText(f"{_dt.datetime.now():%H:%M:%S}  {for_app(text)}")
