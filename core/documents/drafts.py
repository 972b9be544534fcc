"""The one vocabulary every format reader speaks, so the post-pass sees no format.

Markdown, HTML, DOCX, PDF and plain text each find paragraphs, "Key: value" lines and tables
in their own way, but must turn them into the same drafts by the same rules, or one format would
pair a line another leaves as prose. Those shared rules live here, below every reader, so the
readers and the post-pass (core/documents/structure.py) import them without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from core.documents.cleaning import normalise

ALL = 10**9  # a heading question takes every paragraph up to the next other element as its answer
WS = re.compile(r"\s+")
_KV = re.compile(r"^([^\W\d_][^:]{0,58}?)\s*:\s+(\S.*)$")
_CODE = re.compile(r"^([A-Z]{1,3}-?\d{1,4})(\s*[:–—]\s*|\s+-\s+|\t\s*|\s+)(\S.*)$")
QUESTION_LINE = re.compile(r"^(?:[QFP]\s*(?::\s*|[.)]\s+)|(?:Frage|Question|Pregunta)\s*[:.)]\s*)(\S.*\?)$", re.IGNORECASE)
"""'Q: Is there parking?' (Frage, Question, Pregunta): an FAQ's question, its marker not part of it.

A one-letter marker with '.' or ')' needs a space after it, so "P.S. Did you know …?" is no question 'S. …'."""
HARD_BREAK = "\u2028"
"""A line break the writer made (<br>, Shift+Enter in Word), not one a source file wraps its text at: a
"Key: value" line after it is a line of its own."""
ANSWER_LINE = re.compile(r"^(?:[AR]\s*(?::\s*|[.)]\s+)|(?:Antwort|Answer|Réponse|Respuesta)\s*[:.)]\s*)(\S.*)$",
                         re.IGNORECASE)
"""'A: Yes, behind the hall.': the answer after a marked question (Draft.marked), without its marker.

Only there: after an unmarked question, "A. Smith runs it." opens with an initial, not a marker."""


@dataclass
class Draft:
    """An element before the post-pass (_finish) gives it its headings and tidy text."""

    kind: str  # a KINDS kind, or "question": a question waiting for its answer
    text: str = ""
    level: int = 0  # heading: 0 = the document title, 1-6 = section depth
    number: int = 0
    cells: tuple[tuple[str, str], ...] = ()
    page: int = 0
    table: str = ""  # table_row: the caption the reader saw
    take: int = 1  # question: how many following paragraphs may form its answer
    marked: bool = False  # question: it came with a 'Q:' marker, so its answer may open with 'A:'
    parent: str = ""  # list_item, step: the item its list is nested under ("Sheds:"), which heads it
    emphasis: bool = False  # paragraph: a few words set all in bold, which head what follows where nothing else does


def clean(text: str) -> str:
    """NFKC, whitespace runs as one space, no edges: the form every element's text is kept in."""
    return WS.sub(" ", normalise(text)).strip()


def pair(line: str) -> tuple[str, str] | None:
    """("Key", "value") for "Key: value" (short key, no sentence in it) or an error code line "E-04  Tank empty"."""
    m = _CODE.match(line)
    if m:
        code, sep, value = m.groups()  # a bare space only after "E-04" and before a capital: "MP3 players",
        if sep.strip() or len(sep) > 1 or "\t" in sep or ("-" in code and value[:1].isupper()):  # "UTF-8 encoded"
            return code, value.lstrip("-–—: ")
    m = _KV.match(line)
    if m and len(m.group(1).split()) <= 5 and not re.search(r"[.!?;]", m.group(1)) and len(m.group(2)) <= 300:
        return m.group(1).strip(), m.group(2).strip()
    return None


_OPENING_QUESTION = re.compile(r"^([^.!?]{8,200}\?)\s+(\S.{2,})$", re.S)


def asked_and_answered(text: str) -> list[Draft]:
    """A paragraph whose first sentence is a question, with more after it ('Can I rent a locker? Yes, with a €1
    coin.'): an FAQ written as one paragraph, as its question and its answer; [] for any other paragraph. Taken as
    prose, its question was asked like a statement ('Who rent a locker?' → 'Can I rent a locker.')."""
    m = _OPENING_QUESTION.match(text.strip())
    return [Draft("question", m.group(1), take=1), Draft("paragraph", " ".join(m.group(2).split()))] if m else []


def opening_question(pieces: Sequence[tuple[str, bool]]) -> list[Draft]:
    """A paragraph that opens with a bold question and answers it on the same line ('**Can I rent a locker?** Yes,
    with a €1 coin.'), as its question and its answer; [] for any other paragraph.

    `pieces`: the paragraph's text in order, each piece with whether it is bold."""
    k = next((i for i, (text, bold) in enumerate(pieces) if text.strip() and not bold), len(pieces))
    question, answer = "".join(t for t, _ in pieces[:k]).strip(), "".join(t for t, _ in pieces[k:]).strip()
    if not (question.endswith("?") and answer) or "\n" in question or QUESTION_LINE.match(question):
        return []  # 'Q: …?' is paragraph_drafts' to read
    return [Draft("question", question, take=1), Draft("paragraph", " ".join(answer.split()))]


def paragraph_drafts(text: str, bold: bool = False, bold_first: bool = False) -> list[Draft]:
    """A paragraph; one key_value per line when every line is "Key: value", or per line after a HARD_BREAK;
    a bold question awaits its answer.

    `bold_first`: only the first line is bold. A bold question line with its answer on the next line, in one
    paragraph, is how FAQs are often written in Markdown ("**Can I rent a boat?**" then "No, only members …"):
    the question and its answer, as when a blank line parts them."""
    lines = [line.strip() for line in re.split(f"[\n{HARD_BREAK}]", text) if line.strip()]
    asked = QUESTION_LINE.match(lines[0]) if lines else None  # 'Q: …?' (bold or not): a pair, never a 'Q' key
    if len(lines) > 1 and (asked or (bold_first and lines[0].endswith("?"))):  # 'A:' is cut in structure._finish
        question = asked.group(1) if asked else lines[0]
        return [Draft("question", question, take=ALL, marked=bool(asked)), Draft("paragraph", " ".join(lines[1:]))]
    if asked:  # its answer is the next paragraph
        return [Draft("question", asked.group(1), take=ALL, marked=True)]
    pairs = [pair(line) for line in lines]
    if len(lines) > 1 and all(pairs):
        return [Draft("key_value", cells=(p,)) for p in pairs if p]
    if (HARD_BREAK in text and any(pairs)) or sum(map(bool, pairs)) >= 2:
        # an address, then 'Phone: …' on a line of its own; or a contact block typed line by line in Markdown
        # ('Manager: …', 'Phone: …', then a sentence), where the lines of one paragraph would glue into one value
        out: list[Draft] = []
        for k, (line, p) in enumerate(zip(lines, pairs)):
            if p:
                out.append(Draft("key_value", cells=(p,)))
            elif out and out[-1].kind == "key_value" and line[:1].islower():  # a value wrapped onto the next line
                (key, value), = out[-1].cells
                out[-1].cells = ((key, f"{value} {line}"),)
            elif k and not pairs[k - 1] and out:
                out[-1].text += " " + line
            else:
                out.append(Draft("paragraph", line))
        return out
    joined = " ".join(lines)
    if bold and joined.endswith("?"):
        return [Draft("question", joined, take=ALL)]
    asked = [] if bold else asked_and_answered(joined)
    if asked:
        return asked
    short = bold and len(lines) == 1 and len(joined.split()) <= 8 and not re.search(r"[.!;,:]$", joined)
    return [Draft("paragraph", joined, emphasis=short)]


def title_row(rows: list[list[str | None]]) -> tuple[str, list[list[str | None]]]:
    """('Fees 2025', the rows below it) for a table whose first row is one cell merged across every column:
    its title, not the header of each column ('Fees 2025: £180'); ('', rows) otherwise."""
    if len(rows) < 3 or len(rows[0]) < 2:
        return "", rows
    given = [c for c in rows[0] if c is not None]
    if given and given[0].strip() and len(set(given)) == 1 and len(given) in (1, len(rows[0])):
        return given[0].strip(), rows[1:]
    return "", rows


def first_row_is_header(rows: Sequence[Sequence[str | None]]) -> bool:
    """Is a table's first row its header, where no markup or font says so? No when it reads like the body:
    "Weight:" labels down the first column, a number in a column that holds numbers all the way down
    ("Weight | 5.8 kg" over "Power | 900 W": a spec sheet with no header), or two columns whose first row is
    a label and a number."""
    rows = [[c or "" for c in r] for r in rows]  # None: a merged cell already given
    first, body = rows[0], rows[1:]
    if all(r[0].rstrip().endswith(":") for r in rows if r and r[0]):
        return False
    if len(first) == 2 and re.search(r"\d", first[1]) and not re.search(r"\d", first[0]):
        return False  # 'Boathouse phone | 01632 960 118': a label and its value, as in every row below
    numeric = [c for c in range(len(first)) if body and all(c < len(r) and re.search(r"\d", r[c]) for r in body)]
    return not any(re.search(r"\d", first[c]) for c in numeric)


def table_drafts(rows: list[list[str | None]], caption: str = "") -> Iterator[Draft]:
    """First row as headers; None marks a merged cell already given (its header is the one before it).

    A first row of only None says the table has no header row: two columns are "key: value" lines.
    """
    if len(rows) >= 2 and all(c is None for c in rows[0]):
        for row in rows[1:]:
            cells = [c or "" for c in row]
            if len(cells) == 2 and cells[0] and cells[1]:
                yield Draft("key_value", cells=((cells[0].rstrip(":").strip(), cells[1]),))
            else:
                yield Draft("table_row", cells=tuple(("", c) for c in cells), table=caption)
        return
    if len(rows) < 2:
        yield from (Draft("table_row", cells=tuple(("", c or "") for c in r), table=caption) for r in rows)
        return
    header: list[str] = []
    for cell in rows[0]:
        header.append(cell if cell is not None else (header[-1] if header else ""))
    for row in rows[1:]:
        if [c or "" for c in row] == [c or "" for c in rows[0]]:
            continue  # a header repeated on the next page
        cells = tuple((header[k] if k < len(header) else "", c) for k, c in enumerate(row) if c is not None)
        yield Draft("table_row", cells=cells, table=caption)
