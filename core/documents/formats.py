"""Each format's own parser knows its structure better than any guess from flat text.

Markdown, HTML and Word say outright what is a heading, a list or a table, and pdfplumber finds
ruled tables that pypdf's text runs together; so each is read by its parser into drafts. They are
kept out of structure.py, which decides only what happens to drafts, and out of readers.py, whose
flat text must keep working when one of these parsers fails.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from core.documents.cleaning import normalise
from core.documents.drafts import (ALL, HARD_BREAK, Draft, first_row_is_header, opening_question, paragraph_drafts,
                                   table_drafts, title_row)
from core.documents.lines import lines_drafts
from core.documents.pdf_columns import column_tables
from core.documents.readers import _DROP_TAGS, decode_text


# ------------------------------------------------------------------- markdown


def md_drafts(text: str) -> list[Draft]:
    """markdown-it tokens: headings, paragraphs, list items (steps keep the list's start), GFM tables."""
    from markdown_it import MarkdownIt

    out: list[Draft] = []
    lists: list[list[int]] = []  # [ordered, items so far]
    item: Draft | None = None
    items: list[Draft] = []  # the open items, outermost first: a nested list's parent is the last
    heading = 0
    row: list[str | None] | None = None  # the table row being read
    rows: list[list[str | None]] = []  # the table's rows so far
    for tok in MarkdownIt("commonmark").enable("table").parse(text):
        t = tok.type
        if t in ("bullet_list_open", "ordered_list_open", "bullet_list_close", "ordered_list_close",
                 "list_item_open", "list_item_close") and item is not None:
            out.append(item)  # an item's own text comes before its nested list
            item = None
        if t in ("bullet_list_open", "ordered_list_open"):
            lists.append([t == "ordered_list_open", int(tok.attrGet("start") or 1) - 1])
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t == "list_item_open":
            lists[-1][1] += 1
            ordered, n = lists[-1]
            parent = items[-1].text if items else ""
            item = Draft("step", number=n, parent=parent) if ordered else Draft("list_item", parent=parent)
            items.append(item)
        elif t == "list_item_close":
            items.pop()
        elif t in ("heading_open", "heading_close"):
            heading = int(tok.tag[1]) if t == "heading_open" else 0
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            rows.append(row)
            row = None
        elif t == "table_close":
            out.extend(table_drafts(rows))
            rows = []
        elif t in ("fence", "code_block", "html_block"):
            content = re.sub(r"<!--.*?-->|<[^>]+>", " ", tok.content, flags=re.S) if t == "html_block" else tok.content
            out.append(Draft("paragraph", content))
        elif t == "inline":
            content, bold, bold_first = _md_inline(tok)
            if row is not None:
                row.append(content)
            elif heading:
                out.append(Draft("heading", content, level=heading))
            elif item is not None:
                item.text = f"{item.text}\n{content}" if item.text else content
            else:
                one_line = "\n" not in content
                out.extend(one_line and opening_question(_pieces(tok.children or [])) or
                           paragraph_drafts(content, bold, bold_first))
    return out


def _md_inline(tok: Any) -> tuple[str, bool, bool]:
    """Inline text without markup (links keep their text), whether it is all bold, and whether its first line
    is all bold while more lines follow."""
    parts, marks = [], []
    for child in tok.children or []:
        if child.type.startswith("text") or child.type == "code_inline":
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        if child.content.strip() or not child.type.startswith("text"):
            marks.append(child.type)
    breaks = [i for i, m in enumerate(marks) if m in ("softbreak", "hardbreak")]
    first = marks[: breaks[0]] if breaks else []
    return "".join(parts), _all_bold(marks), bool(first) and _all_bold(first) and len(marks) > len(first) + 1


def _pieces(children: list[Any]) -> list[tuple[str, bool]]:
    """A Markdown line's text pieces, each with whether it is bold."""
    out, depth = [], 0
    for child in children:
        depth += {"strong_open": 1, "strong_close": -1}.get(child.type, 0)
        if child.type.startswith("text") or child.type == "code_inline":
            out.append((child.content, depth > 0))
    return out


def _all_bold(marks: list[str]) -> bool:
    return len(marks) >= 3 and marks[0] == "strong_open" and marks[-1] == "strong_close" and marks.count("strong_open") == 1


# ----------------------------------------------------------------------- html

_HTML_BLOCKS = ("p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "dl", "dt", "dd",
                "section", "article", "main", "aside", "blockquote", "pre", "figure", "figcaption", "caption",
                "details", "summary", "address", "form", "fieldset", "hr", "center")


def html_drafts(path: Path, max_chars: int) -> list[Draft]:
    """BeautifulSoup, with the page furniture readers.py drops gone; <title> titles a page without <h1>."""
    from bs4 import BeautifulSoup

    with path.open("rb") as fh:
        data = fh.read(max_chars + 1)
    soup = BeautifulSoup(decode_text(data[:max_chars], final=len(data) <= max_chars), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for br in soup.find_all("br"):
        br.append(HARD_BREAK)  # a line break get_text keeps; replace_with searches the parent: quadratic
    h1 = soup.find("h1")
    drafts = list(_html_walk(soup.body or soup))
    site = site_name(title, h1.get_text(" ", strip=True) if h1 else "")
    if site:
        drafts.insert(0, Draft("heading", site, level=0))
    return drafts


_TITLE_PARTS = re.compile(r"\s+[|·•—–:-]\s+|\s*\|\s*")


def site_name(title: str, h1: str) -> str:
    """What a page's <title> adds to its <h1>: the name of what the page is about.

    A page's <h1> is often generic ("Frequently asked questions") and its <title> names the site too
    ("FAQ | Fernhill Leisure Pool"); without the site's name, questions about the page are asked "of
    Frequently asked questions" and none names what a person asks about ("the pool"). Parts of the title that
    repeat the <h1> (its words, or its initials: "FAQ") are left out; of the rest the last is the site's name,
    where "Page | Site" puts it. '' when the title says nothing the <h1> does not. Where the <h1> is a name and a
    part of the title is that name with more words, that part is the page's subject ("AquaPure 500 Water
    Filter — Product Sheet" over "AquaPure 500"), and what follows it says what kind of page it is.
    """
    if not title or not h1:
        return title
    words = {w.lower() for w in re.findall(r"\w+", h1)}
    fuller = [p.strip() for p in _TITLE_PARTS.split(title) if words < {w.lower() for w in re.findall(r"\w+", p)}]
    if fuller and (_name_like(h1) or re.search(r"\d|[a-z][A-Z]", h1)):
        return fuller[0]  # 'AquaPure 500 Water Filter — Product Sheet' over <h1>AquaPure 500</h1>: the fuller name
    initials = "".join(w[0] for w in re.findall(r"\w+", h1)).lower()
    parts = [p for p in _TITLE_PARTS.split(title) if p.strip()]
    rest = [p.strip() for p in parts
            if not {w.lower() for w in re.findall(r"\w+", p)} & words and p.strip().lower() != initials]
    if rest and _name_like(h1) and not _name_like(rest[-1]):
        return ""  # 'Brookside Swim School — FAQ' over <h1>Brookside Swim School</h1>: the <h1> is the name
    return rest[-1] if rest else ""


def _name_like(text: str) -> bool:
    """'Brookside Swim School', 'Fernhill Leisure Pool': two capitalised words or more, and no other word
    but short ones ('of', 'la'); 'FAQ', 'Opening times' and 'Contact us' name a page, not what it is about."""
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    return sum(w[0].isupper() for w in words) >= 2 and all(w[0].isupper() or len(w) <= 3 for w in words)


def _html_walk(node: Any) -> Iterator[Draft]:
    """Block children in order; loose inline text between them is a paragraph."""
    from bs4.element import Tag

    inline: list[str] = []
    for child in node.children:
        if isinstance(child, Tag) and (child.name in _HTML_BLOCKS or child.find(_HTML_BLOCKS)):
            yield from paragraph_drafts("".join(inline))
            inline.clear()
            yield from _html_block(child)
        else:
            inline.append(_html_text(child))
    yield from paragraph_drafts("".join(inline))


def _html_block(tag: Any) -> Iterator[Draft]:
    name = tag.name
    if re.fullmatch(r"h[1-6]", name):
        yield Draft("heading", tag.get_text(" "), level=int(name[1]))
    elif name == "p":
        texts = [s for s in tag.find_all(string=True) if s.strip()]
        bold = bool(texts) and all(s.find_parent(("strong", "b")) for s in texts)
        yield from (opening_question([(str(s), s.find_parent(("strong", "b")) is not None) for s in texts])
                    or paragraph_drafts(tag.get_text(), bold))
    elif name in ("ul", "ol"):
        yield from _html_list(tag)
    elif name == "table":
        yield from _html_table(tag)
    elif name == "dl":
        key = ""
        for c in tag.find_all(("dt", "dd")):
            if c.find_parent("dl") is not tag:
                continue
            if c.name == "dt":
                key = c.get_text(" ")
            else:
                kind = "qa" if key.strip().endswith("?") else "key_value"
                yield Draft(kind, cells=((key, c.get_text(" ")),)) if key.strip() else Draft("paragraph", c.get_text(" "))
    elif name in ("caption", "figcaption"):
        yield Draft("caption", tag.get_text(" "))
    elif name == "summary":
        yield Draft("question", tag.get_text(" "), take=ALL)
    elif name == "li":
        yield Draft("list_item", tag.get_text(" "))
    elif name != "hr":
        yield from _html_walk(tag)


def _html_list(tag: Any, parent: str = "") -> Iterator[Draft]:
    """ul → list_item, ol → step numbered from its start (or an item's value); nested lists follow their item."""
    ordered = tag.name == "ol"
    n = _int(tag.get("start"), 1) - 1
    for li in tag.find_all("li", recursive=False):
        n = _int(li.get("value"), n + 1)
        nested = [sub for sub in li.find_all(("ul", "ol")) if sub.find_parent("li") is li]
        own = "".join(_html_text(c) for c in li.children if not any(c is sub for sub in nested))
        yield Draft("step", own, number=n, parent=parent) if ordered else Draft("list_item", own, parent=parent)
        for sub in nested:
            yield from _html_list(sub, own)


def _html_table(tag: Any) -> Iterator[Draft]:
    """Headers from <thead> or an all-<th> first row, else the first row unless it reads like the rows below it
    (drafts.first_row_is_header); a first row merged across the table is its title; colspan repeats a header."""
    caption_tag = tag.find("caption")
    caption = caption_tag.get_text(" ") if caption_tag and caption_tag.find_parent("table") is tag else ""
    head, body, th_rows = None, [], []
    for tr in tag.find_all("tr"):
        if tr.find_parent("table") is not tag:
            continue
        cells: list[str | None] = []
        found = tr.find_all(("td", "th"), recursive=False)
        for cell in found:
            cells += [cell.get_text(" ")] + [None] * (_int(cell.get("colspan"), 1) - 1)
        if tr.find_parent("thead") is not None:
            head = cells
        elif cells:
            body.append(cells)
            th_rows.append(all(c.name == "th" for c in found))
    title = ""
    if head is None:
        title, body = title_row(body)
        th_rows = th_rows[len(th_rows) - len(body):]
    caption = caption or title
    if caption:
        yield Draft("caption", caption)
    if head is None and not (th_rows and th_rows[0]) and len(body) >= 2 \
            and not first_row_is_header(body):
        head = [None] * len(body[0])  # "Phone | 01632 960 118" rows: no header row
    yield from table_drafts(([head] if head else []) + body, caption)


def _html_text(node: Any) -> str:
    """A node's text; comments and the doctype are not text."""
    from bs4.element import PreformattedString, Tag

    return node.get_text() if isinstance(node, Tag) else "" if isinstance(node, PreformattedString) else str(node)


def _int(value: Any, default: int) -> int:
    try:
        return max(1, int(value)) if value is not None else default
    except (TypeError, ValueError):
        return default


# ----------------------------------------------------------------------- docx


def docx_drafts(path: Path, max_chars: int) -> list[Draft]:
    """Paragraph styles tell headings and lists; numbered items are counted here (Word keeps no numbers).

    Word's own lists are 'List Paragraph's with a numbering of their own (w:numPr), and only the document's
    numbering part says whether that numbering is bullets or numbers (_docx_list_formats): read as bullets,
    a numbered procedure written in Word had no steps. Its count runs on across paragraphs, as Word shows it;
    the 'List Number' style's (what python-docx writes) restarts after one, as before.
    max_chars is not needed: _finish stops there, and a .docx is as big as its zip allows.
    """
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    formats = _docx_list_formats(document)
    out: list[Draft] = []
    counters: dict[int, int] = {}  # 'List Number' style items by depth
    counts: dict[tuple[int, int], int] = {}  # Word list items by (numbering, level)
    items: dict[int, str] = {}  # the last list item's text at each depth: the parent of the next depth's
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            counters.clear()
            items.clear()
            title, rows = title_row(_docx_rows(item))
            if len(rows) >= 2 and not (_docx_header_marked(item) and not title) \
                    and not first_row_is_header(rows):
                rows.insert(0, [None] * len(rows[0]))  # a table of "label | value" rows, no header
            if title:
                out.append(Draft("caption", title))
            out.extend(table_drafts(rows, title))
            continue
        text = item.text
        if not text.strip():
            continue
        style = (item.style.name if item.style is not None else "") or ""
        level = re.fullmatch(r"(?:List Number|List Bullet|Heading) ?(\d?)", style)
        depth = int(level.group(1) or 1) if level else 1
        num = item._p.pPr.numPr if item._p.pPr is not None else None
        num_id = num.numId.val if num is not None and num.numId is not None else 0  # 0: numbering removed
        if style == "Title" or style.startswith("Heading"):  # numbered headings ("1. Introduction") too
            counters.clear()
            items.clear()
            out.append(Draft("heading", text, level=0 if style == "Title" else depth))
        elif num_id and not style.startswith(("List Number", "List Bullet")):
            ilvl = num.ilvl.val if num.ilvl is not None else 0
            depth = ilvl + 1
            fmt, first = formats.get((num_id, ilvl)) or formats.get((num_id, 0)) or ("bullet", 1)
            parent = items.get(depth - 1, "")
            if fmt in ("bullet", "none"):
                out.append(Draft("list_item", text, parent=parent))
            else:
                counts = {k: v for k, v in counts.items() if k[0] != num_id or k[1] <= ilvl}  # a deeper level restarts
                counts[(num_id, ilvl)] = counts.get((num_id, ilvl), first - 1) + 1
                out.append(Draft("step", text, number=counts[(num_id, ilvl)], parent=parent))
            items = {k: v for k, v in items.items() if k < depth} | {depth: text}
        elif style.startswith("List Number"):
            counters = {k: v for k, v in counters.items() if k <= depth}  # a deeper list starts again
            counters[depth] = counters.get(depth, 0) + 1
            out.append(Draft("step", text, number=counters[depth], parent=items.get(depth - 1, "")))
            items = {k: v for k, v in items.items() if k < depth} | {depth: text}
        elif style.startswith("List Bullet") or num_id:
            out.append(Draft("list_item", text, parent=items.get(depth - 1, "")))
            items = {k: v for k, v in items.items() if k < depth} | {depth: text}
        elif style == "Caption":
            counters.clear()
            items.clear()
            out.append(Draft("caption", text))
        else:
            counters.clear()
            items.clear()
            runs = [r for r in item.runs if r.text.strip()]
            out.extend(opening_question([(r.text, bool(r.bold)) for r in item.runs]) or
                       paragraph_drafts(text.replace("\n", HARD_BREAK), bool(runs) and all(r.bold for r in runs)))
    return out


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_list_formats(document: Any) -> dict[tuple[int, int], tuple[str, int]]:
    """(numbering id, level) → (its w:numFmt, 'bullet' or 'decimal' or …, and the number it starts at)."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):  # a document without any list has no numbering part
        return {}
    abstract: dict[str, dict[int, tuple[str, int]]] = {}
    for definition in numbering.findall(f"{_W}abstractNum"):
        levels = {}
        for lvl in definition.findall(f"{_W}lvl"):
            fmt, start = lvl.find(f"{_W}numFmt"), lvl.find(f"{_W}start")
            levels[_whole(lvl.get(f"{_W}ilvl"))] = (fmt.get(f"{_W}val") if fmt is not None else "decimal",
                                                    _int(start.get(f"{_W}val") if start is not None else None, 1))
        abstract[definition.get(f"{_W}abstractNumId") or ""] = levels
    out: dict[tuple[int, int], tuple[str, int]] = {}
    for num in numbering.findall(f"{_W}num"):
        ref = num.find(f"{_W}abstractNumId")
        levels = dict(abstract.get(ref.get(f"{_W}val") or "", {})) if ref is not None else {}
        for override in num.findall(f"{_W}lvlOverride"):  # 'Restart numbering' in Word
            start = override.find(f"{_W}startOverride")
            at = _whole(override.get(f"{_W}ilvl"))
            if start is not None:
                levels[at] = (levels.get(at, ("decimal", 1))[0], _int(start.get(f"{_W}val"), 1))
        for at, value in levels.items():
            out[(_whole(num.get(f"{_W}numId")), at)] = value
    return out


def _whole(value: Any) -> int:
    """A level or numbering id from the XML, where 0 is a value (_int's floor of 1 is for list numbers)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _docx_header_marked(table: Any) -> bool:
    """Word says a first row is the header when it repeats on each page (w:tblHeader), or its text is all bold
    where the next row's is not."""
    rows = list(table.rows)
    tr_pr = rows[0]._tr.trPr if rows else None
    if tr_pr is not None and tr_pr.find(f"{_W}tblHeader") is not None:
        return True

    def bold(row: Any) -> bool:
        runs = [r for cell in row.cells for p in cell.paragraphs for r in p.runs if r.text.strip()]
        return bool(runs) and all(r.bold for r in runs)

    return len(rows) >= 2 and bold(rows[0]) and not bold(rows[1])


def _docx_rows(table: Any) -> list[list[str | None]]:
    """Cells per grid column; a merged cell comes back once per column it spans: given once, then None."""
    rows: list[list[str | None]] = []
    for r, row in enumerate(table.rows):
        cells, seen = list(row.cells), []  # the list keeps the lxml proxies alive, so `is` is identity
        values: list[str | None] = []
        for cell in cells:
            repeat = any(cell._tc is tc for tc in seen)
            seen.append(cell._tc)
            values.append(cell.text if r == 0 or not repeat else None)  # a merged header names every column
        rows.append(values)
    return rows


# ------------------------------------------------------------------------ pdf


def pdf_drafts(path: Path, max_chars: int) -> list[Draft]:
    """pdfplumber: ruled tables and column-aligned unruled ones (pdf_columns) as rows, the text around
    them as lines, page by page in reading order; a page set in two columns is read a column at a time."""
    import pdfplumber

    pages: list[list[Any]] = []
    total = 0
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            items: list[Any] = []
            regions = _reading_regions(page)
            for region in regions:
                whole = len(regions) == 1
                part = page if whole else page.filter(lambda o, r=region: _inside(o, r))  # by centre: no line cut
                region_items, chars = _region_items(part)
                if items and region_items and region[0] <= page.bbox[0]:
                    items.append("")  # what spans the page never runs on into a column, nor the other way
                items += region_items
                total += chars
            pages.append(items)
            page.close()
            if total > max_chars:
                break
    return lines_drafts(pages, paged=True)


def _region_items(page: Any) -> tuple[list[Any], int]:
    """A page's (or one column's) tables and lines in reading order, '' where a gap ends a paragraph; and
    how many characters its lines hold."""
    tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
    boxes = [t.bbox for t in tables]
    text_page = page.filter(lambda o: not any(_inside(o, b) for b in boxes)) if boxes else page
    items: list[tuple[float, Any]] = [(t.bbox[1], t.extract()) for t in tables]
    lines = text_page.extract_text_lines(return_chars=True)
    unruled = {t.first: t for t in column_tables(lines)}
    bottom, skip, total = None, 0, 0
    for k, line in enumerate(lines):
        total += len(line["text"])
        if k < skip:
            continue
        if k in unruled:  # a table without ruling lines: its lines become its rows
            items.append((line["top"], unruled[k].rows))
            bottom, skip = unruled[k].bottom, unruled[k].end
            continue
        height = line["bottom"] - line["top"]
        if bottom is not None and line["top"] - bottom > 0.6 * height:
            items.append((line["top"] - 0.01, ""))  # a gap between lines ends a paragraph
        items.append((line["top"], normalise(line["text"])))
        bottom = line["bottom"]
    return [x for _, x in sorted(items, key=lambda it: it[0])], total


Box = tuple[float, float, float, float]


def _reading_regions(page: Any) -> list[Box]:
    """[the page] for a page read whole; for a page set in two columns, its parts in reading order: what
    spans the page above the columns (a masthead), the left column, the right one, and what spans it below
    (which may hold two columns of its own).

    Lines are read across the whole page, so two columns interleave line by line ('St Spring fair Anne's
    church'). Two columns are a gutter no word comes near, with lines on both sides that fill their column:
    an unruled two-column table (pdf_columns) has a gutter too, but its cells start each row together."""
    return _split_columns(page.extract_words(), tuple(page.bbox), depth=2)


def _split_columns(words: list[dict[str, Any]], box: Box, depth: int) -> list[Box]:
    x0, y0, x1, y1 = box
    words = [w for w in words if _inside(w, box)]
    if depth < 0 or len(words) < 30:
        return [box]
    left_edge = min(w["x0"] for w in words)
    right_edge = max(w["x1"] for w in words)
    best: tuple[int, float, float, float] | None = None
    for step in range(31):
        x = left_edge + (right_edge - left_edge) * (0.3 + 0.4 * step / 30)
        crossing = sorted((w["top"], w["bottom"]) for w in words if w["x0"] - _GUTTER < x < w["x1"] + _GUTTER)
        edges = [y0] + [y for top, bottom in crossing for y in (top, bottom)] + [y1]
        top, bottom = max(((edges[k], edges[k + 1]) for k in range(0, len(edges), 2)), key=lambda g: g[1] - g[0])
        inside = [w for w in words if w["top"] >= top - 1 and w["bottom"] <= bottom + 1]
        sides = [[w for w in inside if w["x1"] <= x], [w for w in inside if w["x0"] >= x]]
        lines = [_side_lines(side) for side in sides]
        if min(len(side) for side in lines) < 4:
            continue
        widths = [(left_edge, x), (x, right_edge)]  # a column's lines run from the margin to the gutter
        filled = all(sorted(ln[3] - ln[2] for ln in side)[len(side) // 2] >= 0.6 * (hi - lo)
                     for side, (lo, hi) in zip(lines, widths))
        score = min(len(side) for side in lines)
        if filled and not _rows_align(*lines) and (best is None or score > best[0]):
            best = (score, x, top, bottom)
    if best is None:
        return [box]
    _, x, top, bottom = best
    above = _split_columns(words, (x0, y0, x1, top), depth - 1) if top - y0 > 1 else []
    below = _split_columns(words, (x0, bottom, x1, y1), depth - 1) if y1 - bottom > 1 else []
    return above + [(x0, top, x, bottom), (x, top, x1, bottom)] + below


_GUTTER = 6.0
"""Half the gap, in points, that a gutter between columns keeps clear: wider than the spaces justified prose
stretches between its words, so a single column is never cut down a run of aligned spaces."""


def _side_lines(words: list[dict[str, Any]]) -> list[tuple[float, float, float, float]]:
    """(top, bottom, x0, x1) of each line the words make, top to bottom; a line is the words sharing a top."""
    rows: dict[int, list[float]] = {}
    for w in words:
        row = rows.setdefault(round(w["top"]), [w["top"], w["bottom"], w["x0"], w["x1"]])
        row[1], row[2], row[3] = max(row[1], w["bottom"]), min(row[2], w["x0"]), max(row[3], w["x1"])
    return sorted((a, b, c, d) for a, b, c, d in rows.values())


def _rows_align(left: list[tuple[float, ...]], right: list[tuple[float, ...]]) -> bool:
    """Do the two sides hold short blocks (lines between gaps) that start on the same tops, as a table's
    cells start each row together? Articles side by side can start together too, heading by heading, but
    their paragraphs run on for more lines than a table's cells do."""
    def blocks(lines: list[tuple[float, ...]]) -> list[tuple[float, int]]:
        out: list[tuple[float, int]] = []
        for k, ln in enumerate(lines):
            if k == 0 or ln[0] - lines[k - 1][1] > 0.6 * (ln[1] - ln[0]):
                out.append((ln[0], 0))
            out[-1] = (out[-1][0], out[-1][1] + 1)
        return out

    a, b = blocks(left), blocks(right)
    shared = sum(any(abs(t - u) <= 1.5 for u, _ in b) for t, _ in a)
    short = all(sorted(n for _, n in side)[len(side) // 2] <= 4 for side in (a, b))
    return shared >= 3 and shared >= 0.6 * min(len(a), len(b)) and short


def _inside(obj: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    x = (obj.get("x0", -1) + obj.get("x1", -1)) / 2
    y = (obj.get("top", -1) + obj.get("bottom", -1)) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]
