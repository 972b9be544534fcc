"""A table without ruling lines is told only by the empty channels its columns leave on the page.

pdfplumber finds a table by its lines; a manual's troubleshooting table ("Code | Meaning | What to
do") or a price list is often drawn without any, and its text comes back as lines that read like a
heading followed by run-on sentences. What still marks it is the whitespace: a vertical channel
that stays empty down three or more consecutive lines while text stands on both sides of it (the
text-edge idea behind Tabula's stream mode, Nurminen 2013). Prose cannot keep such a channel: a
word in one of the lines crosses it, even in justified text whose wide gaps fall at different
places on every line. pdfplumber's own `vertical_strategy="text"` finds columns in any paragraph
with a few aligned word edges, so it is not used here.

Language-independent: only positions, sizes and fonts decide, plus list markers ("•", "1.") so a
list with a hanging indent stays a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.documents.cleaning import normalise
from core.documents.drafts import first_row_is_header

_WIDE = 0.8  # a gap at least this many font sizes wide separates cells (a space is ~0.28)
_CHANNEL = 0.3  # the empty channel kept by every line of a table is at least this wide
_ROW_GAP = 2.0  # a blank band taller than this many sizes ends a table
_TIGHT = 0.5  # a line this close below the one before continues its cells (a wrapped cell)
# a list's marker: "•", "1.", "3", "a)", or a bullet glyph without a name ("(cid:127)")
_MARKER = re.compile(r"^(?:(?:[^\w\s]|\(cid:\d+\))+|\(?\d{1,3}[.)]?|\(?[a-zA-Z][.)])$")
_BULLET = re.compile(r"^(?:[^\w\s]|\(cid:\d+\))+$")


@dataclass
class _Line:
    top: float
    bottom: float
    size: float
    words: list[tuple[float, float, str]]  # (x0, x1, text), left to right
    fonts: frozenset[str]


@dataclass
class ColumnTable:
    """Lines first..end-1 of the page form a table; rows[0] is the header ([None, ...] when it has none)."""

    first: int
    end: int
    bottom: float
    rows: list[list[str | None]]


def column_tables(lines: list[dict[str, Any]]) -> list[ColumnTable]:
    """Unruled tables among pdfplumber's text lines (extract_text_lines(return_chars=True)), in order."""
    from pdfplumber.utils import extract_words

    parsed = []
    for line in lines:
        words = extract_words(line.get("chars", []), x_tolerance_ratio=0.15)  # the line's chars hold no spaces
        parsed.append(_Line(
            line["top"], line["bottom"], line["bottom"] - line["top"],
            sorted((w["x0"], w["x1"], w["text"]) for w in words),
            frozenset(c.get("fontname", "") for c in line.get("chars", []))))
    found: list[ColumnTable] = []
    i = 0
    while i < len(parsed):
        table = _table_at(parsed, i)
        if table is None:
            i += 1
        else:
            found.append(table)
            i = table.end
    return found


def _table_at(lines: list[_Line], i: int) -> ColumnTable | None:
    """Grow a table from line i while every line keeps the channels open; None if it is no table."""
    first = lines[i]
    size = first.size
    if not first.words or len(_segments(first, size)) < 2:
        return None
    window = [first]
    channels = _channels(window, size)
    for line in lines[i + 1:]:
        gap = line.top - window[-1].bottom
        if not line.words or abs(line.size - size) > 0.2 * size or gap > _ROW_GAP * size:
            break
        grown = _channels(window + [line], size)
        if not grown or not all(any(_overlap(c, g) for g in grown) for c in channels):
            break  # the line runs across a column: prose, or a heading after the table
        if len(_filled(line, grown)) < 2 and gap > _TIGHT * size:
            break  # a lone short line below the table is not a cell of it
        window.append(line)
        channels = grown
    if len(window) < 3 or _in_paragraph(lines[i - 1] if i else None, window, size) \
            or _in_paragraph(lines[i + len(window)] if i + len(window) < len(lines) else None, window, size):
        return None
    rows = _rows(window, channels, size)
    if rows is None:
        return None
    return ColumnTable(i, i + len(window), window[-1].bottom, rows)


def _in_paragraph(line: _Line | None, window: list[_Line], size: float) -> bool:
    """A line set close to the window with the same left and right edges: the window is lines of a
    justified paragraph, whose stretched gaps happen to line up in a narrow column (two words a line)."""
    if line is None or not line.words or abs(line.size - size) > 0.2 * size:
        return False
    gap = max(line.top - window[-1].bottom, window[0].top - line.bottom)
    left, right = min(ln.words[0][0] for ln in window), max(ln.words[-1][1] for ln in window)
    return gap <= _TIGHT * size and abs(line.words[0][0] - left) <= 1 and abs(line.words[-1][1] - right) <= 1


def _segments(line: _Line, size: float) -> list[tuple[float, float]]:
    """The line's ink as spans; words closer than a wide gap belong to one span."""
    spans: list[list[float]] = []
    for x0, x1, _ in line.words:
        if spans and x0 - spans[-1][1] < _WIDE * size:
            spans[-1][1] = max(spans[-1][1], x1)
        else:
            spans.append([x0, x1])
    return [(a, b) for a, b in spans]


def _channels(window: list[_Line], size: float) -> list[tuple[float, float]]:
    """Vertical bands between the window's leftmost and rightmost ink that no line's span touches."""
    free = [(min(ln.words[0][0] for ln in window), max(ln.words[-1][1] for ln in window))]
    for line in window:
        for a, b in _segments(line, size):
            free = [piece for lo, hi in free for piece in ((lo, min(hi, a)), (max(lo, b), hi)) if piece[1] > piece[0]]
    return [(lo, hi) for lo, hi in free if hi - lo >= _CHANNEL * size]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _cells(line: _Line, channels: list[tuple[float, float]]) -> list[str]:
    """The line's words per column: a word belongs left of every channel its centre is left of."""
    cells: list[list[str]] = [[] for _ in range(len(channels) + 1)]
    for x0, x1, text in line.words:
        column = sum(1 for lo, hi in channels if (x0 + x1) / 2 > (lo + hi) / 2)
        cells[column].append(text)
    return [normalise(" ".join(c)) for c in cells]


def _filled(line: _Line, channels: list[tuple[float, float]]) -> list[int]:
    return [k for k, c in enumerate(_cells(line, channels)) if c]


def _rows(window: list[_Line], channels: list[tuple[float, float]], size: float) -> list[list[str | None]] | None:
    """Lines grouped into rows (a wrapped cell's lines join), checked to be a table; None if not one.

    When row spacing is wider than a cell's line spacing, spacing tells a new row; when all lines are
    evenly spaced, a line with an empty first column continues the row above.
    """
    gaps = [b.top - a.bottom for a, b in zip(window, window[1:])]
    spaced = max(gaps) - min(gaps) > 0.25 * size
    cut = (max(gaps) + min(gaps)) / 2
    grouped: list[list[str]] = []
    for k, line in enumerate(window):
        cells = _cells(line, channels)
        joins = k > 0 and (gaps[k - 1] < cut if spaced else not cells[0])
        if not joins:
            grouped.append(cells)
            continue
        for c, text in enumerate(cells):
            grouped[-1][c] = _join(grouped[-1][c], text)
    header, body = grouped[0], grouped[1:]
    if len(body) < 2 or sum(1 for c in header if c) < 2 or sum(1 for r in body if sum(1 for c in r if c) >= 2) < 2:
        return None
    if _MARKER.match(header[0]) or all(_BULLET.match(r[0]) for r in body) or any(len(c.split()) > 12 for c in header):
        return None  # "•  item", "1.  step" with a hanging indent: a list; a sentence is no column header
    rows: list[list[str | None]] = [list(r) for r in grouped]
    if not _has_header(window, grouped):
        rows.insert(0, [None] * len(header))
    return rows


def _join(a: str, b: str) -> str:
    if not a or not b:
        return a or b
    if a.endswith("-") and a[-2:-1].isalpha() and b[:1].islower():
        return a[:-1] + b  # "Tempera-" "ture"
    return f"{a} {b}"


def _has_header(window: list[_Line], rows: list[list[str]]) -> bool:
    """Is the first row a header? Yes when set in a font the body does not use (bold); no when it looks
    like the body: "Weight:  5.8 kg" lines, or numbers in a column that holds numbers all the way down."""
    body_fonts = frozenset().union(*(ln.fonts for ln in window[1:]))
    return bool(window[0].fonts - body_fonts) or first_row_is_header(rows)
