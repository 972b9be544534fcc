"""Build real test documents on disk: PDFs (good, corrupt, encrypted, scanned),
Word files, HTML, and text in odd encodings.

The PDF is written by hand (objects, a Helvetica font, one text stream per
page, a correct xref table) so the tests depend on no PDF-writing library and
exercise pypdf on a file shaped like ones people really have.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(pages: list[list[str]], text: bool = True) -> bytes:
    """A valid PDF with one page per list of lines (ASCII/Latin-1 text, Helvetica).

    With text=False each page only draws a rectangle: what a scanned page
    looks like to a text extractor.
    """
    n = len(pages)
    font_id = 3 + 2 * n
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: ("<< /Type /Pages /Kids [" + " ".join(f"{3 + 2 * i} 0 R" for i in range(n)) + f"] /Count {n} >>").encode(),
        font_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    for i, lines in enumerate(pages):
        page_id, content_id = 3 + 2 * i, 4 + 2 * i
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
        if text:
            ops = ["BT", "/F1 11 Tf", "14 TL", "72 750 Td"]
            for k, line in enumerate(lines):
                ops.append(("" if k == 0 else "T* ") + _pdf_string(line) + " Tj")
            ops.append("ET")
        else:
            ops = ["0.5 g", "72 72 468 648 re f"]
        stream = "\n".join(ops).encode("latin-1")
        objects[content_id] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for obj_id in sorted(objects):
        offsets[obj_id] = out.tell()
        out.write(b"%d 0 obj\n" % obj_id + objects[obj_id] + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for obj_id in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[obj_id])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def make_pdf(path: Path, pages: list[list[str]], text: bool = True) -> Path:
    path.write_bytes(pdf_bytes(pages, text))
    return path


def make_encrypted_pdf(path: Path, pages: list[list[str]], user_password: str = "secret") -> Path:
    """Encrypt the hand-made PDF with pypdf (RC4, built into pypdf)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes(pages))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-pass")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def make_corrupt_pdf(path: Path) -> Path:
    """A %PDF header, the first part of a real file, then garbage: a broken download."""
    good = pdf_bytes([["This file was cut off in transit."]])
    path.write_bytes(good[:60] + bytes(range(256)) * 4)
    return path


def make_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly procedures", level=1)
    for para in paragraphs:
        document.add_paragraph(para)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


def make_junk_zip(path: Path) -> Path:
    """A zip file that is not a Word package, named .docx."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("junk.bin", bytes(range(256)) * 8)
        zf.writestr("readme.txt", "not a word document")
    return path


def make_binary(path: Path) -> Path:
    """A PNG-like header and binary payload, named .txt."""
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16)
    return path


def make_cp1252(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("cp1252"))
    return path


def make_html(path: Path, body_paragraphs: list[str]) -> Path:
    paras = "\n".join(f"    <p>{p}</p>" for p in body_paragraphs)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><title>Menu page</title>\n"
        "<style>body { color: red; } .secret-style-rule {}</style></head>\n<body>\n"
        "<nav><a href='/'>Home</a> <a href='/about'>About us navigation link</a></nav>\n"
        "<header>Site banner header text</header>\n"
        f"<main>\n{paras}\n</main>\n"
        "<script>var trackingScriptCode = 1; console.log('tracking');</script>\n"
        "<footer>Copyright footer text 2024</footer>\n</body></html>\n",
        encoding="utf-8",
    )
    return path


def make_story_pdf(path: Path, story: list[object]) -> Path:
    """A reportlab PDF (A4) from flowables; see unruled_table for tables without ruling lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def unruled_table(rows: list[list[str]], widths: list[float] | None = None, bold_header: bool = True,
                  size: float = 9, align_right: tuple[int, ...] = ()) -> object:
    """A reportlab table drawn without any line (the way manuals set troubleshooting tables and price lists);
    cells are Paragraphs, so a cell wider than its column wraps onto more lines."""
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table, TableStyle

    def style(r: int, c: int) -> ParagraphStyle:
        font = "Helvetica-Bold" if r == 0 and bold_header else "Helvetica"
        return ParagraphStyle(f"cell{r}{c}", fontName=font, fontSize=size, leading=size * 1.2,
                              alignment=TA_RIGHT if c in align_right else 0)

    data = [[Paragraph(cell, style(r, c)) for c, cell in enumerate(row)] for r, row in enumerate(rows)]
    table = Table(data, colWidths=widths, hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 4),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    return table


def facts_of(folder: Path, name: str, text: str) -> dict[str, object]:
    """Each training question of one document written into `folder`, with the fact it asks for, in the language
    detected for it: what a user's run would be taught."""
    from core.dataset.questions import document_facts
    from core.documents import ingest

    (folder / name).write_text(text, encoding="utf-8")
    result = ingest([folder])
    facts, _, _ = document_facts(result.elements, result.languages()[name])
    return {q: f for f in facts for q in f.questions}
