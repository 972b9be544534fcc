"""A document as a list of typed elements: what was read, before anything is learned from it.

Flattening a document into sentences loses what people put in tables, lists
and "Key: value" lines, which is most of what a handbook or a manual says: a
table row glued to its neighbours reads as one run-on sentence, and a bullet
without its heading says nothing about what it belongs to. So every reader
yields elements (the docling / unstructured idea): each knows its kind, its
heading path and where it came from, and a table row keeps its column headers.
The dataset builder (core/dataset/questions.py) turns each kind into
questions its own way; chunking renders elements back into passages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("heading", "paragraph", "list_item", "step", "table_row", "key_value", "qa", "caption")
"""heading: a section title; paragraph: running prose (one paragraph, several sentences);
list_item: a bullet; step: an item of a numbered list; table_row: one row with its column headers;
key_value: a "Key: value" line or a definition-list entry; qa: a question with its answer (FAQ,
troubleshooting); caption: a figure or table caption."""


@dataclass(frozen=True)
class Element:
    kind: str
    """One of KINDS."""

    text: str
    """The element as a person reads it: a paragraph, an item's text, a row rendered 'Header: cell; …'."""

    headings: tuple[str, ...] = ()
    """The heading path above it, outermost first (the document title, when it has one, is first)."""

    source: str = ""
    """The document's name (core.documents.ingest.DocumentRecord.name)."""

    page: int = 0
    """1-based page for paged formats (PDF), 0 elsewhere."""

    cells: tuple[tuple[str, str], ...] = ()
    """table_row: (column header, cell) pairs in column order, the row label first.
    key_value: one pair (key, value). qa: one pair (question, answer). Empty for the other kinds."""

    number: int = 0
    """step: its position in the numbered list (1-based); 0 elsewhere."""

    table: str = ""
    """table_row: the table's caption or the heading it sits under, when known."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v not in ((), "", 0) or k in ("kind", "text")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Element":
        return cls(
            kind=data["kind"], text=data["text"], headings=tuple(data.get("headings", ())),
            source=data.get("source", ""), page=int(data.get("page", 0)),
            cells=tuple((str(a), str(b)) for a, b in data.get("cells", ())), number=int(data.get("number", 0)),
            table=data.get("table", ""),
        )

    @property
    def section(self) -> str:
        """The nearest heading ('' when none)."""
        return self.headings[-1] if self.headings else ""


def render(element: Element) -> str:
    """One line of passage text that keeps the element's structure readable on its own."""
    if element.kind == "heading":
        return element.text
    if element.kind == "table_row" and element.cells:
        return "; ".join(f"{h}: {c}" if h else c for h, c in element.cells if c)
    if element.kind == "key_value" and element.cells:
        key, value = element.cells[0]
        return f"{key}: {value}"
    if element.kind == "qa" and element.cells:
        q, a = element.cells[0]
        return f"{q} {a}"
    if element.kind == "step" and element.number:
        return f"{element.number}. {element.text}"
    if element.kind == "list_item":
        return f"- {element.text}"
    return element.text


@dataclass
class StructuredText:
    """What a reader got out of one file: elements in reading order, and the plain text for the rest."""

    elements: list[Element] = field(default_factory=list)
    pages: int = 0
    truncated: bool = False
    language: str = ""
    """ISO 639-1 code of the document's main language ('en', 'de', …), '' when unknown."""
