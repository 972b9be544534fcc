"""Raw extracted text -> clean passages (paragraphs) worth training on.

A model fine-tuned on running headers, page numbers and "infor- mation" learns
exactly those. So: normalise unicode (NFKC folds ligatures and full-width
forms), drop lines that repeat on many pages (headers/footers), bare page
numbers and lines without letters, re-join words hyphenated at line breaks,
and rebuild paragraphs from hard-wrapped lines.

Pages are separated by form feeds (see `readers.PAGE_BREAK`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

PAGE_BREAK = "\f"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_PAGE_NUMBER = re.compile(
    r"^[\s\-–—\[(]*(page|p\.|pg\.?|seite|página|pagina)?\s*\d+\s*((of|/|von|de|di)\s*\d+)?[\s\-–—\])]*$",
    re.IGNORECASE,
)
_HYPHEN_END = re.compile(r"(\w)[-\u00ad]$")
_SENTENCE_END = re.compile(r"[.!?:;…。\"”’')\]]$")
_BULLET = re.compile(r"^([-*•◦▪–]|\d{1,3}[.)]|[a-z][.)])\s+")


def normalise(text: str) -> str:
    """NFKC, unified newlines, no control or zero-width characters."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _CONTROL.sub("", text)


def _line_key(line: str) -> str:
    """Compare header candidates ignoring case, spacing and (in short lines) numbers.

    Running headers with a page number are short; a long body line that
    differs only in its numbers is content, not a header.
    """
    key = _SPACES.sub(" ", line).strip().lower()
    return re.sub(r"\d+", "#", key) if len(key) <= 60 else key


EDGE_LINES = 3  # headers and footers live in the first / last few lines of a page


def _edges(lines: list[str]) -> set[int]:
    """Indexes of the first and last EDGE_LINES non-blank lines of a page."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return set(filled[:EDGE_LINES]) | set(filled[-EDGE_LINES:])


def boilerplate_keys(pages: list[list[str]], min_count: int = 3, min_share: float = 0.5) -> set[str]:
    """Edge lines that appear on at least `min_count` pages and on `min_share` of all pages.

    Only a page's first and last lines are candidates, so body text that
    happens to repeat is left alone; digits are ignored so that
    "Handbook - page 7" matches on every page.
    """
    if len(pages) < min_count:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        seen.update({_line_key(lines[i]) for i in _edges(lines)})
    return {key for key, n in seen.items() if n >= min_count and n >= min_share * len(pages)}


def is_noise_line(line: str) -> bool:
    """Bare page numbers and lines with no letters at all (rules, dot leaders, numbers)."""
    stripped = line.strip()
    if not stripped:
        return False
    if _PAGE_NUMBER.match(stripped):
        return True
    return not any(ch.isalpha() for ch in stripped)


def clean_text(text: str, dehyphenate: bool = True) -> list[str]:
    """Return the passages (paragraphs) of a document, boilerplate removed."""
    text = normalise(text)
    pages = [[_SPACES.sub(" ", line).strip() for line in page.split("\n")] for page in text.split(PAGE_BREAK)]
    drop = boilerplate_keys(pages)
    lines: list[str] = []
    for page in pages:
        edges = _edges(page) if drop else set()
        for i, line in enumerate(page):
            if line and (is_noise_line(line) or (i in edges and _line_key(line) in drop)):
                continue
            lines.append(line)
        # No blank line at a page break: a paragraph (or a hyphenated word)
        # that runs on to the next page is joined up again.
    passages: list[str] = []
    for block in _blocks(lines):
        for para in _paragraphs(block, dehyphenate):
            if any(ch.isalpha() for ch in para):
                passages.append(para)
    return passages


def _blocks(lines: list[str]) -> list[list[str]]:
    """Runs of non-blank lines."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _paragraphs(block: list[str], dehyphenate: bool) -> list[str]:
    """Join hard-wrapped lines; break where a short line ends a sentence.

    In wrapped text every line but a paragraph's last is close to the full
    width, so a short line ending in punctuation closes a paragraph. Headings
    (markdown '#', short lines without punctuation) and list items stand alone.
    """
    width = max(len(line) for line in block)
    paras: list[str] = []
    current = ""
    for i, line in enumerate(block):
        is_heading = line.startswith("#") or (
            i + 1 < len(block) and width >= 40 and len(line) < 0.5 * width
            and not _SENTENCE_END.search(line) and line[:1].isupper() and not _HYPHEN_END.search(line)
        )
        if current and (is_heading or _BULLET.match(line)):
            paras.append(current)
            current = ""
        current = _join(current, line, dehyphenate)
        short_end = width >= 40 and len(line) < 0.75 * width and _SENTENCE_END.search(line)
        if is_heading or short_end:
            paras.append(current)
            current = ""
    if current:
        paras.append(current)
    return paras


def _join(current: str, line: str, dehyphenate: bool) -> str:
    if not current:
        return line
    if dehyphenate and _HYPHEN_END.search(current) and line[:1].islower():
        return current[:-1] + line
    return current + " " + line
