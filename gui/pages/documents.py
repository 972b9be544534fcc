"""Documents: drop files and folders in, see what was read or skipped (and why), preview what the model learns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QPushButton,
                               QSplitter, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from core import projects
from core.documents import SUPPORTED_SUFFIXES, IngestResult, left_out_notice
from core.events import Progress
from gui import dialogs
from gui.context import AppContext
from gui.jobs import examples_preview_job, read_documents_job
from gui.own_questions import OwnQuestionsDialog, open_own_questions_editor
from gui.report_jobs import project_questions_job, save_own_questions_job
from gui.theme import KeepColourDelegate, active, mark_primary, set_icon
from gui.widgets import BusyLine, Page, muted, read_only_table

COLUMNS = ["File", "Status", "Pages", "Words", "Tokens", "Duplicates"]
NO_PAGES = "–"


class DropZone(QLabel):
    """The visible target; the whole page accepts drops and lights this up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        kinds = " ".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
        super().__init__(f"Drop files or folders here\n{kinds}", parent)
        self.setObjectName("dropZone")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(74)

    def set_active(self, on: bool) -> None:
        self.setProperty("active", on)
        self.style().unpolish(self)
        self.style().polish(self)


class DocumentsPage(Page):
    loaded = Signal(object)  # IngestResult, after every (re)read
    own_loaded = Signal()  # the project's own questions, after every (re)read

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Documents", "What the model should learn. Files are copied into the project; "
                                      "the originals are never changed.", parent)
        self.ctx = ctx
        self.result: IngestResult | None = None
        self._task = None
        self._pending = False
        self.setAcceptDrops(True)
        add_files = QPushButton("Add files…")
        set_icon(add_files, "upload")
        add_folder = QPushButton("Add folder…")
        set_icon(add_folder, "folder")
        add_files.clicked.connect(self._choose_files)
        add_folder.clicked.connect(self._choose_folder)
        self.header_actions.addWidget(add_files)
        self.header_actions.addWidget(add_folder)

        self.drop_zone = DropZone()
        self.body.addWidget(self.drop_zone)
        status = QHBoxLayout()
        self.summary = muted("")
        self.busy = BusyLine()
        status.addWidget(self.summary, 1)
        status.addWidget(self.busy, 1)
        # on the files' summary line, not beside "Next": at the window's smallest width that row has no room
        self.own_button = QPushButton("Your own questions…")
        self.own_button.setToolTip("Questions you would ask Chat, each with what a right answer contains. After "
                                   "training, the check asks them without your documents in view and reports them "
                                   "apart: the figure to trust. Every run of this project asks them.")
        self.own_button.clicked.connect(self.edit_own_questions)
        status.addWidget(self.own_button)
        self.own: tuple[Any, ...] = ()
        self.own_problem = ""
        self.own_dialog: OwnQuestionsDialog | None = None
        self.body.addLayout(status)
        self.skipped_label = QLabel()  # the reasons, in full: a cut-off table cell is not enough
        self.skipped_label.setObjectName("skippedNote")
        self.skipped_label.setWordWrap(True)
        self.skipped_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.skipped_label.hide()
        self.body.addWidget(self.skipped_label)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.table = read_only_table(COLUMNS)
        self.table.setWordWrap(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setItemDelegate(KeepColourDelegate(self.table))  # a selected row keeps its status colour
        header = self.table.horizontalHeader()
        # The file name takes what the counts leave, so at the smallest window every count stays in view.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._show_preview)
        left_layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.remove_button = QPushButton("Remove")
        set_icon(self.remove_button, "trash")
        self.remove_button.setToolTip("Remove the selected file from the project (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        self.next_button = QPushButton("Next: train the model")
        set_icon(self.next_button, "arrow_right")
        mark_primary(self.next_button)
        self.next_button.clicked.connect(lambda: ctx.navigate.emit("train"))
        row.addWidget(self.next_button)
        left_layout.addLayout(row)
        split.addWidget(left)

        self.preview_tabs = QTabWidget()
        self.chunks_view = QPlainTextEdit()
        self.chunks_view.setReadOnly(True)
        self.chunks_view.setPlaceholderText("Select a file to see its cleaned text, in the passages the model learns from.")
        self.examples_view = QPlainTextEdit()
        self.examples_view.setReadOnly(True)
        self.examples_view.setPlaceholderText("Select a file to see training examples made from it.")
        self.preview_tabs.addTab(self.chunks_view, "Cleaned text")
        self.preview_tabs.addTab(self.examples_view, "Examples")
        self.preview_tabs.setTabToolTip(1, "The training examples made from the selected file")
        self.preview_tabs.setUsesScrollButtons(False)  # its minimum width then holds both tabs whole, no arrows
        split.addWidget(self.preview_tabs)
        split.setSizes([760, 360])
        self.body.addWidget(split, 1)

        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.remove_selected)
        ctx.project_changed.connect(lambda _p: self.reload())
        self.reload()

    # Drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self.ctx.project is not None:
            event.acceptProposedAction()
            self.drop_zone.set_active(True)

    def dragLeaveEvent(self, event: Any) -> None:
        self.drop_zone.set_active(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_zone.set_active(False)
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    def _choose_files(self) -> None:
        kinds = " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES)
        files = dialogs.choose_files(self, "Add documents", f"Documents ({kinds});;All files (*)")
        if files:
            self.add_paths(files)

    def _choose_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Add a folder of documents")
        if folder:
            self.add_paths([folder])

    # Reading -----------------------------------------------------------------------------
    def add_paths(self, paths: list[str]) -> None:
        """Copy into the project, then re-read everything (both off the main thread)."""
        project = self.ctx.project
        if project is None:
            self.ctx.notifier.warning("Open a project first.", "Create or open a project on the Home page.")
            return
        self.reload(add=[Path(p) for p in paths])

    def reload(self, add: list[Path] | None = None) -> None:
        project = self.ctx.project
        self.setEnabled(project is not None)
        if project is None:
            self._fill(IngestResult([], []))
            self.summary.setText("Open or create a project on the Home page first.")
            return
        self._load_own_questions(project.root)
        if self._task is not None:  # one read at a time; the newest request wins
            self._task.cancel()
        read = read_documents_job(project.documents_dir, project.model)

        left_out: list[Path] = []  # files a folder held that no reader takes: said, never dropped silently

        def job(emit: Any, should_stop: Any) -> IngestResult:
            if add:
                emit(Progress("copy", "Copying documents into the project…"))
                projects.add_documents(project, add, left_out)
            if left_out:
                self.ctx.notifier.warning(*left_out_notice(left_out), page="documents")
            return read(emit, should_stop)

        self.busy.start("Reading documents…")
        self._generation = generation = getattr(self, "_generation", 0) + 1
        self._task = self.ctx.workers.run(
            job, "read-documents",
            on_event=lambda e: self.busy.message(e.message) if isinstance(e, Progress) else None,
            on_success=lambda result: self._loaded(result) if generation == self._generation else None,
            on_done=lambda: self._read_done(generation))

    def _read_done(self, generation: int) -> None:
        if generation == self._generation:
            self._task = None
            self.busy.stop()

    def _loaded(self, result: IngestResult) -> None:
        self._fill(result)
        if result.documents:
            self.summary.setText(result.summary())
        else:
            self.summary.setText("No documents yet: drop some files above, or use Add files.")
        self.ctx.documents_changed.emit()
        self.loaded.emit(result)

    def _fill(self, result: IngestResult) -> None:
        self.result = result
        theme = active()
        self.table.setRowCount(len(result.documents))
        for r, doc in enumerate(result.documents):
            status = "Read" if doc.status == "read" else "Skipped"  # why: the line above the table and the tooltip
            # A file without pages (text, Markdown, HTML) shows "–", never a blank that reads as "not counted".
            values = [doc.name, status, f"{doc.pages:,}" if doc.pages else NO_PAGES, f"{doc.words:,}",
                      f"{doc.tokens:,}", f"{doc.duplicates_dropped or 0:,}"]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 0:
                    item.setToolTip(value)  # the whole name, which a narrow window shortens in the middle
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 1:
                    item.setToolTip(doc.reason or "Read and used for training")
                    item.setForeground(QBrush(QColor(theme.success if doc.status == "read" else theme.error)))
                if c == 2 and not doc.pages:
                    item.setToolTip("This kind of file has no pages")
                if c == 5:
                    item.setToolTip("Passages dropped because they repeat text seen before")
                self.table.setItem(r, c, item)
        skipped = [d for d in result.documents if d.status != "read"]
        self.skipped_label.setText("\n".join(f"Skipped {d.name}: {d.reason}" for d in skipped[:5])
                                   + (f"\n… and {len(skipped) - 5} more" if len(skipped) > 5 else ""))
        self.skipped_label.setVisible(bool(skipped))
        self.remove_button.setEnabled(bool(result.documents))
        self.next_button.setEnabled(bool(result.chunks))
        self._show_preview()

    # Preview ------------------------------------------------------------------------------
    def selected_document(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.result is None:
            return None
        return self.result.documents[rows[0].row()]

    def _show_preview(self) -> None:
        """The passages at once (in memory); the examples from a worker (a dataset file to read, or made)."""
        self._preview_generation = generation = getattr(self, "_preview_generation", 0) + 1
        doc = self.selected_document()
        if doc is None or self.result is None:
            self.chunks_view.clear()
            self.examples_view.clear()
            return
        if doc.status != "read":
            self.chunks_view.setPlainText(f"{doc.name} was skipped:\n{doc.reason}")
            self.examples_view.setPlainText("No training examples: the file was skipped.")
            return
        chunks = [c for c in self.result.chunks if c.source == doc.name]
        self.chunks_view.setPlainText("\n\n".join(
            f"── Passage {c.index + 1} · {c.n_tokens} tokens ──\n{c.text}" for c in chunks))
        self.examples_view.setPlainText("Reading the training examples…")
        elements = [e for e in self.result.elements if e.source == doc.name]
        language = self.result.languages().get(doc.name, "")
        job = examples_preview_job(self.ctx.project, doc.name, chunks, elements, language)
        # A newer selection wins: an older answer that arrives late is dropped.
        self.ctx.workers.run(job, "preview-examples",
                             on_success=lambda text: self._examples_ready(generation, text))

    def _examples_ready(self, generation: int, text: str) -> None:
        if generation == self._preview_generation:
            self.examples_view.setPlainText(text)

    # Your own questions ------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        """Read the count again when the page comes back: a run's report saves the project's questions too."""
        super().showEvent(event)
        if self.ctx.project is not None and self.own_button.isEnabled():
            self._load_own_questions(self.ctx.project.root, refresh=True)

    def _load_own_questions(self, root: Path, refresh: bool = False) -> None:
        if not refresh:  # a project's first read: an editor opened before it ends would replace them with none
            self.own_button.setEnabled(False)
        self._own_generation = generation = getattr(self, "_own_generation", 0) + 1

        def loaded(result: tuple[tuple[Any, ...], str]) -> None:
            if generation == self._own_generation:  # the newest read wins: an older one may end after it
                self.own, self.own_problem = result
                n = len(self.own)
                self.own_button.setText(f"Your own questions ({n})…" if n else "Your own questions…")
                self.own_button.setEnabled(True)
                self.own_loaded.emit()
        self.ctx.workers.run(project_questions_job(root), "read-own-questions", on_success=loaded)

    def edit_own_questions(self) -> None:
        """The project's questions, written before the first run or between runs: every run's check asks them
        (core.evaluation.own_questions.carry_project_questions). Window-modal; saved on a worker, then re-read."""
        project = self.ctx.project
        if project is None:
            return
        root = project.root
        self.own_dialog = open_own_questions_editor(
            self, self.ctx.workers, list(self.own), lambda questions: save_own_questions_job(root, questions),
            lambda: self._load_own_questions(root), problem=self.own_problem)

    def remove_selected(self) -> None:
        doc = self.selected_document()
        if doc is None or self.ctx.project is None:
            return
        try:
            projects.remove_document(self.ctx.project, doc.name)
        except projects.ProjectError as exc:
            self.ctx.notifier.report_exception(exc)
            return
        self.reload()
