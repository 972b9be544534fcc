"""Read one file into typed elements (core/documents/elements.py) instead of flat text.

Flat text glues a table row to its neighbours and cuts a bullet off its heading, so each format is
read into drafts by a parser that sees its structure (core/documents/formats.py), or line by line
for plain text (core/documents/lines.py). What every format shares after that lives here, in one
place, so no format differs: heading paths, question/answer pairs, table names, the character
limit and the language. `readers.read_raw` runs first: it alone decides whether a file can be read
(its `DocumentError` reaches the user unchanged), and its text is the fallback when a structured
parser fails, so a file that read before never fails now.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from pathlib import Path

from core.documents import chunking
from core.documents.cleaning import clean_text
from core.documents.drafts import ALL, ANSWER_LINE, WS, Draft, clean, pair
from core.documents.elements import Element, StructuredText, render
from core.documents.formats import docx_drafts, html_drafts, md_drafts, pdf_drafts
from core.documents.lines import text_drafts
from core.documents.readers import MAX_CHARS, READERS, read_raw

log = logging.getLogger(__name__)


def read_structured(path: Path, source: str = "", max_chars: int = MAX_CHARS) -> StructuredText:
    """The file's elements in reading order; raises `DocumentError` only where `read_raw` does."""
    path = Path(path)
    raw = read_raw(path, max_chars)  # validation and user-facing errors live there
    kind = "md" if path.suffix.lower() in (".md", ".markdown") else READERS[path.suffix.lower()]
    try:
        if kind in ("pdf", "docx", "html"):
            drafts = {"pdf": pdf_drafts, "docx": docx_drafts, "html": html_drafts}[kind](path, max_chars)
        else:
            drafts = md_drafts(raw.text) if kind == "md" else text_drafts(raw.text, paged=False)
        elements, cut = _finish(drafts, source, max_chars)
        if not elements:
            raise ValueError("no elements")
    except Exception as exc:  # a parser's bug or a damaged file: the flat text still reads
        log.info("structured read of %s failed (%s: %s); reading it as lines", path.name, type(exc).__name__, exc)
        try:
            elements, cut = _finish(text_drafts(raw.text, raw.pages > 0), source, max_chars)
        except Exception:  # our own bug: paragraphs, as ingest read them before
            log.exception("lines path failed on %s", path.name)
            elements, cut = [Element("paragraph", clean(p), source=source) for p in clean_text(raw.text)], False
    return StructuredText(elements, raw.pages, raw.truncated or cut, _language(elements))


# ------------------------------------------------------------------ post-pass


def _finish(drafts: list[Draft], source: str, max_chars: int) -> tuple[list[Element], bool]:
    """Headings paths, FAQ pairs, "Key: value" lines, table names; stops at max_chars.

    A heading pops the stack down to its level. An explicit title (DOCX Title, HTML <title>) is level 0
    and stays first; a lone level-1 heading stays first the same way, but several level-1 headings are
    chapters, and the first is no title for the others. A lead-in ("To turn on the water:") heads the
    list right below it, and only that list; a nested list's items sit under the item they are nested in
    (Draft.parent). In a document with no heading below its title, short bold lines (Draft.emphasis) are
    its section headings.
    """
    drafts = [d for d in map(_tidy, drafts) if d.text or d.cells]
    levels = [d.level for d in drafts if d.kind == "heading"]
    if max(levels, default=0) < 2 and levels.count(1) <= 1:  # no heading but a title: bold lines are its headings
        drafts = [replace(d, kind="heading", level=2 if k else 1) if d.emphasis and k + 1 < len(drafts) else d
                  for k, d in enumerate(drafts)]
    out: list[Element] = []
    stack: list[tuple[int, str]] = []
    caption, used, i, lead = "", 0, 0, False
    while i < len(drafts):
        d, i = drafts[i], i + 1
        box = _TASK_BOX.match(d.text) if d.kind in ("list_item", "step") else None
        if box:  # an action item, whose "Priya: update the website" is no "Key: value" line
            d = replace(d, text=d.text[box.end():])
        if lead and d.kind not in ("list_item", "step"):
            stack.pop()  # a lead-in heads its list only
            lead = False
        if _lead_in(d) and i < len(drafts) and drafts[i].kind in ("list_item", "step"):
            d, lead = replace(d, kind="heading", text=d.text[:-1].rstrip(), level=(stack[-1][0] if stack else 0) + 1), True
        while d.kind == "heading" and stack and stack[-1][0] >= d.level:
            stack.pop()  # a heading's path is its ancestors
        path = tuple(text for _, text in stack) + ((d.parent,) if d.parent else ())
        el = Element(d.kind, d.text, path, source, d.page, d.cells, d.number)
        if d.kind in ("heading", "question"):
            take = d.take if d.kind == "question" else ALL if d.text.endswith("?") else 0
            n = 0
            while n < take and i + n < len(drafts) and drafts[i + n].kind == "paragraph" \
                    and not (n and pair(drafts[i + n].text)):  # "Phone: 918 650 221" after it is a line of its own
                n += 1
            if n:
                answer = " ".join(x.text for x in drafts[i : i + n])
                if d.marked and (m := ANSWER_LINE.match(answer)):  # 'A: …' after 'Q: …?'
                    answer = m.group(1)
                el, i = replace(el, kind="qa", cells=((d.text, answer),)), i + n
            elif d.kind == "question":
                el = replace(el, kind="paragraph")
            if d.kind == "heading":  # a question heading still heads what follows its answer
                stack.append((d.level, d.text))
        elif d.kind == "table_row":
            el = replace(el, table=d.table or caption or (path[-1] if path else ""))
        elif d.kind in ("paragraph", "list_item") and not box and (kv := pair(d.text)):
            el = replace(el, kind="key_value", cells=(kv,))
        if el.kind in ("table_row", "key_value", "qa"):
            el = replace(el, text=render(el))
        caption = d.text if d.kind == "caption" else (caption if d.kind == "table_row" else "")
        used += len(el.text)
        if used > max_chars:
            return out, True
        out.append(el)
    return out, False


def _lead_in(d: Draft) -> bool:
    """'To turn on the water:' before numbered steps: the steps' own heading, which people ask by ("How do I
    turn on the water?"); without it they sit under the section's, or the document's, title."""
    return d.kind == "paragraph" and d.text.endswith(":") and _heading_like(d.text)


def _heading_like(text: str) -> bool:
    """A few words holding no sentence of their own: a lead-in, or an item a nested list sits under."""
    return len(text.split()) <= 12 and not re.search(r"[.!?;]\s", text)


_TASK_BOX = re.compile(r"^\[[ xX]\]\s+")  # '- [ ] Priya: update the website': a task list's box is no text


def _tidy(d: Draft) -> Draft:
    """NFKC, collapsed whitespace; a row without any cell text, or a pair without a value, is nothing."""
    cells = tuple((clean(h), clean(c)) for h, c in d.cells)
    if not any(c for _, c in cells) or (d.kind != "table_row" and not all(k and v for k, v in cells)):
        cells = ()
    parent = _TASK_BOX.sub("", clean(d.parent)).rstrip(":").rstrip()
    return replace(d, text=clean(d.text), cells=cells, parent=parent if _heading_like(parent) else "")


# ------------------------------------------------------------ language, sentences


def _language(elements: list[Element]) -> str:
    """The main language's ISO 639-1 code; '' for text too short to tell (langdetect guesses wildly there)."""
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0  # langdetect samples at random; the same file must get the same answer
    text = " ".join(e.text for e in elements)[:20_000]
    try:
        return detect(text)[:2] if sum(ch.isalpha() for ch in text) >= 40 else ""
    except LangDetectException:
        return ""
    except Exception:  # its language profiles missing (a frozen app built without them): language unknown
        log.warning("language detection failed", exc_info=True)
        return ""


_local = threading.local()  # a pysbd Segmenter keeps state while it segments: one per thread
_WINDOW = 2000  # pysbd is quadratic in its input: long paragraphs go through it in windows


def split_sentences(text: str, language: str = "") -> list[str]:
    """Sentences by pysbd, which knows "z. B." and "Dr." and sentences starting lower case or with a quote."""
    from pysbd.languages import LANGUAGE_CODES

    lang = language if language in LANGUAGE_CODES else "en"
    if not hasattr(_local, "segmenters"):
        _local.segmenters = {}
    cache = _local.segmenters
    if lang not in cache:
        import pysbd

        cache[lang] = pysbd.Segmenter(language=lang, clean=False, char_span=True)
    out: list[str] = []
    try:
        for block in re.split(r"\n\s*\n", text):
            while len(block) > _WINDOW:
                spans = cache[lang].segment(block[:_WINDOW])  # the last span may be cut by the window
                if len(spans) > 1:
                    out.extend(s.sent for s in spans[:-1])
                    cut = spans[-1].start
                else:
                    cut = block.rfind(" ", 0, _WINDOW) + 1 or _WINDOW
                    out.append(block[:cut])
                block = block[cut:]
            out.extend(s.sent for s in cache[lang].segment(block))
    except Exception:  # pysbd has crashed on odd input; the regex splitter never does
        return chunking.split_sentences(text)
    return _rejoin_numbered([WS.sub(" ", s).strip() for s in out if s.strip()])


NUMBER_ABBREVIATIONS = frozenset("""tel fon fax nr no nos num núm ext str ca abs vol p pp s ch fig ref apt tfno
tlf tél""".split())
"""Abbreviations that a number follows ('Tel. 07531 448210', 'ext. 2140', 'Nr. 4', 'S. 12'), in the supported
languages: pysbd ends a sentence at some of them ('… Gisela Brandt, Tel.' | '07531 448210')."""


def _rejoin_numbered(sentences: list[str]) -> list[str]:
    """Sentences with a split after a number's abbreviation joined again, so the number stays with its sentence."""
    out: list[str] = []
    for sentence in sentences:
        last = out[-1].rsplit(None, 1)[-1] if out else ""
        if last.endswith(".") and last[:-1].lower() in NUMBER_ABBREVIATIONS and sentence[:1].isdigit():
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out
