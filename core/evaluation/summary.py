"""report.json in plain words and counts: what the app's "did it learn?" view shows. Qt-free.

report.json (core/evaluation/report.py) holds fractions per document and per kind, and every question with
both answers. A person reads counts better than percentages of a dozen questions ("Learned 9 of 13 facts"),
so the counts are taken from the answers themselves; an older report without answers falls back to its
fractions times its question counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import RunError
from core.store import RunDir, read_json

KIND_WORDS = {
    "table": "Table rows", "key_value": "“Name: value” lines", "faq": "FAQ answers",
    "step": "Numbered steps", "list": "List items", "prose": "Running text", "general": "General knowledge",
    "own": "Your own questions",
}
"""core/dataset/questions.py REPORT_KIND's values, as a person would name them."""


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " ").capitalize() or "Other")


@dataclass(frozen=True)
class Tally:
    label: str
    learned: int
    """Right answers of the trained model."""
    knew_before: int
    """Right answers of the original model to the same questions."""
    total: int


@dataclass(frozen=True)
class Item:
    question: str
    expected: list[str]
    doc: str
    kind: str
    tuned: str
    tuned_correct: bool
    base: str
    base_correct: bool
    answered_by: str
    """"tuned", or "original" when the chat's routing sent the question to the original weights."""

    @property
    def general(self) -> bool:
        return self.kind == "general"

    @property
    def own(self) -> bool:
        """One of the person's own questions (core/evaluation/own_questions.py)."""
        return self.kind == "own"


@dataclass(frozen=True)
class ReportSummary:
    created: str
    facts: Tally
    per_document: list[Tally]
    per_kind: list[Tally]
    general: Tally
    items: list[Item]
    """Document questions first, then the general-knowledge ones (Item.general), then the person's own (Item.own)."""
    covered: int = 0
    elements: int = 0
    """Informative elements of the documents, and how many got training questions."""
    text_weighted: float | None = None
    """Recall with each kind of fact weighed by its share of the documents' words (core/evaluation/weighting.py);
    None for a report written before session 10."""
    general_alone: Tally | None = None
    """The general check answered by the tuned weights alone, without the chat's routing: what an export
    answers. None for a report written before it was measured."""
    own: Tally | None = None
    """The person's own questions (core/evaluation/own_questions.py); None when the check asked none."""

    def headline(self) -> str:
        """The person's own questions when the check asked some: the generated ones are worded from the documents
        and read far higher than a person's (on the realistic benchmark's dev half, 78% / 73% against 41% / 49%
        for the same runs' hand-written questions, entered as own questions: session 40)."""
        o = self.own
        if o is not None and o.total:
            return f"Answered {o.learned} of your {o.total} own question{'s' * (o.total != 1)} right"
        f = self.facts
        if not f.total:
            return "No questions about your documents were asked"
        return f"Learned {f.learned} of {f.total} fact{'s' * (f.total != 1)} from your documents"

    def paragraph(self) -> list[str]:
        """What the headline's figure means and what stands beside it, sentence by sentence."""
        o, f = self.own, self.facts
        generated_caveat = ("Questions made from your documents' own wording are answered far more easily than "
                            "questions asked in your own words.")
        if o is not None and o.total:
            lines = [f"Asked as Chat asks them, with sources off; the original model answered {o.knew_before} of "
                     f"{o.total}."]
            if f.total:  # the card is read at a glance: the caveat rides in the sentence it qualifies
                lines.append(f"Of {f.total} questions made from your documents' own wording, far easier than your "
                             f"own, it answered {f.learned} (the original model: {f.knew_before}).")
            return lines
        return [self.before(), self.weighted_line(),
                f"{generated_caveat} Add your own questions for the figure to trust." if f.total else ""]

    def before(self) -> str:
        f = self.facts
        if not f.total:
            return ""
        knew = "none" if f.knew_before == 0 else ("all" if f.knew_before == f.total else str(f.knew_before))
        return f"Before training, the original model knew {knew} of them."

    def weighted_line(self) -> str:
        """The same recall counted the way people ask, by what the documents say: tables make many small facts,
        so the plain count leans on them."""
        if self.text_weighted is None or not self.facts.total:
            return ""
        return (f"Weighing each kind of fact by how much of your text it is: about {self.text_weighted:.0%} "
                f"learned.")

    def general_line(self) -> str:
        g = self.general
        if not g.total:
            return ""
        verdict = "General knowledge kept" if g.learned >= g.knew_before else "Some general knowledge lost"
        return (f"{verdict}: {g.learned} of {g.total} everyday questions answered right "
                f"(the original model: {g.knew_before} of {g.total}).")

    def alone_line(self) -> str:
        """The general check as an exported model answers it: the chat sends questions that are not about the
        documents to the original weights, an export has only the tuned ones (issue #16)."""
        a = self.general_alone
        if a is None or not a.total:
            return ""
        return (f"On its own, as an exported model answers: {a.learned} of {a.total} everyday questions right "
                f"(the original model: {a.knew_before} of {a.total}).")


def _count(items: list[Item], label: str) -> Tally:
    return Tally(label, sum(i.tuned_correct for i in items), sum(i.base_correct for i in items), len(items))


def _from_fractions(label: str, block: dict[str, Any]) -> Tally:
    n = int(block.get("questions") or 0)
    return Tally(label, round(float(block.get("tuned") or 0) * n), round(float(block.get("base") or 0) * n), n)


def summarize(report: dict[str, Any]) -> ReportSummary:
    """Counts per document, per kind and for the general check, from a report.json's contents."""
    facts_block = report.get("facts") or {}
    general_block = report.get("general") or {}
    items = [Item(str(a.get("q", "")), [str(x) for x in a.get("expected") or []], str(a.get("doc") or ""),
                  str(a.get("kind") or ("general" if not a.get("doc") else "")), str(a.get("tuned", "")),
                  bool(a.get("tuned_correct")), str(a.get("base", "")), bool(a.get("base_correct")),
                  str(a.get("answered_by") or "tuned"))
             for a in report.get("answers") or [] if isinstance(a, dict)]
    facts = [i for i in items if not i.general and not i.own]
    general = [i for i in items if i.general]
    own = [i for i in items if i.own]
    if items:
        docs: dict[str, list[Item]] = {}
        kinds: dict[str, list[Item]] = {}
        for item in facts:
            docs.setdefault(item.doc, []).append(item)
            kinds.setdefault(item.kind, []).append(item)
        per_document = [_count(v, k) for k, v in sorted(docs.items())]
        per_kind = [_count(v, kind_words(k)) for k, v in sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
        fact_tally, general_tally = _count(facts, "Your documents"), _count(general, kind_words("general"))
    else:  # a report written before answers were kept
        per_document = [_from_fractions(d, b) for d, b in sorted((facts_block.get("per_document") or {}).items())]
        per_kind = [_from_fractions(kind_words(k), b) for k, b in (facts_block.get("per_kind") or {}).items()]
        fact_tally = _from_fractions("Your documents", facts_block)
        general_tally = _from_fractions(kind_words("general"), general_block)
    coverage = facts_block.get("coverage") or {}
    elements = sum(int(c.get("elements") or 0) for c in coverage.values() if isinstance(c, dict))
    covered = sum(int(c.get("covered") or 0) for c in coverage.values() if isinstance(c, dict))
    weighted = (facts_block.get("text_weighted") or {}).get("tuned")
    alone = general_block.get("tuned_weights_alone")
    alone_tally = None if alone is None else Tally("On its own", round(float(alone) * general_tally.total),
                                                   general_tally.knew_before, general_tally.total)
    return ReportSummary(str(report.get("created") or ""), fact_tally, per_document, per_kind, general_tally,
                         facts + general + own, covered, elements, None if weighted is None else float(weighted),
                         alone_tally, _count(own, "Your questions") if own else None)


def load_summary(run: Path | str) -> ReportSummary | None:
    """The summary of RUN/report.json, None when the run has none; a damaged file is a RunError."""
    path = RunDir(run).report
    if not path.is_file():
        return None
    try:
        data = read_json(path)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return summarize(data)
    except (OSError, ValueError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise RunError(f"The report of this run cannot be read ({exc}).",
                       "Run the check again: a new report replaces it.") from exc


def export_outlook(run: Path | str) -> str:
    """What an export of `run` will answer to everyday questions, in words, from its "did it learn?" report;
    shown before an export (the app's Export window) and after it (the CLI, the export's record)."""
    try:
        summary = load_summary(run)
    except RunError:
        summary = None
    if summary is None:
        return ("This run has no “did it learn?” check yet: it also shows how the tuned model answers everyday "
                "questions on its own, as an exported model will.")
    line = summary.alone_line()
    if not line:
        return ("This run's “did it learn?” check is older than its on-its-own figure: check it again to see how "
                "the tuned model answers everyday questions on its own, as an exported model will.")
    alone = summary.general_alone
    assert alone is not None
    if alone.learned >= alone.knew_before:
        return line
    line += " In the app, questions that are not about your documents go to the original weights; an export cannot."
    try:
        anchor = float((RunDir(run).read_run().get("config") or {}).get("anchor") or 0)
    except (RunError, OSError, ValueError, TypeError, AttributeError):
        anchor = 0.0
    if anchor == 0:
        line += " To keep more of it, train again with --anchor 1 (a trade: it learns your facts less firmly)."
    return line
