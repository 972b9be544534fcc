"""The "did it learn?" report on screen: for one run, how many facts of your documents it learned, per document
and per kind, every question with the trained and the original model's answers, and the general check.

report.json is written by core.evaluation.report.evaluate_run (after `tunedesk train`, by `tunedesk eval`,
or here by "Check what it learned"); core.evaluation.summary turns it into counts. Reading it and making it
are Tasks on worker threads (gui/report_jobs.py); this module only shows their results.

  * `ReportView` — the report of one run; `compact` is the Train page's card (the headline and a button),
    the full view (in `ReportDialog`) adds the tables and every answer.
  * `ReportChecks` — the one evaluation that may run at a time (two would load two pairs of models), shared
    by every view through the AppContext, so a check started in a dialog shows on the Train page too.
"""

from __future__ import annotations

import html
import math
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView,
                               QLabel, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QTextBrowser,
                               QVBoxLayout, QWidget)

from core.events import Progress
from core.runs import RunState, RunStatus
from gui.context import AppContext
from core.worker import check_command
from gui.own_questions import open_own_questions_editor
from gui.report_jobs import ReportData, load_report_job, save_own_questions_job
from gui.theme import active, set_icon
from gui.widgets import Card, format_duration, muted, read_only_table

SECONDS_PER_QUESTION = 2.5
"""Measured: the demo model's check of the sample documents (13 questions, 8 general) took 70 s on 2 busy
CPU cores, a third of it loading; each question is answered by both models. Only for "about N min"."""

COMPACT_SIDE_BY_SIDE = 620
"""Below this card width the Train page's card puts its button under the words, which would wrap a word a line."""


def _minutes(seconds: float) -> str:
    return f"about {max(1, math.ceil(seconds / 60))} min"


class ReportChecks(QObject):
    """The running evaluation (at most one), its progress, and its end, for every view of any run."""

    progress = Signal(str, str)  # run folder, the line to show
    ended = Signal(str, str)  # run folder, "done" | "failed" | "stopped"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.ctx = ctx
        self.process = ctx.workers.checking  # core.worker.check_command: the check runs in its own process
        self.process.event.connect(self._event)
        self.process.ended.connect(self._ended)
        self.run: Path | None = None
        self.line = ""
        self.done = 0
        self.total = 0
        self._first: tuple[float, int] | None = None
        self._stopping = False

    @staticmethod
    def of(ctx: AppContext) -> "ReportChecks":
        found = ctx.findChild(ReportChecks)
        return found if found is not None else ReportChecks(ctx)

    def running(self, run: Path | None = None) -> bool:
        return self.run is not None and (run is None or self.run == Path(run))

    def start(self, run: Path, label: str) -> bool:
        if self.run is not None:
            if self.run == Path(run):
                return True
            self.ctx.notifier.warning(f"Already checking what “{self.run.name}” learned.",
                                      "Wait for that check to finish, or stop it, then check this run.")
            return False
        self.run, self.line, self.done, self.total, self._first = Path(run), "Loading the models…", 0, 0, None
        self._stopping = False
        self.process.start(self.run, command=check_command(self.run))
        self.progress.emit(str(self.run), self.line)
        return True

    def stop(self) -> None:
        if self.run is not None:
            self._stopping = True
            self.process.stop()
            self.line = "Stopping after this answer…"
            self.progress.emit(str(self.run), self.line)

    def _event(self, event: Any) -> None:
        if not isinstance(event, Progress) or self.run is None or self._stopping:
            return
        line = event.message
        if event.total:
            self.done, self.total = event.done, event.total
            now = time.monotonic()
            if self._first is None:
                self._first = (now, event.done)
            elif event.done > self._first[1]:  # time left from the answers so far, not from a guess
                per = (now - self._first[0]) / (event.done - self._first[1])
                line += f" · {format_duration(per * (event.total - event.done))} left"
        self.line = line
        self.progress.emit(str(self.run), line)

    def _ended(self, outcome: str) -> None:
        run, self.run = self.run, None
        if run is not None:
            self.ended.emit(str(run), {"finished": "done"}.get(outcome, outcome))


class ReportView(Card):
    """The report of one run, or why it has none and how to get one."""

    loaded = Signal(object)  # ReportData, once shown (tests wait for it)

    def __init__(self, ctx: AppContext, compact: bool = False, parent: QWidget | None = None) -> None:
        super().__init__("", parent, margins=14 if compact else 16)
        self.ctx = ctx
        self.compact = compact
        self.run: Path | None = None
        self.data: ReportData | None = None
        self._token = 0
        self.checks = ReportChecks.of(ctx)
        self.checks.progress.connect(self._check_progress)
        self.checks.ended.connect(self._check_ended)

        self.headline = QLabel()
        self.headline.setObjectName("sectionTitle" if compact else "statValue")
        self.headline.setWordWrap(True)
        self.detail = muted("")
        self.general = muted("")
        self.bar = QProgressBar()
        self.bar.setFixedHeight(8)
        self.bar.setTextVisible(False)
        self.bar.hide()
        texts = QVBoxLayout()
        texts.setSpacing(4)
        for widget in (self.headline, self.detail, self.general, self.bar):
            texts.addWidget(widget)
        self.details_button = QPushButton("See what it learned…")
        set_icon(self.details_button, "spark")
        self.details_button.clicked.connect(self.open_details)
        self.check_button = QPushButton("Check what it learned")
        set_icon(self.check_button, "play")
        self.check_button.clicked.connect(self.check)
        self.stop_button = QPushButton("Stop checking")
        set_icon(self.stop_button, "stop")
        self.stop_button.clicked.connect(self.checks.stop)
        self.own_button = QPushButton("Your own questions…")
        self.own_button.setToolTip("Questions you write, in your words, with what a right answer contains: the "
                                   "check asks them too, and reports them apart")
        self.own_button.clicked.connect(self.edit_own_questions)
        self.own_dialog: QDialog | None = None
        # compact (the Train page): words left, the button right, a few lines high; full: one above the other
        buttons = QVBoxLayout() if compact else QHBoxLayout()
        for button in (self.details_button, self.check_button, self.stop_button, self.own_button):
            buttons.addWidget(button)
            button.hide()
        if compact:  # side by side when there is room (resizeEvent), else the button under the words
            self.row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
            self.row.setSpacing(16)
            self.row.addLayout(texts, 1)
            self.row.addLayout(buttons)
            buttons.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
            self.add(self.row)
        else:
            buttons.addStretch(1)
            self.add(texts)
            self.add(buttons)
            self._full_parts()
        self.setVisible(not compact)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if self.compact:
            wide = event.size().width() >= COMPACT_SIDE_BY_SIDE
            self.row.setDirection(QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom)
        super().resizeEvent(event)

    def _full_parts(self) -> None:
        tables = QHBoxLayout()
        self.doc_table = self._table(["Document", "Learned", "Knew before"])
        self.kind_table = self._table(["Kind of fact", "Learned", "Knew before"])
        tables.addWidget(self.doc_table, 3)
        tables.addWidget(self.kind_table, 2)
        self.tables = QWidget()
        block = QVBoxLayout(self.tables)
        block.setContentsMargins(0, 0, 0, 0)
        # whose questions the tables count: under a headline of your own, they are not the headline's figure
        block.addWidget(muted("Questions made from your documents, by document and by kind of fact:", wrap=False))
        block.addLayout(tables)
        tables.setContentsMargins(0, 0, 0, 0)
        self.add(self.tables)
        row = QHBoxLayout()
        row.addWidget(muted("Every question asked, with what each model answered:", wrap=False))
        row.addStretch(1)
        self.filter = QComboBox()
        for text, key in (("All answers", "all"), ("Missed only", "missed"), ("Learned only", "learned"),
                          ("General knowledge", "general")):
            self.filter.addItem(text, key)
        self.filter.currentIndexChanged.connect(lambda _i: self._render_items())
        row.addWidget(self.filter)
        self.add(row)
        self.items = QTextBrowser()
        self.items.setOpenLinks(False)
        self.items.setMinimumHeight(220)
        self.add(self.items, 1)

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = read_only_table(headers, selectable=False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(headers)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        table.setMaximumHeight(190)
        return table

    # Loading ------------------------------------------------------------------------------
    def show_run(self, run: Path | str | None) -> None:
        """Show `run`'s report (read on a worker thread); None hides the compact card."""
        self._token += 1
        self.run = Path(run) if run else None
        self.data = None
        if self.run is None:
            if self.compact:
                self.hide()
            return
        token, path = self._token, self.run
        self.ctx.workers.run(load_report_job(path), "read-report",
                             on_success=lambda data, t=token: self._loaded(data, t))

    def reload(self) -> None:
        self.show_run(self.run)

    def _loaded(self, data: ReportData, token: int) -> None:
        if token != self._token:  # another run was chosen meanwhile
            return
        self.data = data
        self._render()
        self.loaded.emit(data)

    # Showing ---------------------------------------------------------------------------------
    def _render(self) -> None:
        self._render_state()
        self._hide_empty()

    def _render_state(self) -> None:
        data = self.data
        if data is None:
            return
        checking = self.checks.running(self.run)
        if self.compact:  # the Train page's card: for finished runs; the status line says the rest
            self.setVisible(data.task == "chat" and (data.run.status is RunStatus.FINISHED or checking))
        summary = data.summary
        for button in (self.details_button, self.check_button, self.stop_button, self.own_button):
            button.hide()
        self.bar.setVisible(checking)
        self.general.setText("")
        if not self.compact:
            self.tables.setVisible(summary is not None and not checking)
            self.filter.setEnabled(summary is not None)
            self.items.clear()
        if checking:
            self.headline.setText("Checking what it learned…")
            self.detail.setText(self.checks.line)
            self._set_bar()
            self.stop_button.show()
            return
        can_check = data.run.status is RunStatus.FINISHED and data.run.has_adapter
        if data.task != "chat":
            self.headline.setText("A labelling run")
            self.detail.setText("Its accuracy, per-label scores and worst rows are on the Try it page.")
        elif summary is not None:
            self.headline.setText(summary.headline())
            lines = [*summary.paragraph(), self._own_pending(summary)]
            self.detail.setText(" ".join(line for line in lines if line))
            self.general.setText(summary.general_line())
            self.details_button.setVisible(self.compact)
            self.check_button.setText("Check again")
            self.check_button.setVisible(can_check and not self.compact)
            self._set_primary(self.check_button, False)  # minutes of work to redo: not the page's main action
            if not self.compact and summary.elements:
                self.general.setText(" ".join(filter(None, (
                    summary.general_line(), f"Training asked about {summary.covered} of the {summary.elements} "
                                            f"informative parts of your documents (headings and the like aside)."))))
            self.own_button.setVisible(can_check)  # the Train page's card too: after a run, where people look
            if not self.compact:
                self._fill_tables()
                self._render_items()
        elif data.problem is not None:
            self.headline.setText("The report cannot be read")
            self.detail.setText(data.problem.one_line())
            self.check_button.setText("Check again")
            self.check_button.setVisible(can_check)
        else:
            headline, what_to_do = self._why_none(data.run)
            self.headline.setText(headline)
            self.detail.setText(" ".join(filter(None, (what_to_do, self._own_pending(None) if can_check else ""))))
            self.check_button.setText("Check what it learned")
            self.check_button.setVisible(can_check)
            self._set_primary(self.check_button, True)
            self.own_button.setVisible(can_check and not self.compact)

    def _why_none(self, run: RunState) -> tuple[str, str]:
        """(headline, what to do) for a run without a report."""
        questions = self.data.questions if self.data else 0
        if run.status is RunStatus.FINISHED and run.has_adapter:
            return ("Did it learn? Not checked yet",
                    f"The trained and the original model each answer {questions} questions that training never "
                    f"asked ({_minutes(20 + SECONDS_PER_QUESTION * questions)}).")
        if run.status is RunStatus.TRAINING:
            return "Being trained now", "What it learned can be checked once training finishes."
        if run.status in (RunStatus.STOPPED, RunStatus.INTERRUPTED, RunStatus.FAILED):
            where = f" at step {run.step} of {run.total_steps}" if run.total_steps else ""
            return ("No report yet",
                    f"This run stopped{where}, before it finished. Choose it on the Train page and press Resume; "
                    "once it finishes, check what it learned.")
        if run.status is RunStatus.PREPARED:
            return "Not trained yet", "This run was prepared but never trained."
        if run.status is RunStatus.FINISHED:
            return "No trained model", "This run finished without saving its trained model, so it cannot be checked."
        return "No report", "This run folder is incomplete."

    @staticmethod
    def _set_primary(button: QPushButton, on: bool) -> None:
        if bool(button.property("primary")) != on:
            button.setProperty("primary", on)
            button.style().unpolish(button)
            button.style().polish(button)
            set_icon(button, str(button.property("iconName")))  # drawn in the colour its new look needs

    def _hide_empty(self) -> None:
        for label in (self.detail, self.general):
            label.setVisible(bool(label.text()))

    def _set_bar(self) -> None:
        if self.checks.total:
            self.bar.setRange(0, self.checks.total)
            self.bar.setValue(self.checks.done)
        else:
            self.bar.setRange(0, 0)

    def _fill_tables(self) -> None:
        summary = self.data.summary if self.data else None
        if summary is None:
            return
        for table, tallies in ((self.doc_table, summary.per_document), (self.kind_table, summary.per_kind)):
            table.setRowCount(len(tallies))
            for r, tally in enumerate(tallies):
                values = [tally.label or "(no document)", f"{tally.learned} of {tally.total}",
                          f"{tally.knew_before} of {tally.total}"]
                for c, value in enumerate(values):
                    table.setItem(r, c, QTableWidgetItem(value))
            table.setFixedHeight(min(190, table.horizontalHeader().height() + 6
                                     + sum(table.rowHeight(r) for r in range(table.rowCount()))))

    def _render_items(self) -> None:
        summary = self.data.summary if self.data else None
        if self.compact or summary is None:
            return
        key = self.filter.currentData()
        theme = active()
        chosen = [i for i in summary.items if key == "all"
                  or (key == "general" and i.general)
                  or (key == "learned" and not i.general and i.tuned_correct)
                  or (key == "missed" and not i.general and not i.tuned_correct)]
        parts, doc = [], None
        for item in chosen:
            heading = "General knowledge" if item.general else "Your own questions" if item.own else (
                item.doc or "(no document)")
            if heading != doc:
                doc = heading
                parts.append(f"<h3 style='margin-top:14px'>{html.escape(heading)}</h3>")
            ok, colour = ("Learned", theme.success) if item.tuned_correct else ("Missed", theme.error)
            if item.general:
                ok = "Right" if item.tuned_correct else "Wrong"
            before = "right" if item.base_correct else "wrong"
            note = (" <i>(not about your documents: the original weights answered, as in Chat)</i>"
                    if item.answered_by == "original" else "")
            expected = " or ".join(f"“{html.escape(x)}”" for x in item.expected[:3])
            parts.append(
                f"<p style='margin:8px 0 2px 0'><b style='color:{colour}'>{'✓' if item.tuned_correct else '✗'} "
                f"{ok}</b> &nbsp; <b>{html.escape(item.question)}</b></p>"
                f"<p style='margin:0 0 0 18px'>Trained model: {html.escape(item.tuned) or '<i>(no answer)</i>'}{note}</p>"
                f"<p style='margin:0 0 0 18px; color:{theme.muted}'>Original model ({before}): "
                f"{html.escape(item.base) or '<i>(no answer)</i>'}</p>"
                + (f"<p style='margin:0 0 0 18px; color:{theme.muted}'>A right answer contains {expected}</p>"
                   if expected else ""))
        if not parts:
            parts = ["<p><i>No answers of this kind.</i></p>"]
        self.items.setHtml("".join(parts))

    # Checking --------------------------------------------------------------------------------
    def check(self) -> None:
        if self.run is None:
            return
        if self.checks.start(self.run, self.run.name):
            self._render()

    def _check_progress(self, run: str, line: str) -> None:
        if self.run is not None and run == str(self.run) and self.data is not None:
            if not self.bar.isVisible():
                self._render()
            self.detail.setText(line)
            self.detail.show()
            self._set_bar()

    def _check_ended(self, run: str, outcome: str) -> None:
        if self.run is not None and run == str(self.run):
            self.reload()

    def open_details(self) -> None:
        if self.run is not None:
            open_report(self.ctx, self.run, self)

    def _own_pending(self, summary: Any) -> str:
        """Whether the person's questions differ from those the report asked: then a check asks them."""
        data = self.data
        if data is None:
            return ""
        if data.own_problem is not None:
            return data.own_problem.one_line()
        if not data.own:
            return ""
        asked = {i.question for i in summary.items if i.own} if summary is not None else set()
        if asked == {q.question for q in data.own}:
            return ""
        n = len(data.own)
        return (f"Your {n} own question{'s' * (n != 1)} will be asked when you check"
                f"{' again' if summary is not None else ''}.")

    def edit_own_questions(self) -> None:
        """Open the editor (window-modal, not a nested event loop); saving writes on a worker, then re-reads."""
        if self.run is None or self.data is None:
            return
        run = self.run
        self.own_dialog = open_own_questions_editor(
            self, self.ctx.workers, list(self.data.own), lambda questions: save_own_questions_job(run, questions),
            self.reload, self.data.own_from)


class ReportDialog(QDialog):
    def __init__(self, ctx: AppContext, run: Path, label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"What “{label or Path(run).name}” learned")
        self.resize(900, 720)
        layout = QVBoxLayout(self)
        self.view = ReportView(ctx, compact=False)
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.view.show_run(run)


def open_report(ctx: AppContext, run: Path, parent: QWidget | None = None, label: str = "") -> ReportDialog:
    """Open the full report of `run`, not modal: chat and training go on while it is read."""
    dialog = ReportDialog(ctx, Path(run), label, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
