"""Reading a labelled-rows file into a plain table: CSV, TSV, JSONL and spreadsheet CSV exports.

People bring whatever their spreadsheet or database wrote: Excel's "CSV UTF-8"
(a byte-order mark), its plain "CSV" in the Windows code page, "Unicode text"
(UTF-16 with tabs), semicolons where the decimal comma is local, files with or
without a header row. So the encoding and the delimiter are sniffed, not asked,
and the header is guessed (the Data page lets the user say otherwise). A file
too large to hold in memory comfortably is refused before it is read, with what
to do instead. Nothing here knows which column is text or label: that is
labelled.py's business.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DataError

MAX_BYTES = 100 * 2**20
"""Largest file read (100 MB, about a million short rows): a few thousand rows per label teach a classifier
what it can learn, and a larger file would hold the app's memory for nothing."""

SPREADSHEET_SUFFIXES = {".xlsx", ".xls", ".xlsm", ".ods", ".numbers"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_DELIMITERS = ",\t;|"
_MULTIBYTE = {"big5", "big5hkscs", "gb2312", "gb18030", "gbk", "euc_jp", "euc_kr", "shift_jis", "cp932", "cp949",
              "cp950", "johab", "iso2022_jp", "iso2022_kr", "hz", "euc_jis_2004", "shift_jis_2004"}
HEADER_WORDS = {"text", "label", "labels", "sentence", "review", "comment", "message", "body", "content", "tweet",
                "category", "class", "sentiment", "team", "target", "tag", "topic", "intent", "id", "title", "rating"}
"""Column names that mark a first row as a header even when its cells look like data."""


@dataclass(frozen=True)
class Table:
    """A file's rows as strings, all as wide as `columns`, in file order."""

    path: Path
    columns: list[str]
    """The header's names, or "column 1", "column 2"… for a file without a header row."""
    rows: list[list[str]]
    format: str
    """"csv" (any delimiter) or "jsonl"."""
    delimiter: str = ","
    encoding: str = "utf-8"
    has_header: bool = True
    first_line: int = 2
    """The file's line number of rows[0] (1-based), so problems are reported where a person finds them."""
    notes: list[str] = field(default_factory=list)
    """Things worth a warning that did not stop the read (ragged rows, an encoding guessed)."""

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def read_table(path: Path | str, has_header: bool | None = None, max_bytes: int = MAX_BYTES) -> Table:
    """Read `path`; `has_header` None guesses. Raises DataError with what to do for a file that cannot be used."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path} does not exist.", "Choose a CSV, TSV or JSONL file that is on this computer.")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a file.", "Choose one CSV, TSV or JSONL file.")
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        raise DataError(f"{path.name} is a spreadsheet workbook, which TuneDesk does not read directly.",
                        "In your spreadsheet app use File → Save As → “CSV UTF-8”, then choose that file.")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DataError(f"{path.name} is {size / 2**20:.0f} MB; TuneDesk reads labelled files up to "
                            f"{max_bytes / 2**20:.0f} MB.",
                            "Keep a sample of the rows (a few thousand per label is plenty to train a classifier) "
                            "in a smaller file, then choose that.")
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Could not read {path.name}: {exc.strerror or exc}",
                        "Check that the file is not open in another program and that you may read it.") from exc
    if not data.strip():
        raise DataError(f"{path.name} is empty.", "Choose a file with one row per example: its text and its label.")
    text, encoding, notes = decode(data, path.name)
    if path.suffix.lower() in JSONL_SUFFIXES or text.lstrip().startswith(("{", "[")):
        return _read_json_lines(path, text, encoding, notes)
    return _read_delimited(path, text, encoding, notes, has_header)


def decode(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """Bytes → text, the encoding used, and a note when it had to be guessed.

    A byte-order mark is trusted; then strict UTF-8 (most files, and plain ASCII); then
    charset-normalizer's best guess (Windows code pages, Latin-1, Shift-JIS…), which reads
    the bytes' statistics rather than trying encodings until one happens not to fail."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding), encoding, []
    if b"\x00" in data[:4096]:  # UTF-16 without a mark (zeros in every other byte of Latin text), or binary
        even, odd = data[0:4096:2].count(0), data[1:4096:2].count(0)
        encoding = "utf-16-le" if odd > even * 4 else "utf-16-be" if even > odd * 4 else ""
        if encoding:
            text = data.decode(encoding, errors="replace")
            head = text[:2048]
            if sum(c.isprintable() or c in "\t\r\n" for c in head) >= 0.95 * len(head):
                return text, encoding, []
        raise DataError(f"{name} is not a text file (it holds binary data).",
                        "Choose a CSV, TSV or JSONL file; from a spreadsheet, use Save As → “CSV UTF-8”.")
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    encoding = "cp1252"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 2**20]).best()
        if best is not None and best.encoding:
            encoding = best.encoding
        # On a short file the statistics can take accented Latin text for a CJK encoding ("schön" → "sch霵").
        # In CJK text most bytes are high; in a Western file with a few accents, few are.
        high = sum(b >= 0x80 for b in data[: 2**20]) / max(1, min(len(data), 2**20))
        if encoding.replace("-", "_").lower() in _MULTIBYTE and high < 0.3:
            encoding = "cp1252"
    except ImportError:  # a dependency of huggingface-hub's requests; the Windows code page is the usual case
        pass
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding, text = "cp1252", data.decode("cp1252", errors="replace")
    return text, encoding, [f"{name} is not UTF-8; it was read as {encoding}. If letters look wrong, save it as "
                            "“CSV UTF-8” and import it again."]


def _read_json_lines(path: Path, text: str, encoding: str, notes: list[str]) -> Table:
    records: list[object]
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array of objects: the same rows, written differently
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg}).",
                            "Fix that line, or export the data as CSV.") from exc
        lines = list(range(1, len(records) + 1))
    else:
        records, lines = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"Line {number} of {path.name} is not valid JSON ({exc.msg}).",
                                "Each line must be one object such as {\"text\": \"…\", \"label\": \"…\"}. "
                                "Fix or delete that line, then import again.") from exc
            lines.append(number)
    columns: list[str] = []
    for number, record in zip(lines, records):
        if not isinstance(record, dict):
            raise DataError(f"Line {number} of {path.name} is not an object.",
                            "Each line must be one object such as {\"text\": \"…\", \"label\": \"…\"}.")
        columns.extend(k for k in record if k not in columns)
    rows = [[_cell(record.get(c)) for c in columns] for record in records]  # type: ignore[union-attr]
    return Table(path, columns, rows, "jsonl", "", encoding, True, 1, notes)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def sniff_delimiter(text: str, suffix: str) -> str:
    """The delimiter the first lines agree on; the suffix's when they do not say (.tsv → tab)."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass
    counts = {d: sample.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best]:
        return best
    return "\t" if suffix == ".tsv" else ","


def _read_delimited(path: Path, text: str, encoding: str, notes: list[str], has_header: bool | None) -> Table:
    delimiter = sniff_delimiter(text, path.suffix.lower())
    try:
        raw = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise DataError(f"{path.name} could not be read as a table ({exc}).",
                        "Open it in a spreadsheet app and save it again as “CSV UTF-8”.") from exc
    if has_header is None:
        has_header = guess_header(raw)
    width = max(len(row) for row in raw)
    if has_header:
        header = [c.strip() or f"column {i + 1}" for i, c in enumerate(raw[0])]
        header += [f"column {i + 1}" for i in range(len(header), width)]
        columns = _unique(header)
        body = raw[1:]
    else:
        columns = [f"column {i + 1}" for i in range(width)]
        body = raw
    ragged = sum(1 for row in body if len(row) != len(columns))
    if ragged:
        notes.append(f"{ragged} row{'s' * (ragged != 1)} of {path.name} had a different number of fields than the "
                     "first; missing fields were left empty.")
    rows = [(row + [""] * len(columns))[: len(columns)] for row in body]
    return Table(path, columns, rows, "csv", delimiter, encoding, has_header, 2 if has_header else 1, notes)


def guess_header(rows: list[list[str]]) -> bool:
    """Is the first row a header? Yes when it names a known column ("text", "label", "review"…), or when each
    of its cells is short and no longer than the same column's typical value in the rows below."""
    if len(rows) < 2:
        return False
    first = [c.strip() for c in rows[0]]
    if any(c.lower() in HEADER_WORDS for c in first):
        return True
    if not all(first) or len(set(first)) != len(first) or any(len(c) > 40 for c in first):
        return False
    below = rows[1:51]
    for i, cell in enumerate(first):
        values = [r[i].strip() for r in below if i < len(r)]
        if values and cell in values:
            return False  # the "header" is one of its own column's values: data
        if values and all(_is_number(v) for v in values) and not _is_number(cell):
            return True  # a word over a column of numbers
    lengths = [sorted(len(r[i]) for r in below if i < len(r)) for i in range(len(first))]
    longest = max(range(len(first)), key=lambda i: lengths[i][len(lengths[i]) // 2] if lengths[i] else 0)
    typical = lengths[longest][len(lengths[longest]) // 2] if lengths[longest] else 0
    return len(first[longest]) * 2 < typical


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", "."))
    except ValueError:
        return False
    return True


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name} ({seen[name]})")
        else:
            seen[name] = 1
            out.append(name)
    return out
