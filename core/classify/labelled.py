"""A table's text and label columns → clean examples, a report of what was wrong, and a stratified split.

The report is where users learn about their data before training on it: label
counts (an imbalance the class weights will have to carry), rows with no text
or no label, exact duplicates (kept once: twice the same row would only weigh
it double, and could land on both sides of the split) and conflicting labels
(the same text with two labels: the model cannot be right on both, so those
rows are left out and listed). The validation split is stratified, so a label
with few rows is still measured, and it is made once and written to the run
folder: the model never trains on it.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from core.classify.table import Table
from core.errors import DataError

TEXT_NAMES = ("text", "sentence", "review", "comment", "message", "body", "content", "tweet", "description",
              "title", "question", "utterance", "ticket")
LABEL_NAMES = ("label", "labels", "sentiment", "category", "class", "team", "target", "tag", "topic", "intent",
               "polarity", "rating", "stars", "y")
MAX_LABELS = 100
"""More distinct values than this in a label column is almost surely a text or id column."""
SHOWN = 20
"""How many row numbers each problem lists (the count is always complete)."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    line: int
    """Where the row is in the file (1-based line, or record number for JSON)."""


@dataclass
class ImportReport:
    """What importing found; every list holds file line numbers (the first SHOWN of them)."""

    rows: int = 0
    """Data rows in the file."""
    usable: int = 0
    """Examples kept: text and label present, duplicates once, conflicts out."""
    label_counts: dict[str, int] = field(default_factory=dict)
    """Examples kept per label, most frequent first."""
    empty_text: int = 0
    empty_label: int = 0
    duplicates: int = 0
    conflicts: int = 0
    """Rows left out because their exact text also appears with another label."""
    empty_text_lines: list[int] = field(default_factory=list)
    empty_label_lines: list[int] = field(default_factory=list)
    duplicate_lines: list[int] = field(default_factory=list)
    conflict_examples: list[dict[str, Any]] = field(default_factory=list)
    """{"text", "labels": {label: [lines]}} for the first SHOWN conflicting texts."""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> list[str]:
        """The report in lines for a person (the CLI prints them; the Data page shows the same facts)."""
        counts = ", ".join(f"{label} {n}" for label, n in self.label_counts.items())
        lines = [f"{self.usable} usable examples of {self.rows} rows · {len(self.label_counts)} labels: {counts}"]
        for n, what, where in ((self.empty_text, "with no text", self.empty_text_lines),
                               (self.empty_label, "with no label", self.empty_label_lines),
                               (self.duplicates, "repeating an earlier row exactly (kept once)",
                                self.duplicate_lines)):
            if n:
                lines.append(f"{n} row{'s' * (n != 1)} {what}: line{'s' * (n != 1)} {_lines(where, n)}")
        if self.conflicts:
            lines.append(f"{self.conflicts} row{'s' * (self.conflicts != 1)} left out: the same text has two labels "
                         f"(e.g. “{_short(self.conflict_examples[0]['text'])}”)")
        return lines + list(self.warnings)


@dataclass
class LabelledData:
    examples: list[Example]
    labels: list[str]
    """Sorted: the class index order the model, the metrics and every export share."""
    report: ImportReport
    text_column: str
    label_column: str


def _lines(lines: list[int], total: int) -> str:
    shown = ", ".join(str(n) for n in lines[:8])
    return shown + (f" and {total - 8} more" if total > 8 else "")


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def guess_columns(table: Table) -> tuple[str, str]:
    """(text column, label column): by name first, else the longest values for text and the column with
    the fewest distinct short values (2 to MAX_LABELS) for the label."""
    lower = {c.lower().strip(): c for c in table.columns}
    text = next((lower[n] for n in TEXT_NAMES if n in lower), None)
    label = next((lower[n] for n in LABEL_NAMES if n in lower and lower[n] != text), None)
    sample = table.rows[:2000]

    def mean_length(i: int) -> float:
        return sum(len(r[i]) for r in sample) / max(1, len(sample))

    if text is None:
        candidates = [i for i, c in enumerate(table.columns) if c != label]
        text = table.columns[max(candidates, key=mean_length)] if candidates else table.columns[0]
    if label is None:
        def distinct(i: int) -> int:
            return len({r[i].strip() for r in sample if r[i].strip()})

        options = [i for i, c in enumerate(table.columns) if c != text and 2 <= distinct(i) <= MAX_LABELS]
        if options:
            label = table.columns[min(options, key=lambda i: (distinct(i), mean_length(i)))]
        else:
            others = [c for c in table.columns if c != text]
            label = others[0] if others else text
    return text, label


def labelled_rows(table: Table, text_column: str, label_column: str) -> LabelledData:
    """Clean examples from two columns of `table`, with the report. Raises DataError for a missing column,
    the same column twice, no usable rows, or fewer than two labels."""
    for role, name in (("text", text_column), ("label", label_column)):
        if name not in table.columns:
            raise DataError(f"{table.path.name} has no column “{name}” (for the {role}).",
                            f"Its columns are: {', '.join(table.columns)}. Choose one of those.")
    if text_column == label_column:
        raise DataError("The text and the label are the same column.", "Choose two different columns.")
    ti, li = table.columns.index(text_column), table.columns.index(label_column)
    report = ImportReport(rows=len(table.rows), warnings=list(table.notes))
    seen: dict[str, dict[str, list[int]]] = defaultdict(dict)  # text -> label -> lines
    order: list[tuple[str, str, int]] = []
    for offset, row in enumerate(table.rows):
        line = table.first_line + offset
        text, label = row[ti].strip(), row[li].strip()
        if not text:
            report.empty_text += 1
            report.empty_text_lines.append(line)
            continue
        if not label:
            report.empty_label += 1
            report.empty_label_lines.append(line)
            continue
        by_label = seen[text]
        if label in by_label:
            report.duplicates += 1
            report.duplicate_lines.append(line)
            by_label[label].append(line)
            continue
        by_label[label] = [line]
        order.append((text, label, line))
    examples = []
    for text, label, line in order:
        if len(seen[text]) > 1:
            report.conflicts += 1
            if len(report.conflict_examples) < SHOWN and not any(c["text"] == text for c in report.conflict_examples):
                report.conflict_examples.append({"text": text, "labels": dict(seen[text])})
            continue
        examples.append(Example(text, label, line))
    for name in ("empty_text_lines", "empty_label_lines", "duplicate_lines"):
        setattr(report, name, getattr(report, name)[:SHOWN])
    counts = Counter(e.label for e in examples)
    report.usable = len(examples)
    report.label_counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    if not examples:
        raise DataError(f"No usable rows in {table.path.name}: every row lacks a text or a label.",
                        f"Check that “{text_column}” holds the text and “{label_column}” the labels.")
    if len(counts) > MAX_LABELS:
        raise DataError(f"“{label_column}” has {len(counts)} different values: that looks like text or ids, "
                        "not labels.", f"Choose the column that holds the labels (at most {MAX_LABELS} different ones).")
    if len(counts) < 2:
        only = next(iter(counts))
        raise DataError(f"Every usable row has the same label, “{only}”: a classifier needs at least two.",
                        "Add rows with the other labels (or check that the label column is the right one).")
    for label, n in counts.items():
        if n < 5:
            report.warnings.append(f"Only {n} example{'s' * (n != 1)} of “{label}”: too few to learn it well, "
                                   "and too few to measure it. Add more if you can.")
    biggest, smallest = max(counts.values()), min(counts.values())
    if biggest >= 10 * smallest:
        report.warnings.append(f"The labels are very uneven ({biggest} vs {smallest} rows): training weighs the "
                               "rare ones more, but more examples of them would help most.")
    return LabelledData(examples, sorted(counts), report, text_column, label_column)


def stratified_split(examples: list[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, validation): `fraction` of each label's examples kept aside, at least one per label that has
    three or more, so every label is measured; a label with fewer stays in training only."""
    rng = random.Random(seed)
    by_label: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        by_label[e.label].append(e)
    train, val = [], []
    for label in sorted(by_label):
        group = list(by_label[label])
        rng.shuffle(group)
        n_val = round(len(group) * fraction) if fraction > 0 else 0
        if fraction > 0 and len(group) >= 3:
            n_val = max(1, n_val)
        n_val = min(n_val, len(group) - 2) if len(group) > 2 else 0
        val.extend(group[:n_val])
        train.extend(group[n_val:])
    train.sort(key=lambda e: e.line)
    val.sort(key=lambda e: e.line)
    return train, val
