"""Files and folders in, structured elements and clean de-duplicated chunks out — one bad file never stops the rest.

`ingest` reads every supported file under the paths given into typed elements
(core/documents/structure.py: headings, paragraphs, list items, steps, table
rows, key-value lines, FAQ pairs), drops elements already seen in this or an
earlier document, and packs what is left into token-bounded passages that each
open with their heading path. The elements go on to the dataset builder, the
passages to retrieval and recitation. Every file gets a `DocumentRecord` that says
what happened to it, in words a user can act on, so the GUI and CLI can show
a table of "read" and "skipped" files and a one-line summary.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from core.documents.chunking import check_budget, chunk_elements, estimate_tokens
from core.documents.dedupe import Deduplicator
from core.documents.elements import Element, render
from core.documents.readers import MAX_CHARS, SUPPORTED_SUFFIXES
from core.documents.structure import read_structured
from core.errors import Cancelled, DocumentError, NoDocumentsError
from core.events import Event, Progress, ignore_event, never_stop
from core.progress import Countdown

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Chunk",
    "DocumentRecord",
    "IngestResult",
    "ingest",
    "require_text",
]

MANIFEST_VERSION = 2  # 2: elements and each document's language


@dataclass(frozen=True)
class Chunk:
    source: str  # DocumentRecord.name of the document it came from
    index: int  # position of the chunk within its document
    text: str
    n_tokens: int


@dataclass(frozen=True)
class DocumentRecord:
    path: str  # absolute path
    name: str  # relative to the folder given, or the file name
    status: str  # "read" | "skipped"
    reason: str = ""  # why skipped, written for the user
    pages: int = 0  # 0 for formats without pages
    words: int = 0  # words after cleaning, before de-duplication
    tokens: int = 0  # tokens in this document's chunks
    chunks: int = 0
    duplicates_dropped: int = 0
    language: str = ""  # ISO 639-1 code of its main language, '' when unknown
    elements: int = 0  # elements kept after de-duplication


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@dataclass
class IngestResult:
    documents: list[DocumentRecord]
    chunks: list[Chunk]
    duplicates_dropped: int = 0  # elements dropped as exact or near duplicates
    elements: list[Element] = field(default_factory=list)  # every read document's, in reading order

    @property
    def read(self) -> list[DocumentRecord]:
        return [d for d in self.documents if d.status == "read"]

    @property
    def skipped(self) -> list[DocumentRecord]:
        return [d for d in self.documents if d.status == "skipped"]

    @property
    def total_tokens(self) -> int:
        return sum(c.n_tokens for c in self.chunks)

    def summary(self) -> str:
        """One line, e.g. '5 files: 4 read, 1 skipped; 38 passages, 9,120 tokens; 3 duplicates dropped'."""
        return (
            f"{_plural(len(self.documents), 'file')}: {len(self.read):,} read, {len(self.skipped):,} skipped; "
            f"{_plural(len(self.chunks), 'passage')}, {_plural(self.total_tokens, 'token')}; "
            f"{_plural(self.duplicates_dropped, 'duplicate')} dropped"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "documents": [asdict(d) for d in self.documents],
            "chunks": [asdict(c) for c in self.chunks],
            "duplicates_dropped": self.duplicates_dropped,
            "elements": [e.to_json() for e in self.elements],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestResult:
        return cls(
            documents=[DocumentRecord(**d) for d in data.get("documents", [])],
            chunks=[Chunk(**c) for c in data.get("chunks", [])],
            duplicates_dropped=int(data.get("duplicates_dropped", 0)),
            elements=[Element.from_json(e) for e in data.get("elements", [])],
        )

    def languages(self) -> dict[str, str]:
        """Document name → its language code."""
        return {d.name: d.language for d in self.read}


def require_text(result: IngestResult) -> None:
    """Raise `NoDocumentsError` naming every skipped file if nothing usable was read."""
    if result.chunks:
        return
    if not result.documents:
        raise NoDocumentsError("No documents were given.", "Add .txt, .md, .pdf, .docx or .html files.")
    lines = [f"  - {d.name}: {d.reason or 'no usable text'}" for d in result.documents]
    raise NoDocumentsError(
        "None of the documents gave any usable text:\n" + "\n".join(lines),
        "Fix or replace the files listed above (or add others) and try again.",
    )


@dataclass
class _Target:
    path: Path
    name: str
    missing: bool = False


def _legacy_bytes(err: UnicodeError) -> tuple[str, int]:
    bad = err.object[err.start : err.end]  # type: ignore[attr-defined]
    return "".join(bytes([b]).decode("cp1252", "replace") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
                   else chr(b) for b in bad), err.end  # type: ignore[attr-defined]


codecs.register_error("tunedesk-legacy-name", _legacy_bytes)


def display_name(text: str) -> str:
    """A file name that every UTF-8 file (manifest, dataset) can hold.

    Names that are not valid UTF-8 (Latin-1 names from old zips and Windows
    shares) reach Python as lone surrogates, which json/UTF-8 writers refuse:
    one such file made the whole run fail. Their stray bytes are shown as
    cp1252, which is what they almost always are; the file itself is still
    read through its real path.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "tunedesk-legacy-name")


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")  # ~$ = Office lock files


def _walk(folder: Path) -> Iterator[Path]:
    """Files under `folder`, sorted, skipping hidden files and folders, not following links."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
        for f in sorted(files):
            if not _is_hidden(f):
                yield Path(root) / f


def _targets(paths: Sequence[str | Path]) -> list[_Target]:
    targets: list[_Target] = []
    seen_paths: set[str] = set()
    seen_names: set[str] = set()

    def add(path: Path, name: str, missing: bool = False) -> None:
        key = os.path.normcase(os.path.abspath(path))
        if key in seen_paths:  # the same file given twice (e.g. a file and its folder)
            return
        seen_paths.add(key)
        name = display_name(name)
        unique, n = name, 2
        while unique in seen_names:  # two folders each with "notes.txt"
            unique = f"{name} ({n})"
            n += 1
        seen_names.add(unique)
        targets.append(_Target(path, unique, missing))

    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            for file in _walk(path):
                add(file, file.relative_to(path).as_posix())
        else:
            add(path, path.name, missing=not path.exists())
    return targets


def _skip(target: _Target, reason: str, **extra: int) -> DocumentRecord:
    return DocumentRecord(display_name(os.path.abspath(target.path)), target.name, "skipped", reason, **extra)


def _size(path: Path) -> int:
    try:
        return max(1, path.stat().st_size)
    except OSError:
        return 1


def ingest(
    paths: Sequence[str | Path],
    count_tokens: Callable[[str], int] | None = None,
    chunk_tokens: int = 256,
    overlap_tokens: int = 32,
    on_event: Callable[[Event], None] = ignore_event,
    should_stop: Callable[[], bool] = never_stop,
) -> IngestResult:
    """Read, clean, de-duplicate and chunk every supported file under `paths`.

    Returns a result even when nothing was readable; call `require_text` where
    an empty result is an error. Raises `Cancelled` when `should_stop()` turns
    true (checked between files).
    """
    check_budget(chunk_tokens, overlap_tokens)
    count = count_tokens or estimate_tokens
    targets = _targets(paths)
    dedupe = Deduplicator()
    documents: list[DocumentRecord] = []
    chunks: list[Chunk] = []
    elements: list[Element] = []
    total = len(targets)
    sizes = [_size(t.path) for t in targets]  # the pace is per byte: one long PDF among short notes takes its share
    countdown, read_bytes = Countdown(sum(sizes)), 0
    for i, target in enumerate(targets):
        if should_stop():
            raise Cancelled("Reading documents was stopped.")
        on_event(Progress(stage="ingest", message=f"Reading {target.name} ({i + 1} of {total}"
                                                   f"{countdown.left_words(read_bytes)})", done=i, total=total))
        read_bytes += sizes[i]
        try:
            record, doc_chunks, doc_elements = _ingest_one(target, count, chunk_tokens, overlap_tokens, dedupe, on_event)
        except Cancelled:
            raise
        except Exception as exc:  # a bug or a parser surprise: skip this file, keep going
            detail = str(exc).strip().replace("\n", " ")[:200]
            record, doc_chunks, doc_elements = _skip(target, f"could not read: {type(exc).__name__}: {detail}"), [], []
        documents.append(record)
        chunks.extend(doc_chunks)
        elements.extend(doc_elements)
    result = IngestResult(documents, chunks, dedupe.dropped, elements)
    on_event(Progress(stage="ingest", message=result.summary(), done=total, total=total))
    return result


def _ingest_one(
    target: _Target,
    count: Callable[[str], int],
    chunk_tokens: int,
    overlap_tokens: int,
    dedupe: Deduplicator,
    on_event: Callable[[Event], None],
) -> tuple[DocumentRecord, list[Chunk], list[Element]]:
    if target.missing:
        return _skip(target, "not found"), [], []
    try:
        structured = read_structured(target.path, source=target.name)
    except DocumentError as exc:
        reason = f"{exc.message} — {exc.hint}" if exc.hint else exc.message
        return _skip(target, reason), [], []
    if structured.truncated:
        on_event(Progress(stage="ingest", message=f"{target.name} is very large: only its first {MAX_CHARS:,} characters are used"))
    found = [replace(e, source=target.name) for e in structured.elements if e.text.strip()]
    content = [e for e in found if e.kind != "heading"]
    words = sum(len(e.text.split()) for e in content)
    if not content:
        reason = "no text found (scanned PDF? — OCR it first)" if structured.pages else "no text found"
        return _skip(target, reason, pages=structured.pages), [], []
    kept: list[Element] = []
    dropped = 0
    first_seen: set[str] = set()
    for element in found:
        if element.kind == "heading":
            kept.append(element)
            continue
        seen = dedupe.check(render(element), target.name)
        if seen is None:
            kept.append(element)
        else:
            dropped += 1
            first_seen.add(seen.source)
    if all(e.kind == "heading" for e in kept):
        others = sorted(first_seen - {target.name})
        where = f"already in {', '.join(others)}" if others else "repeats itself"
        return _skip(target, f"duplicate: all its text is {where}", pages=structured.pages, words=words,
                     duplicates_dropped=dropped), [], []
    texts = chunk_elements(kept, count, chunk_tokens, overlap_tokens)
    doc_chunks = [Chunk(target.name, k, text, count(text)) for k, text in enumerate(texts)]
    record = DocumentRecord(
        path=display_name(os.path.abspath(target.path)),
        name=target.name,
        status="read",
        pages=structured.pages,
        words=words,
        tokens=sum(c.n_tokens for c in doc_chunks),
        chunks=len(doc_chunks),
        duplicates_dropped=dropped,
        language=structured.language,
        elements=sum(e.kind != "heading" for e in kept),
    )
    return record, doc_chunks, kept
