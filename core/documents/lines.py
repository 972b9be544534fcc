"""Text without markup still has structure, and only the shape of its lines tells it.

Plain text has no tags, and the text pdfplumber gives back keeps only lines and ruled tables, so
bullets, steps, "Q:" questions, headings and column tables must be guessed line by line, and
running headers and page numbers dropped first. That guessing is one job shared by the .txt
reader, the PDF reader and the fallback for a file whose parser failed, so it lives apart from both.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator

from core.documents.cleaning import (PAGE_BREAK, _edges, _join, _line_key, boilerplate_keys, clean_text, is_noise_line,
                                     normalise)
from core.documents.drafts import ANSWER_LINE, QUESTION_LINE, WS, Draft, asked_and_answered, pair, table_drafts

_BULLET = re.compile(r"^(?:[-*•◦▪–—]|[a-z]\)|\(cid:\d+\))\s+(\S.*)$")  # '(cid:127)': a bullet glyph without a name
_STEP = re.compile(r"^(\d{1,3})[.)]\s+(\S.*)$")
_STEP_WORD = re.compile(r"^(?:step|schritt|étape|paso|passo)\s+(\d{1,3})\s*[:.)–-]?\s*(\S.*)$", re.IGNORECASE)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*$")
_COLUMNS = re.compile(r"\t+| {2,}")
_SENTENCE_END = re.compile(r"[.!?:;,…。\"”’')\]]$")


def text_drafts(text: str, paged: bool) -> list[Draft]:
    """Plain text (and the PDF fallback): pages separated by form feeds."""
    return lines_drafts([page.split("\n") for page in normalise(text).split(PAGE_BREAK)], paged)


def lines_drafts(pages: list[list[Any]], paged: bool) -> list[Draft]:
    """Pages of lines (str) and tables (lists of rows): drop running headers, footers and page numbers, classify."""
    flat = [[WS.sub(" ", x).strip() for x in page if isinstance(x, str)] for page in pages]
    drop = boilerplate_keys(flat)
    entries: list[tuple[int, Any]] = []
    for n, page in enumerate(pages):
        edges, k = (_edges(flat[n]) if drop else set()), 0
        for x in page:
            if isinstance(x, str):
                line, k = flat[n][k], k + 1
                noise = is_noise_line(line) and not _columns(x)  # a row of numbers is data, not a page number
                if line and (noise or (k - 1 in edges and _line_key(line) in drop)):
                    continue
            entries.append((n + 1 if paged else 0, x))
    drafts = _classify(entries)
    if drafts and drafts[0].kind == "heading" and drafts[0].level == 2:
        drafts[0].level = 1  # a headline on the first line titles the document
    if drafts and drafts[-1].kind == "heading" and drafts[-1].level == 2:
        drafts[-1].kind = "paragraph"  # a heading heads something; a short last line does not
    return drafts


def _classify(entries: list[tuple[int, Any]]) -> list[Draft]:
    """Structured lines stand alone; runs of prose go through cleaning.clean_text to rebuild wrapped paragraphs."""
    out: list[Draft] = []
    prose: list[str] = []
    table: list[list[str | None]] = []
    state: dict[str, Any] = {"page": 0, "open": None}  # the prose's page; the item that wrapped lines continue

    def flush() -> None:
        out.extend(_prose_drafts(prose, state["page"]))
        out.extend(table_drafts(table))
        prose.clear()
        table.clear()

    for k, (page, x) in enumerate(entries):
        if not isinstance(x, str):
            flush()
            out.extend(replace(d, page=page) for d in table_drafts(x))
            continue
        line = WS.sub(" ", x).strip()
        cols = _columns(x)
        if not line:
            flush()
            state["open"] = None
            continue
        if table and len(cols) == len(table[0]):
            table.append(list(cols))
            continue
        if table:
            flush()
        question_ok = not prose or bool(_SENTENCE_END.search(prose[-1]))
        draft = _line_draft(line, out[-1] if out and not prose else None, question_ok)
        if draft is None and len(cols) >= 2 and not any(c.endswith((".", "!", "?")) for c in cols) \
                and k + 1 < len(entries) and isinstance(entries[k + 1][1], str) \
                and len(_columns(entries[k + 1][1])) == len(cols):  # a header line, then a row like it
            flush()
            table.append(list(cols))
            continue
        opened = state["open"]
        if draft is None and opened is not None and not prose and opened.kind == "key_value" and line[:1].islower():
            (key, value), = opened.cells
            opened.cells = ((key, _join(value, line, True)),)  # 'Returns: the pointer to' / 'the new element.'
            continue
        if draft is None and opened is not None and not prose and opened.kind != "key_value" and (
                opened.kind == "paragraph" or line[:1].islower() or x[:1].isspace()):
            opened.text += " " + line  # a wrapped bullet or answer goes on
            continue
        if draft is None:
            if prose and page != state["page"] and _SENTENCE_END.search(prose[-1]):
                flush()
            if not prose:
                state["page"] = page
            prose.append(line)
            state["open"] = None
            continue
        flush()
        draft.page = page
        out.append(draft)
        state["open"] = draft if draft.kind in ("list_item", "step", "paragraph", "key_value") else None  # paragraph: an answer
    flush()
    return out


def _line_draft(line: str, prev: Draft | None, question_ok: bool) -> Draft | None:
    """One line that is structure on its own, or None for prose."""
    if m := _MD_HEADING.match(line):
        return Draft("heading", m.group(2), level=len(m.group(1)))
    if m := QUESTION_LINE.match(line):
        return Draft("question", m.group(1), marked=True)
    if prev is not None and prev.marked and ANSWER_LINE.match(line):
        return Draft("paragraph", line)  # an answer (structure._finish cuts its marker); its wrapped lines follow
    if m := _BULLET.match(line):
        return Draft("list_item", m.group(1))
    if m := _STEP.match(line) or _STEP_WORD.match(line):
        return Draft("step", m.group(2), number=int(m.group(1)))
    if kv := pair(line):
        return Draft("key_value", cells=(kv,))
    if question_ok and line.endswith("?") and line[:1].isupper() and len(line.split()) <= 25:
        return Draft("question", line)
    return None


def _columns(line: str) -> list[str]:
    """Cells of a line of a text table ('a | b', tab- or 2+-space-separated), [] for other lines."""
    line = line.strip()
    if not any(ch.isalnum() for ch in line):
        return []  # "|---|---|", "----  ----"
    if " | " in line or line.startswith("|"):
        cells = [c.strip() for c in line.strip("|").split("|")]
    else:
        cells = [c.strip() for c in _COLUMNS.split(line)]
    return cells if len(cells) >= 2 and all(len(c.split()) <= 8 for c in cells) else []  # not "End.  Next"


def _prose_drafts(lines: list[str], page: int) -> Iterator[Draft]:
    """Paragraphs rebuilt by clean_text; a single short line without final punctuation is a heading."""
    if not lines:
        return
    single = set(lines)
    for passage in clean_text("\n".join(lines)):
        if passage in single and len(passage.split()) <= 10 and not _SENTENCE_END.search(passage) \
                and (passage[:1].isupper() or passage[:1].isdigit()):
            yield Draft("heading", passage, level=1 if passage.isupper() else 2, page=page)
        elif passage.endswith("?") and len(passage.split()) <= 25:
            yield Draft("question", passage, page=page)
        elif asked := asked_and_answered(passage):
            for draft in asked:
                draft.page = page
                yield draft
        else:
            yield Draft("paragraph", passage, page=page)
