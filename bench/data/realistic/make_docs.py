"""Regenerate the binary documents (DOCX, PDF) of the realistic benchmark set.

The text of each half's Word handbook and PDF manual is defined in Python, in
``dev/doc_text.py`` and ``test/doc_text.py`` (kept inside its half, so that
the rule "nobody reads test/ while tuning" covers the test text as well);
this script turns it into ``<half>/docs/*.docx`` and ``*.pdf``. The Markdown,
HTML and plain-text documents are hand-written files and are not touched.

    python3 bench/data/realistic/make_docs.py

Needs python-docx (a project dependency) and reportlab. reportlab is a
dev-only tool used by this script alone (``pip install reportlab``); the app
never imports it. The PDFs are built with ``invariant=1``, and the DOCX files
get fixed core properties and zip entry times, so a rebuild gives the same
bytes.

Handbook text is a list of blocks: ("title", text), ("h1", text), ("h2", text),
("p", text), ("bullets", [text, ...]), ("table", [header, row, ...]). Manual
text is a dict: title, subtitle, intro, specs (ruled grid, header row first),
steps_title, steps (numbered 1. 2. ...), codes_title, codes (header row
first), footer.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------- DOCX


def _docx_header_row(row) -> None:
    """Bold header cells, repeated at the top of each page (a real Word header row)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)
    for cell in row.cells:
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.bold = True


def write_docx(blocks: list, path: Path, title: str, author: str) -> None:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title = title
    props.author = author
    props.created = props.modified = _dt.datetime(2025, 1, 6, 9, 0, 0)
    for kind, content in blocks:
        if kind == "title":
            document.add_paragraph(content, style="Title")
        elif kind == "h1":
            document.add_heading(content, level=1)
        elif kind == "h2":
            document.add_heading(content, level=2)
        elif kind == "p":
            document.add_paragraph(content)
        elif kind == "bullets":
            for item in content:
                document.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]))
            table.style = "Table Grid"
            for r, values in enumerate(content):
                for c, value in enumerate(values):
                    table.cell(r, c).text = value
            _docx_header_row(table.rows[0])
            document.add_paragraph("")
        else:
            raise ValueError(kind)
    document.save(str(path))
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """Rewrite the .docx package with fixed entry times so a rebuild gives the same bytes."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 6, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)


# ---------------------------------------------------------------------- PDF


def write_pdf(manual: dict, path: Path, author: str) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    step = ParagraphStyle("Step", parent=body, leftIndent=4.5 * mm, firstLineIndent=-4.5 * mm)
    cell = ParagraphStyle("Cell", parent=body, fontSize=9, leading=11)

    def grid(rows: list[list[str]], widths: list[float], ruled: bool) -> Table:
        data = [[Paragraph(f"<b>{v}</b>" if r == 0 else v, cell) for v in row] for r, row in enumerate(rows)]
        table = Table(data, colWidths=[w * mm for w in widths], hAlign="LEFT", repeatRows=1)
        style = [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde3ea")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ]
        if ruled:
            style.append(("GRID", (0, 0), (-1, -1), 0.5, colors.black))
        else:
            style.append(("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey))
        table.setStyle(TableStyle(style))
        return table

    story = [
        Paragraph(manual["title"], styles["Title"]),
        Paragraph(manual["subtitle"], styles["Heading3"]),
        Paragraph(manual["intro"], body),
        Paragraph("Specifications", styles["Heading2"]),
        grid(manual["specs"], [60, 80], ruled=True),
        Paragraph(manual["steps_title"], styles["Heading2"]),
    ]
    for n, text in enumerate(manual["steps"], 1):
        story.append(Paragraph(f"{n}. {text}", step))
    story += [
        Paragraph(manual["codes_title"], styles["Heading2"]),
        grid(manual["codes"], [18, 62, 80], ruled=False),
        Spacer(1, 8 * mm),
        Paragraph(manual["footer"], body),
    ]
    SimpleDocTemplate(str(path), pagesize=A4, title=manual["title"], author=author,
                      invariant=1).build(story)


def load_text(half: str):
    """The `doc_text` module of one half (dev or test)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"doc_text_{half}", HERE / half / "doc_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    for half in ("dev", "test"):
        text = load_text(half)
        docs = HERE / half / "docs"
        docs.mkdir(parents=True, exist_ok=True)
        write_docx(text.HANDBOOK, docs / text.HANDBOOK_FILE, *text.HANDBOOK_META)
        write_pdf(text.MANUAL, docs / text.MANUAL_FILE, text.MANUAL_AUTHOR)


if __name__ == "__main__":
    main()
