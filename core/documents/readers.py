"""Turn one file into plain text, or say precisely why it cannot be read.

Each reader raises `DocumentError(message, hint)` with a reason a user can act
on ("encrypted PDF: needs a password"), never a parser's stack trace: one bad
file must be explained and skipped, not stop the others. Every parser failure
is caught here, because third-party parsers (pypdf, python-docx, zipfile, lxml)
raise a zoo of exception types on damaged input.

PDF pages are joined with a form feed (``\\f``) so that cleaning can find
headers and footers that repeat on every page without a second API.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from core.errors import DocumentError

#: Suffixes we can read, mapped to the reader kind.
READERS: dict[str, str] = {
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(READERS)
SUPPORTED_HUMAN = ".txt .md .pdf .docx .html"

#: Cap on the text kept from one file (characters); keeps memory bounded for
#: a stray multi-gigabyte log file. Text files are read at most this many bytes.
MAX_CHARS = 20_000_000

PAGE_BREAK = "\f"


@dataclass(frozen=True)
class RawText:
    """What a reader got out of a file before any cleaning."""

    text: str
    pages: int  # 0 for formats without pages (txt, md, docx, html)
    truncated: bool = False


_CONVERT = {suffix: hint for suffixes, hint in (
    (".doc .rtf .odt .wpd .wps", "open it in Word or LibreOffice Writer, save it as .docx and add that"),
    (".pages", "in Pages choose File › Export To › Word, and add the .docx"),
    (".ppt .pptx .odp .key", "export the slides as PDF and add the .pdf"),
    (".xls .xlsx .ods .numbers .csv .tsv", "copy the table into a Word document (.docx) or a Markdown table (.md)"),
    (".png .jpg .jpeg .gif .tif .tiff .heic .webp .bmp",
     "a picture holds no text this app can read: add the document it shows, or OCR it to PDF first"),
    (".eml .msg", "save the message as text (.txt) or PDF and add that"),
    (".epub .mobi", "convert the book to PDF or .docx (Calibre does) and add that"),
) for suffix in suffixes.split()}
"""What to do with a file people often have that is no supported type: the one step that makes it one."""


def left_out_notice(files: Sequence[Path]) -> tuple[str, str]:
    """(message, what to do) for files a folder held that no reader takes, so leaving them out is never silent."""
    names = ", ".join(f.name for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    kinds = sorted({f.suffix.lower() for f in files})
    steps = [f"{suffix}: {_CONVERT[suffix]}" for suffix in kinds if suffix in _CONVERT][:2]
    message = f"Left out {len(files)} file{'' if len(files) == 1 else 's'} of a kind this app cannot read: {names}."
    return message, "; ".join(steps) if steps else f"Only {SUPPORTED_HUMAN} files are read."


def read_document(path: Path) -> tuple[str, int]:
    """Return (text, pages) of one file or raise `DocumentError` with the reason."""
    raw = read_raw(Path(path))
    return raw.text, raw.pages


def read_raw(path: Path, max_chars: int = MAX_CHARS) -> RawText:
    """Like `read_document`, and also says whether the text was truncated."""
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        suffix = path.suffix.lower() or "(no extension)"
        raise DocumentError(f"unsupported type {suffix}", _CONVERT.get(suffix, f"use {SUPPORTED_HUMAN}"))
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError("not found", "check the file still exists") from None
    except OSError as exc:
        raise DocumentError(f"cannot open: {exc.strerror or exc}", "check the file's permissions") from None
    if size == 0:
        raise DocumentError("empty file", "the file has no content")
    reader = {"text": _read_text, "pdf": _read_pdf, "docx": _read_docx, "html": _read_html}[kind]
    raw = reader(path, max_chars)
    if not raw.text.strip():
        raise DocumentError("no text found", "the file holds no readable text")
    return raw


# --------------------------------------------------------------------- text


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters, mean this is not a text file.

    ESC is not counted (coloured terminal logs are still text); tab, newlines,
    form feed and vertical tab are ordinary in text.
    """
    sample = data[:65536]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    allowed = {9, 10, 11, 12, 13, 27}
    controls = sum(1 for b in sample if b < 32 and b not in allowed)
    return controls / len(sample) > 0.05


def decode_text(data: bytes, final: bool = True) -> str:
    """Decode bytes of a text file: UTF-16 by BOM, UTF-8, then cp1252/latin-1.

    Non-UTF-8 text (an old Windows file) is read, not skipped: cp1252 is the
    overwhelmingly likely encoding of such files; latin-1 never fails.
    `final=False` tolerates a multi-byte character cut at the end (truncation).
    Raises `DocumentError` for binary data.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return codecs.getincrementaldecoder("utf-16")().decode(data, final=final)
        except UnicodeDecodeError:
            pass
    if looks_binary(data):
        raise DocumentError("binary file, not text", "is this really a text file? Save it as plain text")
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=final)
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _read_text(path: Path, max_chars: int) -> RawText:
    with path.open("rb") as fh:
        data = fh.read(max_chars + 1)
    truncated = len(data) > max_chars
    if truncated:
        data = data[:max_chars]
    text = decode_text(data, final=not truncated)
    return RawText(text, 0, truncated)


# ---------------------------------------------------------------------- pdf


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs (and sometimes warns) about every broken object; we report once."""
    logger = logging.getLogger("pypdf")
    old = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _read_pdf(path: Path, max_chars: int) -> RawText:
    with _quiet_pypdf():
        from pypdf import PdfReader

        with path.open("rb") as fh:
            head = fh.read(1024)
        if b"%PDF" not in head:
            raise DocumentError("not a PDF file (no %PDF header)", "open it and save it as PDF again")
        salvaged = False
        try:
            reader = PdfReader(path, strict=False)
        except Exception as exc:  # pypdf raises many types on damaged files
            reader = _salvage_truncated(path)
            if reader is None:
                raise DocumentError(f"corrupt PDF: cannot parse ({_short(exc)})", "open it and save it as PDF again") from None
            salvaged = True
        try:
            encrypted = reader.is_encrypted
        except Exception as exc:
            raise DocumentError(f"corrupt PDF: cannot parse ({_short(exc)})", "open it and save it as PDF again") from None
        if encrypted:
            _decrypt(reader)
        try:
            pages = list(reader.pages)
        except Exception as exc:
            raise DocumentError(f"corrupt PDF: page tree damaged ({_short(exc)})", "open it and save it as PDF again") from None
        texts: list[str] = []
        failed = 0
        total = 0
        truncated = False
        for page in pages:
            try:
                text = page.extract_text() or ""
            except Exception:
                failed += 1
                continue
            if salvaged and text.count("\ufffd") > 0.1 * len(text.replace(" ", "")):
                failed += 1  # its font was in the missing part: the "text" is replacement characters
                continue
            if total + len(text) > max_chars:
                texts.append(text[: max_chars - total])
                truncated = True
                break
            texts.append(text)
            total += len(text)
    if pages and failed == len(pages):
        if salvaged:
            raise DocumentError("truncated PDF: the file ends too early and no complete page is left",
                                "download or export it again")
        raise DocumentError("corrupt PDF: no page could be read", "open it and save it as PDF again")
    joined = PAGE_BREAK.join(texts)
    if not joined.strip():
        if salvaged:
            raise DocumentError("truncated PDF: the file ends too early and no complete page is left",
                                "download or export it again")
        raise DocumentError("no text found (scanned PDF?)", "OCR it first")
    return RawText(joined, len(pages), truncated)


def _salvage_truncated(path: Path) -> object | None:
    """Read a PDF whose end is missing (an interrupted download): the pages before the cut.

    The end of a PDF holds the index (xref) and the trailer that names the root
    object; without them pypdf gives up. Adding an end marker, or a trailer
    pointing at the catalog object with a deliberately wrong index offset,
    makes pypdf rebuild the index by scanning the objects that are there.
    """
    import io
    import re

    from pypdf import PdfReader

    try:
        data = path.read_bytes()
    except OSError:
        return None
    catalog = re.search(rb"(\d+)\s+(\d+)\s+obj\s*<<\s*/Type\s*/Catalog", data)
    attempts = [data + b"\n%%EOF\n"]
    if catalog:
        objects = data[: data.rfind(b"\nxref")] if b"\nxref" in data else data  # a cut index is worse than none
        attempts.append(objects + b"\ntrailer\n<< /Root %s %s R >>\nstartxref\n0\n%%%%EOF\n" % (catalog.group(1), catalog.group(2)))
    for attempt in attempts:
        try:
            reader = PdfReader(io.BytesIO(attempt), strict=False)
            if len(reader.pages):
                return reader
        except Exception:
            continue
    return None


def _decrypt(reader: object) -> None:
    """Many PDFs are 'encrypted' with an empty user password; those open fine."""
    try:
        ok = reader.decrypt("")  # type: ignore[attr-defined]
    except Exception as exc:  # missing crypto backend, unknown algorithm
        raise DocumentError(
            f"encrypted PDF: cannot decrypt ({_short(exc)})",
            "remove the password and add it again",
        ) from None
    if not ok:
        raise DocumentError("encrypted PDF: needs a password", "remove the password and add it again")


# --------------------------------------------------------------------- docx


def _read_docx(path: Path, max_chars: int) -> RawText:
    hint = "open it in Word and save it as .docx again"
    if not zipfile.is_zipfile(path):
        raise DocumentError("not a valid Word document (not a .docx package)", hint)
    try:
        import docx

        document = docx.Document(str(path))
        blocks = list(_docx_blocks(document))
    except Exception as exc:  # zipfile, lxml, python-docx and KeyError alike
        raise DocumentError(f"not a valid Word document ({type(exc).__name__}: {_short(exc)})", hint) from None
    text = "\n\n".join(b for b in blocks if b.strip())
    truncated = len(text) > max_chars
    return RawText(text[:max_chars], 0, truncated)


def _docx_blocks(container: object) -> Iterator[str]:
    """Paragraphs and table rows in document order (tables hold real content)."""
    from docx.table import Table

    for item in container.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Table):
            yield from _table_rows(item)
        else:
            yield item.text


def _table_rows(table: object) -> Iterator[str]:
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is returned once per grid column
                continue
            seen.add(id(cell._tc))
            inner = " ".join(t for t in _docx_blocks(cell) if t.strip())
            if inner.strip():
                cells.append(inner.strip())
        if cells:
            yield " | ".join(cells)


# --------------------------------------------------------------------- html

_DROP_TAGS = ("script", "style", "nav", "header", "footer", "noscript", "template", "svg", "head")
_BLOCK_TAGS = (
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "section", "article", "main", "blockquote", "pre", "dd", "dt", "dl", "figure",
    "figcaption", "aside", "address", "hr",
)


def _read_html(path: Path, max_chars: int) -> RawText:
    with path.open("rb") as fh:
        data = fh.read(max_chars + 1)
    truncated = len(data) > max_chars
    data = data[:max_chars]
    markup = decode_text(data, final=not truncated)
    try:
        from bs4 import BeautifulSoup

        text = _html_text(BeautifulSoup(markup, "html.parser"))
    except Exception as exc:
        raise DocumentError(f"cannot parse HTML ({type(exc).__name__}: {_short(exc)})", "save the page again") from None
    # Source indentation between tags is not content: one line per source line.
    lines = [line.strip().removesuffix("|").strip() for line in text.splitlines()]
    return RawText("\n".join(lines), 0, truncated)


def _html_text(soup: object) -> str:
    """The page's text with a blank line around each block, "\\n" for <br> and " | " after a cell.

    One walk that writes the text, not edits of the tree: bs4 finds a tag's place among its
    siblings by a linear search (`insert_before`, `replace_with`, `decompose`), so editing every
    <p> of a page made reading quadratic in the page (40,000 paragraphs: 47 s). The strings kept
    are the ones `get_text` keeps (no comments, doctype, or <rt>/<rp> ruby annotations), and the
    walk uses a stack, not recursion, for pages nested thousands of tags deep.
    """
    from bs4.element import CData, NavigableString, Tag

    kept = (NavigableString, CData)  # exact types, as get_text: a Comment is a NavigableString too
    out: list[str] = []
    ends: list[str] = [""]  # what each open tag adds after its last child
    stack = [iter(soup.contents)]  # type: ignore[attr-defined]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            out.append(ends.pop())
        elif isinstance(node, Tag):
            if node.name in _DROP_TAGS:
                continue
            if node.name == "br":
                out.append("\n")
                continue
            block = node.name in _BLOCK_TAGS
            if block:
                out.append("\n\n")
            ends.append((" | " if node.name in ("td", "th") else "") + ("\n\n" if block else ""))
            stack.append(iter(node.contents))
        elif type(node) in kept:
            out.append(node)
    return "".join(out)
