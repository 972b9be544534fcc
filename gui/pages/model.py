"""Model: the built-in demo model, a local model folder or a GGUF file; what it is, whether it fits, and what it
supports here (training, 4-bit, the fast CPU chat: core/support.py)."""

from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QRadioButton, QVBoxLayout, QWidget)

from core import projects
from core.events import Progress
from core.support import Support
from gui import dialogs
from gui.context import AppContext
from gui.jobs import ModelReport, download_job, inspect_model_job
from gui.theme import mark_primary, set_icon
from gui.widgets import BusyLine, Card, Page, format_bytes, format_count, muted, scrolling


class ModelPage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Model", "The language model your project starts from. The demo model is small, "
                                  "built in, and trains in minutes on any computer.", parent)
        self.ctx = ctx
        self.report: ModelReport | None = None
        self._task = None
        self._download_task = None
        self.hub_endpoint: str | None = None  # None: huggingface.co (or HF_ENDPOINT); a mirror's URL otherwise

        choose = Card("Base model")
        self.group = QButtonGroup(self)
        self.demo_radio = QRadioButton("Built-in demo model — SmolLM2-135M-Instruct (works offline)")
        self.folder_radio = QRadioButton("A model folder on this computer (Hugging Face format)")
        self.gguf_radio = QRadioButton("A GGUF file (converted once, about 20 seconds)")
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(8)
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Folder with config.json and model.safetensors")
        self.gguf_edit = QLineEdit()
        self.gguf_edit.setPlaceholderText("A .gguf file")
        browse_folder = QPushButton("Browse…")
        set_icon(browse_folder, "folder")
        browse_gguf = QPushButton("Browse…")
        set_icon(browse_gguf, "folder")
        browse_folder.clicked.connect(self._browse_folder)
        browse_gguf.clicked.connect(self._browse_gguf)
        grid.addWidget(self.demo_radio, 0, 0, 1, 3)
        grid.addWidget(self.folder_radio, 1, 0, 1, 3)
        grid.addWidget(self.folder_edit, 2, 1)
        grid.addWidget(browse_folder, 2, 2)
        grid.addWidget(self.gguf_radio, 3, 0, 1, 3)
        grid.addWidget(self.gguf_edit, 4, 1)
        grid.addWidget(browse_gguf, 4, 2)
        grid.setColumnMinimumWidth(0, 18)
        grid.setColumnStretch(1, 1)
        for i, radio in enumerate((self.demo_radio, self.folder_radio, self.gguf_radio)):
            self.group.addButton(radio, i)
        self.demo_radio.setChecked(True)
        self.folder_edit.textEdited.connect(lambda _t: self.folder_radio.setChecked(True))
        self.gguf_edit.textEdited.connect(lambda _t: self.gguf_radio.setChecked(True))
        choose.add(grid)
        row = QHBoxLayout()
        self.use_button = QPushButton("Use this model")
        set_icon(self.use_button, "arrow_right")
        mark_primary(self.use_button)
        self.use_button.clicked.connect(self.use_selected)
        self.busy = BusyLine()
        row.addWidget(self.use_button)
        row.addWidget(self.busy, 3)
        row.addStretch(1)
        choose.add(row)
        # The cards scroll as one: at the 960×640 minimum they do not fit, and squeezed they clipped and overlapped.
        cards = QWidget()
        stack = QVBoxLayout(cards)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(self.body.spacing())
        stack.addWidget(choose)
        stack.addWidget(self._hub_card())

        about = Card("About this model")
        form = QFormLayout()
        form.setHorizontalSpacing(24)
        form.setVerticalSpacing(8)
        self.fields: dict[str, QLabel] = {}
        for key, label in (("name", "Name"), ("architecture", "Architecture"), ("params", "Parameters"),
                           ("size", "Size on disk"), ("template", "Chat format"), ("device", "This computer"),
                           ("precision", "Training precision"), ("fits", "Fits this computer?"),
                           ("supports", "Supported here")):
            value = QLabel("—")
            value.setWordWrap(True)
            self.fields[key] = value
            form.addRow(muted(label, wrap=False), value)
        about.add(form)
        stack.addWidget(about)
        stack.addStretch(1)
        self.body.addWidget(scrolling(cards))

        ctx.project_changed.connect(self._on_project)
        self._on_project(ctx.project)

    def _hub_card(self) -> Card:
        card = Card("Download from the Hugging Face Hub")
        row = QHBoxLayout()
        self.hub_edit = QLineEdit()
        self.hub_edit.setPlaceholderText("owner/name, e.g. HuggingFaceTB/SmolLM2-360M-Instruct")
        self.hub_edit.returnPressed.connect(self.download)
        self.download_button = QPushButton("Download")
        set_icon(self.download_button, "download")
        self.download_button.clicked.connect(self.download)
        self.cancel_download_button = QPushButton("Cancel")
        set_icon(self.cancel_download_button, "stop")
        self.cancel_download_button.clicked.connect(self.cancel_download)
        self.cancel_download_button.hide()
        self.token_button = QPushButton("Hub token…")
        self.token_button.setToolTip("Save a Hugging Face access token, for gated or private models "
                                     "(kept in the system keyring)")
        self.token_button.clicked.connect(self.save_hub_token)
        row.addWidget(self.hub_edit, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_download_button)
        row.addWidget(self.token_button)
        card.add(row)
        self.download_bar = QProgressBar()
        self.download_bar.hide()
        card.add(self.download_bar)
        self.download_label = muted("Downloads go to TuneDesk's models folder, resume if the connection drops, and "
                                    "are used from there; for gated models, save an access token with Hub token….")
        card.add(self.download_label)
        return card

    def save_hub_token(self) -> None:
        """What `tunedesk models login` does, from the app: the keyring may ask the system, so on a worker."""
        token = dialogs.ask_secret(self, "Hugging Face access token",
                                   "Paste an access token (huggingface.co → Settings → Access Tokens):")
        if token is None:
            return
        endpoint = self.hub_endpoint

        def save(_emit: object, _stop: object) -> None:
            from core.models.hub_token import save_token

            save_token(token, endpoint)

        self.ctx.workers.run(save, "save-hub-token", on_success=lambda _r: self.ctx.notifier.info(
            "Access token saved.", "Downloads of gated or private models use it from now on."))

    # Downloading (resumable and cancellable; only when asked) -------------------------------
    def download(self) -> None:
        repo = self.hub_edit.text().strip()
        if not repo or self._download_task is not None:
            return
        self.download_button.setEnabled(False)
        self.cancel_download_button.show()
        self.download_bar.setRange(0, 0)
        self.download_bar.show()
        self._download_task = self.ctx.workers.run(
            download_job(repo, self.hub_endpoint), "download", on_event=self._download_event,
            on_success=self._downloaded, on_done=self._download_done)
        self._download_task.cancelled.connect(
            lambda: self.download_label.setText("Download stopped. What arrived is kept: Download again to resume."))

    def cancel_download(self) -> None:
        if self._download_task is not None:
            self._download_task.cancel()

    def _download_event(self, event: object) -> None:
        if isinstance(event, Progress):
            self.download_label.setText(event.message)
            if event.total:
                self.download_bar.setRange(0, 1000)
                self.download_bar.setValue(int(1000 * event.done / event.total))

    def _downloaded(self, entry: object) -> None:
        name = getattr(entry, "name", "")
        self.download_label.setText(f"Downloaded {name}. It is now this project's model.")
        self.folder_edit.setText(getattr(entry, "path", ""))
        self.folder_radio.setChecked(True)
        self.inspect(name, save=True)

    def _download_done(self) -> None:
        self._download_task = None
        self.download_button.setEnabled(True)
        self.cancel_download_button.hide()
        self.download_bar.hide()

    # Choosing --------------------------------------------------------------------------
    def selected_spec(self) -> str:
        if self.folder_radio.isChecked():
            return self.folder_edit.text().strip()
        if self.gguf_radio.isChecked():
            return self.gguf_edit.text().strip()
        return "demo"

    def set_spec(self, spec: str) -> None:
        if spec == "demo":
            self.demo_radio.setChecked(True)
        elif spec.lower().endswith(".gguf"):
            self.gguf_radio.setChecked(True)
            self.gguf_edit.setText(spec)
        else:
            self.folder_radio.setChecked(True)
            self.folder_edit.setText(spec)

    def _browse_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Choose a model folder")
        if folder:
            self.folder_edit.setText(folder)
            self.folder_radio.setChecked(True)

    def _browse_gguf(self) -> None:
        file = dialogs.choose_file(self, "Choose a GGUF file", "GGUF models (*.gguf)")
        if file:
            self.gguf_edit.setText(file)
            self.gguf_radio.setChecked(True)

    def _on_project(self, project: projects.Project | None) -> None:
        self.use_button.setEnabled(project is not None)
        if project is not None:
            self.set_spec(project.model)
            if self.isVisible():
                self.showEvent(None)

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        """Inspect when shown, not on every project change: detecting the device imports torch (seconds)."""
        if event is not None:
            super().showEvent(event)  # type: ignore[arg-type]
        project = self.ctx.project
        if project is not None and self._task is None and (self.report is None or self.report.spec != project.model):
            self.inspect(project.model, save=False)

    def use_selected(self) -> None:
        spec = self.selected_spec()
        if not spec:
            self.ctx.notifier.warning("No model chosen.", "Pick the demo model, or choose a folder or a .gguf file.")
            return
        self.inspect(spec, save=True)

    # Inspecting (off the main thread: a GGUF conversion takes ~20 s) -------------------------
    def inspect(self, spec: str, save: bool) -> None:
        if self._task is not None:
            self._task.cancel()
        self.use_button.setEnabled(False)
        self.busy.start("Reading the model…")
        self._generation = generation = getattr(self, "_generation", 0) + 1
        self._task = self.ctx.workers.run(
            inspect_model_job(spec), "inspect-model",
            on_event=lambda e: self.busy.message(e.message) if isinstance(e, Progress) else None,
            on_success=lambda report: self._show(report, save) if generation == self._generation else None,
            on_failure=lambda exc: self._failed(exc) if generation == self._generation else None,
            on_done=lambda: self._done(generation))

    def _done(self, generation: int) -> None:
        if generation != self._generation:
            return  # an older request that was superseded
        self._task = None
        self.busy.stop()
        self.use_button.setEnabled(self.ctx.project is not None)

    def _failed(self, exc: BaseException) -> None:
        for value in self.fields.values():
            value.setText("—")
        self.fields["supports"].setToolTip("")
        self.fields["fits"].setText(f"Could not use this model: {getattr(exc, 'message', exc)}")
        self.fields["fits"].setObjectName("statusBad")
        self._repolish(self.fields["fits"])

    def _show(self, report: ModelReport, save: bool) -> None:
        self.report = report
        info, device = report.info, report.device
        self.fields["name"].setText(info.name)
        self.fields["architecture"].setText(info.architecture)
        self.fields["params"].setText(f"{format_count(info.params)} ({info.params:,})")
        self.fields["size"].setText(format_bytes(info.size_bytes))
        self.fields["template"].setText("Has its own chat template" if info.has_chat_template
                                        else "No chat template: TuneDesk uses a standard one")
        self.fields["device"].setText(f"{device.kind.upper()} — {device.name}; "
                                      f"{device.available_memory_gb:.1f} GB of {device.total_memory_gb:.1f} GB free")
        self.fields["precision"].setText(f"{report.precision.precision} — {report.precision.reason}")
        from core.training.estimate import CHAT_ONLY, FITS

        answer = {FITS: "Yes", CHAT_ONLY: "For chatting only"}.get(report.fit.verdict, "No")
        self.fields["fits"].setText(f"{answer} — {report.fit.message}")
        self.fields["fits"].setObjectName("statusOk" if report.fit.verdict == FITS else "statusBad")
        self._repolish(self.fields["fits"])
        self._show_support(report.support)
        if save and self.ctx.project is not None and report.spec != self.ctx.project.model:
            projects.set_model(self.ctx.project, report.spec)
            self.ctx.reload_project()
            self.ctx.notifier.info(f"The project now uses {info.name}.",
                                   "Documents are counted with its tokenizer; new training runs start from it.")

    def _show_support(self, support: Support) -> None:
        """One line of yes/no (core.support's wording, as `tunedesk models list` shows it); what is missing and
        why below it, and every reason in the tooltip."""
        label = self.fields["supports"]
        label.setText("\n".join([support.summary().capitalize(), *support.notes()]))
        label.setToolTip("\n".join(support.details()))

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)
