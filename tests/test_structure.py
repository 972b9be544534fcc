"""core/documents/structure.py: real files of every format in, typed elements out.

Every document is written to disk by the tools that make such files in the
wild (python-docx, reportlab, plain markup), so the parsers meet real structure:
Word styles and merged cells, ruled PDF tables under running headers, HTML page
furniture, GFM tables. The `read` fixture also fails a test whose file was only
read by the lines fallback, so a parser that crashes cannot pass unnoticed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import pytest

from core.documents.formats import site_name
from core.documents.elements import Element, StructuredText
from core.documents.structure import read_structured, split_sentences
from core.errors import DocumentError
from tests.doc_fixtures import make_corrupt_pdf, make_story_pdf, pdf_bytes, unruled_table

Read = Callable[..., StructuredText]


@pytest.fixture
def read(caplog: pytest.LogCaptureFixture) -> Read:
    """read_structured that fails the test when the structured parser gave up and the lines fallback read the file."""

    def _read(path: Path, **kwargs: str) -> StructuredText:
        with caplog.at_level(logging.INFO, logger="core.documents.structure"):
            doc = read_structured(path, **kwargs)
        assert "reading it as lines" not in caplog.text, caplog.text
        return doc

    return _read


def kinds(elements: list[Element], kind: str) -> list[Element]:
    return [e for e in elements if e.kind == kind]


def only(elements: list[Element], kind: str, text_part: str) -> Element:
    found = [e for e in elements if e.kind == kind and text_part in e.text]
    assert len(found) == 1, (kind, text_part, [(e.kind, e.text) for e in elements])
    return found[0]


def all_text(elements: list[Element]) -> str:
    return " ".join(e.text for e in elements) + " " + " ".join(h for e in elements for h in e.headings)


# ------------------------------------------------------------------- markdown

MARKDOWN_EN = """# Coffee Maker Manual

Read this manual before you use the machine for the first time.

## Cleaning

- Rinse the **carafe** every day with warm water
- Wipe the [hot plate](https://example.com/plate) only when it is cold

3. Fill the tank with fresh water
4. Press *start* and wait

| Program | Temperature | Duration |
|---------|-------------|----------|
| Descale | 90 °C       | 20 min   |
| Rinse   | 60 °C       | 5 min    |

Hotline: 0800 123 456
Email: help@example.com

**How do I descale the machine?**

Use two descaling tablets in a full tank.

Then run the descaling program once.

## Error codes

E-04  Water tank empty — refill the tank
"""


def test_markdown_elements_keep_headings_numbers_tables_and_pairs(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "manual.md"
    path.write_text(MARKDOWN_EN, encoding="utf-8")
    doc = read(path, source="manual.md")
    els = doc.elements
    assert doc.language == "en" and doc.pages == 0 and not doc.truncated
    assert all(e.source == "manual.md" for e in els)

    bullet = only(els, "list_item", "hot plate")
    assert bullet.text == "Wipe the hot plate only when it is cold"  # link markup gone, its text kept
    assert bullet.headings == ("Coffee Maker Manual", "Cleaning")

    steps = kinds(els, "step")
    assert [(s.number, s.text) for s in steps] == [(3, "Fill the tank with fresh water"), (4, "Press start and wait")]

    row = only(els, "table_row", "Rinse")
    assert row.cells == (("Program", "Rinse"), ("Temperature", "60 °C"), ("Duration", "5 min"))
    assert row.text == "Program: Rinse; Temperature: 60 °C; Duration: 5 min"
    assert row.table == "Cleaning" and row.headings == ("Coffee Maker Manual", "Cleaning")

    assert [e.cells for e in kinds(els, "key_value")] == [
        (("Hotline", "0800 123 456"),), (("Email", "help@example.com"),), (("E-04", "Water tank empty — refill the tank"),)]
    assert only(els, "key_value", "E-04").headings == ("Coffee Maker Manual", "Error codes")

    qa = only(els, "qa", "descale")
    assert qa.cells == (("How do I descale the machine?",
                         "Use two descaling tablets in a full tank. Then run the descaling program once."),)
    assert qa.headings == ("Coffee Maker Manual", "Cleaning")
    assert "**" not in all_text(els) and "](" not in all_text(els)


def test_markdown_faq_with_its_answer_on_the_line_below_the_bold_question(tmp_path: Path, read: Read) -> None:
    """No blank line between a bold question and its answer makes them one Markdown paragraph: still a pair."""
    path = tmp_path / "faq.md"
    path.write_text("# Sailing club\n\n## Questions\n\n**Can I rent a boat without being a member?**\n"
                    "No, rentals are for members whose fee is paid.\nAsk at the office to join.\n\n"
                    "**Do I need to swim?**  \nYes, 50 metres.\n\n"
                    "## Notes\n\n**Boats are checked every Monday.**\nThe harbour master signs the log.\n", encoding="utf-8")
    els = read(path, source="faq.md").elements
    assert only(els, "qa", "rent").cells == (("Can I rent a boat without being a member?",
                                             "No, rentals are for members whose fee is paid. Ask at the office to join."),)
    assert only(els, "qa", "swim").cells == (("Do I need to swim?", "Yes, 50 metres."),)  # a hard line break too
    assert only(els, "paragraph", "Monday").text == "Boats are checked every Monday. The harbour master signs the log."


def _faq_file(path: Path, kind: str) -> None:
    """One FAQ page holding two questions, each answered on its own line, and a paragraph after them."""
    pairs = [("Peut-on louer un casier ?", "Oui, avec une pièce de 1 € rendue à la sortie."),
             ("Y a-t-il des cours de natation ?", "Oui, le mercredi après-midi, sur inscription.")]
    after = "Le bonnet de bain est obligatoire."
    if kind == "md":
        path.write_text("# Piscine\n\n## Questions\n\n" + "".join(f"**{q}** {a}\n\n" for q, a in pairs) + after + "\n",
                        encoding="utf-8")
    elif kind == "html":
        path.write_text("<html><body><h1>Piscine</h1><h2>Questions</h2>" + "".join(
            f"<p><strong>{q}</strong> {a}</p>" for q, a in pairs) + f"<p>{after}</p></body></html>", encoding="utf-8")
    elif kind == "txt":
        path.write_text("Piscine\n\nQuestions\n\n" + "".join(f"{q} {a}\n\n" for q, a in pairs) + after + "\n",
                        encoding="utf-8")
    else:
        import docx

        doc = docx.Document()
        doc.add_heading("Piscine", 1)
        doc.add_heading("Questions", 2)
        for q, a in pairs:
            para = doc.add_paragraph()
            para.add_run(q).bold = True
            para.add_run(f" {a}")
        doc.add_paragraph(after)
        doc.save(path)


@pytest.mark.parametrize("kind", ["md", "html", "txt", "docx"])
def test_an_faq_answered_on_the_questions_own_line_is_a_pair(tmp_path: Path, read: Read, kind: str) -> None:
    """'**Peut-on louer un casier ?** Oui, …' (or the same without bold, in a text file) was one paragraph: its
    question was never asked as written, and the prose rules asked it as a statement ('Who rent a locker?' with
    the answer 'Can I rent a locker.'). Each pair takes its own answer only, not the paragraph after it."""
    path = tmp_path / f"faq.{kind}"
    _faq_file(path, kind)
    els = read(path, source=path.name).elements
    assert [e.cells for e in els if e.kind == "qa"] == [
        (("Peut-on louer un casier ?", "Oui, avec une pièce de 1 € rendue à la sortie."),),
        (("Y a-t-il des cours de natation ?", "Oui, le mercredi après-midi, sur inscription."),)]
    assert only(els, "paragraph", "bonnet").text == "Le bonnet de bain est obligatoire."


@pytest.mark.parametrize("name,text", [
    ("q.md", "# Club\n\n## FAQ\n\nQ: Is there parking?\nA: Yes, behind the hall.\n"),
    ("bold.md", "# Club\n\n## FAQ\n\n**Q: Is there parking?**\nA: Yes, behind the hall.\n"),
    ("apart.md", "# Club\n\n## FAQ\n\nQ: Is there parking?\n\nA: Yes, behind the hall.\n"),
    ("plain.txt", "Club\n\nQ: Is there parking?\nA: Yes, behind the hall.\n"),
])
def test_a_q_and_a_marked_faq_is_a_pair_without_its_markers(tmp_path: Path, read: Read, name: str, text: str) -> None:
    """'Q: …?' / 'A: …' lines were read in Markdown as two "Key: value" lines with the keys 'Q' and 'A'."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    els = read(path, source=name).elements
    assert [e.cells for e in els if e.kind != "heading"] == [(("Is there parking?", "Yes, behind the hall."),)]



@pytest.mark.parametrize("name,text,pair_", [
    ("heading.md", "# Club\n\n### Who runs the course?\n\nA. Smith runs it.\n",
     ("Who runs the course?", "A. Smith runs it.")),
    ("bold.md", "# Club\n\n**Who runs the course?**\nA. Smith runs it.\n", ("Who runs the course?", "A. Smith runs it.")),
    ("marked.txt", "Club\n\nQ: Who runs the course?\nA: A. Smith runs it.\n", ("Who runs the course?", "A. Smith runs it.")),
])
def test_an_answer_that_opens_with_an_initial_keeps_it(tmp_path: Path, read: Read, name: str, text: str,
                                                      pair_: tuple[str, str]) -> None:
    """'A.' was cut from every question's answer as if it were the 'A:' marker, even where no 'Q:' came first."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert [e.cells for e in read(path, source=name).elements if e.kind == "qa"] == [(pair_,)]


def test_a_postscript_is_no_marked_question(tmp_path: Path, read: Read) -> None:
    """'P' marks a Spanish FAQ question ('P: ¿…?'), and "P.S. Did you know …?" was read as the question 'S. Did …'."""
    path = tmp_path / "club.md"
    path.write_text("# Club\n\nP.S. Did you know the hall has a piano?\n\nIt was a gift in 1990.\n", encoding="utf-8")
    assert not any(text.startswith("S.") for e in read(path).elements for cell in e.cells for text in cell)


MARKDOWN_DE = """# Kundenservice

Wir helfen Ihnen gerne weiter, wenn Ihre Kaffeemaschine nicht mehr richtig funktioniert.
Bitte halten Sie die Seriennummer bereit, bevor Sie uns anrufen.

Öffnungszeiten: Mo–Fr 9–17 Uhr

## Zubehör

- Entkalkungstabletten für alle Modelle
- Wasserfilter, die alle zwei Monate gewechselt werden sollten

| Artikel | Preis | Lieferzeit |
|---|---|---|
| Wasserfilter | 12 € | zwei Tage |
"""


def test_german_markdown_is_detected_as_german(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "service.md"
    path.write_text(MARKDOWN_DE, encoding="utf-8")
    doc = read(path)
    assert doc.language == "de"
    assert only(doc.elements, "key_value", "Öffnungszeiten").cells == (("Öffnungszeiten", "Mo–Fr 9–17 Uhr"),)
    assert only(doc.elements, "list_item", "Wasserfilter").headings == ("Kundenservice", "Zubehör")
    row = only(doc.elements, "table_row", "Wasserfilter")
    assert row.cells == (("Artikel", "Wasserfilter"), ("Preis", "12 €"), ("Lieferzeit", "zwei Tage"))


# ----------------------------------------------------------------------- text

TEXT = """COFFEE MAKER GUIDE

Safety
Never open the lid while the machine is brewing, because hot water can
escape from the filter basket and burn your hands.

- Keep children away from the machine
- Use only the supplied power cord and plug it into a grounded
  outlet near the machine.

Step 1: Fill the tank with fresh water.
Step 2: Insert a paper filter.

Q: How long does brewing take?
A: About five minutes for a full carafe,
less for two cups.

Opening hours: Mon-Fri 9-17
Breakfast from 7:30 to 10:00.

Model      Power     Capacity
CM-100     900 W     1.2 l
CM-200     1200 W    1.8 l

Year	Cups sold
2023	1200
2024	1500

Why does the light blink?
The machine is still heating up.
"""


def test_plain_text_lines_are_classified(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "guide.txt"
    path.write_text(TEXT, encoding="utf-8")
    els = read(path).elements
    title, safety = ("COFFEE MAKER GUIDE",), ("COFFEE MAKER GUIDE", "Safety")
    assert [(e.text, e.headings) for e in kinds(els, "heading")] == [("COFFEE MAKER GUIDE", ()), ("Safety", title)]
    para = only(els, "paragraph", "Never open")
    assert para.text.endswith("filter basket and burn your hands.") and para.headings == safety  # wrapped lines rejoined
    cord = only(els, "list_item", "power cord")
    assert cord.text == "Use only the supplied power cord and plug it into a grounded outlet near the machine."
    assert cord.headings == safety
    assert [(s.number, s.text) for s in kinds(els, "step")] == [(1, "Fill the tank with fresh water."), (2, "Insert a paper filter.")]
    assert only(els, "qa", "brewing").cells == (("How long does brewing take?",
                                                 "About five minutes for a full carafe, less for two cups."),)
    assert only(els, "qa", "blink").cells == (("Why does the light blink?", "The machine is still heating up."),)
    assert [e.cells for e in kinds(els, "key_value")] == [(("Opening hours", "Mon-Fri 9-17"),)]
    only(els, "paragraph", "Breakfast from 7:30 to 10:00.")  # a time is not a "Key: value"
    assert [e.cells for e in kinds(els, "table_row")] == [
        (("Model", "CM-100"), ("Power", "900 W"), ("Capacity", "1.2 l")),
        (("Model", "CM-200"), ("Power", "1200 W"), ("Capacity", "1.8 l")),
        (("Year", "2023"), ("Cups sold", "1200")), (("Year", "2024"), ("Cups sold", "1500"))]  # numbers are data


# ----------------------------------------------------------------------- html

HTML = """<!DOCTYPE html>
<html><head><title>Acme Support</title><style>.x { color: red }</style></head>
<body>
<nav><a href="/">Home</a> <a href="/shop">Shop navigation link</a></nav>
<header>Site banner header text</header>
<main>
  <h1>Help Centre</h1>
  <h2>Frequently asked questions</h2>
  <h3>Can I use ground coffee?</h3>
  <p>Yes, medium-ground coffee works best.</p>
  <p>Fine powder can block the filter.</p>
  <h3>Where is the serial number?</h3>
  <p>On the type plate under the water tank.</p>
  <h2>Models</h2>
  <table>
    <caption>Technical data</caption>
    <tr><th>Model</th><th>Power</th><th>Capacity</th></tr>
    <tr><td>CM-100</td><td>900 W</td><td>1.2 l</td></tr>
    <tr><td>CM-200</td><td>1200 W</td><td>1.8 l</td></tr>
  </table>
  <h2>Glossary</h2>
  <dl>
    <dt>Descaling</dt><dd>Removing lime from the heater.</dd>
    <dt>Is the carafe dishwasher-safe?</dt><dd>Only the lid is.</dd>
  </dl>
  <ol start="2"><li>Open the lid</li><li>Insert the filter<ul><li>paper or permanent</li></ul></li></ol>
  <p>Warranty: 2 years</p>
  <!-- an HTML comment that is not text -->
</main>
<script>var trackingScriptCode = 1;</script>
<footer>Copyright footer text 2024</footer>
</body></html>
"""


def test_html_faq_table_and_definitions(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "help.html"
    path.write_text(HTML, encoding="utf-8")
    els = read(path).elements
    text = all_text(els)
    for noise in ("navigation link", "banner header", "footer text", "trackingScriptCode", "color: red", "comment"):
        assert noise not in text
    faq = ("Acme Support", "Help Centre", "Frequently asked questions")  # the <title> names the site above <h1>
    coffee = only(els, "qa", "ground coffee")
    assert coffee.cells == (("Can I use ground coffee?",
                             "Yes, medium-ground coffee works best. Fine powder can block the filter."),)
    assert coffee.headings == faq
    assert only(els, "qa", "serial").cells == (("Where is the serial number?", "On the type plate under the water tank."),)
    assert not any(e.kind == "paragraph" and "powder" in e.text for e in els)  # it is in the answer, once

    row = only(els, "table_row", "CM-200")
    assert row.cells == (("Model", "CM-200"), ("Power", "1200 W"), ("Capacity", "1.8 l"))
    assert row.table == "Technical data" and row.headings == ("Acme Support", "Help Centre", "Models")
    assert len(kinds(els, "table_row")) == 2
    only(els, "caption", "Technical data")

    assert only(els, "key_value", "Descaling").cells == (("Descaling", "Removing lime from the heater."),)
    assert only(els, "qa", "dishwasher").cells == (("Is the carafe dishwasher-safe?", "Only the lid is."),)
    assert [(e.number, e.text) for e in kinds(els, "step")] == [(2, "Open the lid"), (3, "Insert the filter")]
    assert only(els, "list_item", "permanent").headings == ("Acme Support", "Help Centre", "Glossary", "Insert the filter")
    assert only(els, "key_value", "Warranty").cells == (("Warranty", "2 years"),)


@pytest.mark.parametrize("title,h1,site", [
    ("FAQ | Harbour Sailing Club", "Frequently asked questions", "Harbour Sailing Club"),  # the h1's initials
    ("Harbour Sailing Club – FAQ", "Frequently asked questions", "Harbour Sailing Club"),
    ("Opening times - City Library", "Opening times", "City Library"),  # the part repeating the h1 goes
    ("City Library", "City Library opening times", ""),  # the h1 says it all: no heading above it
    # the h1 is the name and the title adds the page's ('FAQ'): the document was titled 'FAQ', so every question
    # was asked 'of FAQ' ('Who is the teacher for Dolphins of FAQ?')
    ("Brookside Swim School — FAQ", "Brookside Swim School", ""),
    ("Home | Kingsmead Repair Café", "Kingsmead Repair Café", ""),
    ("Visit us — Lakeside Rowing Club", "Visit us", "Lakeside Rowing Club"),
    # the h1 is a name and the title says it in full, then the kind of page: the full name ('Product Sheet' was
    # taken for the site, and every question asked 'of Product Sheet')
    ("AquaPure 500 Water Filter — Product Sheet", "AquaPure 500", "AquaPure 500 Water Filter"),
    ("Opening times and prices - City Library", "Opening times", "City Library"),  # a generic h1 extended: no name
])
def test_html_title_names_the_site_above_a_generic_h1(title: str, h1: str, site: str) -> None:
    assert site_name(title, h1) == site


def test_html_title_heads_a_page_without_h1(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<html><head><title>Price list</title></head><body><h2>Drinks</h2>"
                    "<ul><li>Espresso costs two euros at the counter</li></ul></body></html>", encoding="utf-8")
    item = only(read(path).elements, "list_item", "Espresso")
    assert item.headings == ("Price list", "Drinks")


# ----------------------------------------------------------------------- docx


def make_manual_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("Office Handbook", style="Title")
    document.add_heading("Getting started", level=1)
    document.add_paragraph("Welcome to the team. This handbook explains how our office works.")
    document.add_paragraph("Bring your ID card", style="List Bullet")
    document.add_paragraph("Ask for a laptop", style="List Bullet")
    document.add_heading("First day", level=2)
    for text in ("Collect your badge", "Set up your e-mail", "Meet your mentor"):
        document.add_paragraph(text, style="List Number")
    document.add_paragraph("After lunch the tour starts.")
    for text in ("Visit the lab", "Visit the kitchen"):
        document.add_paragraph(text, style="List Number")
    document.add_paragraph("Reception: Building A, ground floor")
    document.add_heading("Rooms", level=2)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["Room", "Floor", "Seats"], ["Atlas", "2", "12"], ["Borealis", "3", "6"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = document.add_table(rows=2, cols=3)
    for c, value in enumerate(["Team", "Contact", "Contact"]):
        merged.cell(0, c).text = value
    merged.cell(1, 0).text = "IT"
    merged.cell(1, 1).merge(merged.cell(1, 2)).text = "it@example.com"
    document.save(str(path))
    return path


def test_docx_styles_lists_and_tables(tmp_path: Path, read: Read) -> None:
    els = read(make_manual_docx(tmp_path / "handbook.docx")).elements
    assert [(e.text, e.headings) for e in kinds(els, "heading")] == [
        ("Office Handbook", ()), ("Getting started", ("Office Handbook",)),
        ("First day", ("Office Handbook", "Getting started")), ("Rooms", ("Office Handbook", "Getting started"))]
    bullet = only(els, "list_item", "laptop")
    assert bullet.headings == ("Office Handbook", "Getting started")
    first_day = ("Office Handbook", "Getting started", "First day")
    assert [(s.number, s.text) for s in kinds(els, "step")] == [
        (1, "Collect your badge"), (2, "Set up your e-mail"), (3, "Meet your mentor"),
        (1, "Visit the lab"), (2, "Visit the kitchen")]  # the count restarts after a paragraph
    assert only(els, "step", "mentor").headings == first_day
    assert only(els, "key_value", "Reception").cells == (("Reception", "Building A, ground floor"),)
    rows = kinds(els, "table_row")
    assert [r.cells for r in rows] == [
        (("Room", "Atlas"), ("Floor", "2"), ("Seats", "12")),
        (("Room", "Borealis"), ("Floor", "3"), ("Seats", "6")),
        (("Team", "IT"), ("Contact", "it@example.com"))]  # the merged cell once
    assert rows[0].table == "Rooms" and rows[0].headings == ("Office Handbook", "Getting started", "Rooms")



def _write_lists(path: Path) -> Path:
    """A lead-in line before numbered steps, a list nested under an item, a paragraph after each."""
    steps, after = ("Open the main tap.", "Read the meter."), "The water is off from November to March."
    if path.suffix == ".docx":
        import docx

        document = docx.Document()
        document.add_paragraph("Riverside Allotments", style="Title")
        document.add_heading("Water", level=1)
        document.add_paragraph("To turn on the water:")
        for step in steps:
            document.add_paragraph(step, style="List Number")
        document.add_paragraph(after)
        document.add_heading("Rules", level=1)
        document.add_paragraph("Sheds:", style="List Bullet")
        document.add_paragraph("no taller than 2.1 metres", style="List Bullet 2")
        document.add_paragraph("painted green", style="List Bullet 2")
        document.add_paragraph("Dogs stay on a lead.", style="List Bullet")
        document.save(str(path))
    elif path.suffix == ".html":
        path.write_text("<h1>Riverside Allotments</h1><h2>Water</h2><p>To turn on the water:</p><ol>"
                        + "".join(f"<li>{s}</li>" for s in steps) + f"</ol><p>{after}</p><h2>Rules</h2><ul>"
                        "<li>Sheds:<ul><li>no taller than 2.1 metres</li><li>painted green</li></ul></li>"
                        "<li>Dogs stay on a lead.</li></ul>", encoding="utf-8")
    else:
        path.write_text(f"# Riverside Allotments\n\n## Water\n\nTo turn on the water:\n\n1. {steps[0]}\n2. {steps[1]}\n\n"
                        f"{after}\n\n## Rules\n\n- Sheds:\n  - no taller than 2.1 metres\n  - painted green\n"
                        "- Dogs stay on a lead.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["lists.md", "lists.html", "lists.docx"])
def test_a_lead_in_heads_its_steps_and_an_item_heads_its_nested_list(tmp_path: Path, read: Read, name: str) -> None:
    """'To turn on the water:' before steps, and 'Sheds:' over a nested list, were lost: the steps sat under the
    section's heading only and were asked 'What is step 1 of Water?', the nested items under no 'Sheds' at all."""
    els = read(_write_lists(tmp_path / name)).elements
    water, rules = ("Riverside Allotments", "Water"), ("Riverside Allotments", "Rules")
    assert [(s.text, s.headings) for s in kinds(els, "step")] == [
        ("Open the main tap.", water + ("To turn on the water",)), ("Read the meter.", water + ("To turn on the water",))]
    assert only(els, "paragraph", "November").headings == water  # the lead-in heads its list only
    assert only(els, "list_item", "taller").headings == rules + ("Sheds",)
    assert only(els, "list_item", "green").headings == rules + ("Sheds",)
    assert only(els, "list_item", "Dogs").headings == rules


def test_a_lead_in_heads_steps_in_plain_german_text(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "mitteilung.txt"
    path.write_text("Kleingartenverein Am Weiher\n\nWasser anstellen:\n1. Haupthahn im Schacht öffnen.\n"
                    "2. Zähler ablesen und notieren.\n\nDas Wasser wird am 31. Oktober abgestellt.\n", encoding="utf-8")
    els = read(path).elements
    assert [s.headings for s in kinds(els, "step")] == [("Kleingartenverein Am Weiher", "Wasser anstellen")] * 2
    assert only(els, "paragraph", "Oktober").headings == ("Kleingartenverein Am Weiher",)


def test_a_task_list_item_is_an_action_not_a_key_value_line(tmp_path: Path, read: Read) -> None:
    """'- [ ] Priya: update the website' kept its box as text ('[ ] what : update …?'); without the box, its
    'Priya:' made it a "Key: value" line asked 'What is the priya?'. A box marks an action item."""
    path = tmp_path / "notes.md"
    path.write_text("# Choir committee\n\n## Action items\n\n- [ ] Priya: update the website\n"
                    "- [x] Ann: renew the insurance\n- Venue: St Brides Church\n", encoding="utf-8")
    els = read(path).elements
    assert [e.text for e in kinds(els, "list_item")] == ["Priya: update the website", "Ann: renew the insurance"]
    assert [e.cells for e in kinds(els, "key_value")] == [(("Venue", "St Brides Church"),)]


@pytest.mark.parametrize("name", ["faq.md", "faq.docx"])
def test_a_key_value_line_after_an_faq_answer_is_a_line_of_its_own(tmp_path: Path, read: Read, name: str) -> None:
    """An FAQ's answer took every paragraph up to the next question, so the office's phone line became part of
    the answer about parking, and was asked '¿Dónde aparco? ¿Teléfono de la oficina: qué número?'."""
    lines = ["Guía del voluntario", "P: ¿Dónde aparco?", "R: En el aparcamiento de la piscina, a 200 metros.",
             "Teléfono de la oficina: 918 650 221"]
    path = tmp_path / name
    if name.endswith(".docx"):
        import docx

        document = docx.Document()
        document.add_heading(lines[0], 0)
        for line in lines[1:]:
            document.add_paragraph(line)
        document.save(str(path))
    else:
        path.write_text(f"# {lines[0]}\n\n" + "\n\n".join(lines[1:]) + "\n", encoding="utf-8")
    els = read(path).elements
    assert [e.cells for e in kinds(els, "qa")] == [(("¿Dónde aparco?", "En el aparcamiento de la piscina, a 200 metros."),)]
    assert [e.cells for e in kinds(els, "key_value")] == [(("Teléfono de la oficina", "918 650 221"),)]



def make_word_list_docx(path: Path) -> Path:
    """A list as Word writes it: 'List Paragraph's with a numbering (decimal, bullets one level down) of its own."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="o"/></w:lvl>'
        '</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    document.add_paragraph("Office Handbook", style="Title")
    document.add_heading("Fire drill", 1)

    def item(text: str, level: int) -> None:
        paragraph = document.add_paragraph(text, style="List Paragraph")
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))

    item("Leave by the nearest exit.", 0)
    item("Meet at the car park:", 0)
    item("row A for the first floor", 1)
    document.add_paragraph("The fire warden counts everyone.")
    item("Wait for the all-clear.", 0)
    document.save(str(path))
    return path


def test_docx_word_numbered_list_is_steps(tmp_path: Path, read: Read) -> None:
    """Word's own numbered lists were read as bullets: a procedure written in Word had no steps to ask about."""
    els = read(make_word_list_docx(tmp_path / "drill.docx")).elements
    drill = ("Office Handbook", "Fire drill")
    assert [(s.number, s.text) for s in kinds(els, "step")] == [
        (1, "Leave by the nearest exit."), (2, "Meet at the car park:"), (3, "Wait for the all-clear.")]  # as Word shows
    assert only(els, "list_item", "row A").headings == drill + ("Meet at the car park",)
    assert only(els, "paragraph", "warden").headings == drill



def test_docx_two_column_tables_without_a_header_are_label_value_lines(tmp_path: Path, read: Read) -> None:
    """A contact or spec table typed in Word has no header row; its first row was read as one, so every row
    said 'Boathouse phone: Head coach; 01632 960 118: Martin Okoye'. A header Word marks (bold) stays one."""
    import docx

    document = docx.Document()
    document.add_heading("Lakeside Rowing Club", 0)
    tables = {"Contact": [("Boathouse phone", "01632 960 118"), ("Head coach", "Martin Okoye")],
              "Boat": [("Length", "8.2 m"), ("Weight", "27 kg"), ("Crew", "4 rowers")],
              "Fees": [("Season", "2025 fee"), ("Summer", "£40"), ("Winter", "£25")]}
    for name, rows in tables.items():
        document.add_heading(name, 1)
        table = document.add_table(rows=len(rows), cols=2)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).paragraphs[0].add_run(text).bold = name == "Fees" and r == 0
    paragraph = document.add_paragraph("Boathouse Lane 4")
    for line in ("Kenmore", "Email: info@lakeside.example"):  # Shift+Enter line breaks
        paragraph.add_run().add_break()
        paragraph.add_run(line)
    document.save(str(tmp_path / "club.docx"))
    els = read(tmp_path / "club.docx").elements
    assert [e.cells for e in kinds(els, "key_value")] == [
        (("Boathouse phone", "01632 960 118"),), (("Head coach", "Martin Okoye"),),
        (("Length", "8.2 m"),), (("Weight", "27 kg"),), (("Crew", "4 rowers"),),
        (("Email", "info@lakeside.example"),)]
    assert [r.cells for r in kinds(els, "table_row")] == [  # its first row reads like data, but it is bold
        (("Season", "Summer"), ("2025 fee", "£40")), (("Season", "Winter"), ("2025 fee", "£25"))]
    assert only(els, "paragraph", "Boathouse Lane").text == "Boathouse Lane 4 Kenmore"


def test_html_label_value_tables_without_a_header_row(tmp_path: Path, read: Read) -> None:
    """A web page's contact table ('Phone | 01632 960 118') had its first row taken for a header, as in Word."""
    path = tmp_path / "club.html"
    path.write_text("<h1>Club</h1><table><tr><td>Phone</td><td>01632 960 118</td></tr><tr><td>Coach</td>"
                    "<td>Martin Okoye</td></tr></table><table><tr><th>Weight</th><td>27 kg</td></tr><tr><th>Length</th>"
                    "<td>8.2 m</td></tr></table><table><tr><td>Item</td><td>Deposit</td></tr><tr><td>Oar</td>"
                    "<td>€35</td></tr><tr><td>Jacket</td><td>€10</td></tr></table>", encoding="utf-8")
    els = read(path).elements
    assert [e.text for e in kinds(els, "key_value")] == [
        "Phone: 01632 960 118", "Coach: Martin Okoye", "Weight: 27 kg", "Length: 8.2 m"]
    assert [e.text for e in kinds(els, "table_row")] == ["Item: Oar; Deposit: €35", "Item: Jacket; Deposit: €10"]


@pytest.mark.parametrize("name", ["cafe.docx", "cafe.md", "cafe.html"])
def test_bold_lines_head_a_document_that_has_no_headings(tmp_path: Path, read: Read, name: str) -> None:
    """Many people head their sections with a bold line, not a heading style: every section then sat under
    the title alone ('What is listed under Riverside Café?'). A bold sentence is no heading."""
    blocks = [("Riverside Café — Staff notes", True), ("Please read these notes before your first shift.", False),
              ("Opening hours", True), ("We open at 7:30 on weekdays.", False), ("Breaks", True),
              ("Every shift longer than six hours has a break.", False), ("Never leave the till open.", True),
              ("Lock it whenever you step away.", False)]
    path = tmp_path / name
    if name.endswith(".docx"):
        import docx

        document = docx.Document()
        for text, bold in blocks:
            document.add_paragraph().add_run(text).bold = bold
        document.save(str(path))
    elif name.endswith(".md"):
        path.write_text("\n\n".join(f"**{t}**" if b else t for t, b in blocks) + "\n", encoding="utf-8")
    else:
        path.write_text("".join(f"<p><strong>{t}</strong></p>" if b else f"<p>{t}</p>" for t, b in blocks), encoding="utf-8")
    els = read(path).elements
    title = ("Riverside Café — Staff notes",)
    assert [(e.text, e.headings) for e in kinds(els, "heading")] == [
        (title[0], ()), ("Opening hours", title), ("Breaks", title)]
    assert only(els, "paragraph", "7:30").headings == title + ("Opening hours",)
    assert only(els, "paragraph", "till").headings == title + ("Breaks",)  # a bold sentence stays a sentence


def test_bold_lines_head_a_web_page_under_its_site_name_and_h1(tmp_path: Path, read: Read) -> None:
    """A page's <title> and <h1> are both titles: its bold lines are still the only section headings."""
    path = tmp_path / "cafe.html"
    path.write_text("<title>Riverside Café</title><h1>Staff notes</h1><p><b>Opening hours</b></p><p>We open at 7:30."
                    "</p><p><b>Breaks</b></p><p>Every shift has a break.</p>", encoding="utf-8")
    assert only(read(path).elements, "paragraph", "7:30").headings == ("Riverside Café", "Staff notes", "Opening hours")


def test_bold_lines_stay_text_where_the_document_has_headings(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "cafe.md"
    path.write_text("# Café\n\n## Rules\n\n**No dogs inside**\n\nGuide dogs are welcome.\n", encoding="utf-8")
    assert only(read(path).elements, "paragraph", "No dogs").headings == ("Café", "Rules")


@pytest.mark.parametrize("name", ["fees.docx", "fees.html"])
def test_a_table_title_merged_across_its_first_row_is_its_caption(tmp_path: Path, read: Read, name: str) -> None:
    """'Fees 2025' merged across the first row was taken for every column's header ('Fees 2025: £180')."""
    rows = [("Membership", "Adult", "Junior"), ("Annual fee", "£180", "£60"), ("Boat storage", "£45", "£20")]
    path = tmp_path / name
    if name.endswith(".docx"):
        import docx

        document = docx.Document()
        document.add_heading("Club", 0)
        table = document.add_table(rows=4, cols=3)
        table.cell(0, 0).merge(table.cell(0, 2)).text = "Fees 2025"
        for r, row in enumerate(rows, 1):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
        document.save(str(path))
    else:
        path.write_text("<h1>Club</h1><table><tr><th colspan=3>Fees 2025</th></tr>" + "".join(
            "<tr>" + "".join(f"<{t}>{c}</{t}>" for c in row) + "</tr>" for t, row in zip(["th", "td", "td"], rows))
            + "</table>", encoding="utf-8")
    els = read(path).elements
    assert [(r.text, r.table) for r in kinds(els, "table_row")] == [
        ("Membership: Annual fee; Adult: £180; Junior: £60", "Fees 2025"),
        ("Membership: Boat storage; Adult: £45; Junior: £20", "Fees 2025")]


def test_html_line_breaks_set_a_key_value_line_apart(tmp_path: Path, read: Read) -> None:
    """<br>-broken lines ran together, so an address, a phone line and an e-mail line were one "Key: value"
    line keyed 'Boathouse Lane 4 Kenmore Phone'. A line break in the HTML source is no such break."""
    path = tmp_path / "visit.html"
    path.write_text("<h1>Visit us</h1><p>Boathouse Lane 4<br>Kenmore<br>Phone: 01632 960 118<br>"
                    "Email: info@lakeside.example</p><p>Parking is free for members and their families on any weekday\n"
                    "Note: guests pay £3.</p>", encoding="utf-8")
    els = read(path).elements
    assert [(e.kind, e.text) for e in els if e.kind != "heading"] == [
        ("paragraph", "Boathouse Lane 4 Kenmore"), ("key_value", "Phone: 01632 960 118"),
        ("key_value", "Email: info@lakeside.example"),
        ("paragraph", "Parking is free for members and their families on any weekday Note: guests pay £3.")]


def test_key_value_lines_typed_one_under_another_in_markdown_stay_apart(tmp_path: Path, read: Read) -> None:
    """Markdown joins a paragraph's lines, so a contact block typed line by line ('Manager: …', 'Phone: …', then a
    sentence) was one "Key: value" line whose value held the phone line and the sentence. Where two lines or more
    of a paragraph are "Key: value" lines, each is its own; a lower-case line goes on with the value above it."""
    path = tmp_path / "club.md"
    path.write_text("# Club\n\n## Contacts\n\nManager: Claire Vasser\nPhone: 01632 960 118\n"
                    "Our coach, Lea Morin, runs the Saturday session.\n\nAddress: 14 Mill Lane,\nnear the station\n"
                    "Email: info@club.example\n\nWe meet at the hall every week\non Mondays: bring shoes.\n",
                    encoding="utf-8")
    els = read(path).elements
    assert [(e.kind, e.text) for e in els if e.kind != "heading"] == [
        ("key_value", "Manager: Claire Vasser"), ("key_value", "Phone: 01632 960 118"),
        ("paragraph", "Our coach, Lea Morin, runs the Saturday session."),
        ("key_value", "Address: 14 Mill Lane, near the station"), ("key_value", "Email: info@club.example"),
        ("paragraph", "We meet at the hall every week on Mondays: bring shoes.")]


# ------------------------------------------------------------------------ pdf


def make_ruled_pdf(path: Path) -> Path:
    """Three pages with a running header and footer; page 2 holds a ruled table between two paragraphs."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    styles = getSampleStyleSheet()

    def furniture(canvas: object, doc: object) -> None:
        canvas.setFont("Helvetica", 9)  # type: ignore[attr-defined]
        canvas.drawString(72, 810, "ACME Coffee Handbook")  # type: ignore[attr-defined]
        canvas.drawString(72, 30, f"Page {canvas.getPageNumber()} of 3")  # type: ignore[attr-defined]

    table = Table([["Model", "Power", "Capacity"], ["CM-100", "900 W", "1.2 l"], ["CM-200", "1200 W", "1.8 l"]])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.75, (0, 0, 0))]))
    body = "The machine brews fresh coffee in a few minutes and keeps it warm for two hours afterwards."
    story = [
        Paragraph("Introduction", styles["Heading1"]), Paragraph(body, styles["BodyText"]), PageBreak(),
        Paragraph("Technical data", styles["Heading2"]),
        Paragraph("All models run on the usual household mains supply.", styles["BodyText"]),
        table, Paragraph("Keep the power cord away from the hot plate.", styles["BodyText"]), PageBreak(),
        Paragraph("Care", styles["Heading2"]), Paragraph("Descale the machine every month.", styles["BodyText"]),
    ]
    SimpleDocTemplate(str(path), pagesize=A4).build(story, onFirstPage=furniture, onLaterPages=furniture)
    return path


def test_pdf_ruled_table_pages_and_running_headers(tmp_path: Path, read: Read) -> None:
    doc = read(make_ruled_pdf(tmp_path / "handbook.pdf"))
    els = doc.elements
    assert doc.pages == 3 and doc.language == "en"
    rows = kinds(els, "table_row")
    assert [r.cells for r in rows] == [
        (("Model", "CM-100"), ("Power", "900 W"), ("Capacity", "1.2 l")),
        (("Model", "CM-200"), ("Power", "1200 W"), ("Capacity", "1.8 l"))]
    assert all(r.page == 2 and r.table == "Technical data" for r in rows)
    text = all_text(els)
    assert "ACME Coffee Handbook" not in text and "of 3" not in text  # running header and footer gone
    assert "CM-100" not in " ".join(e.text for e in els if e.kind != "table_row")  # the table is not read twice
    order = [e.text for e in els if e.page == 2]
    assert order.index("All models run on the usual household mains supply.") < order.index(rows[0].text) \
        < order.index("Keep the power cord away from the hot plate.")
    assert only(els, "paragraph", "Descale").page == 3
    assert only(els, "heading", "Care").page == 3


def test_pdf_unruled_table_rows_keep_headers_and_wrapped_cells(tmp_path: Path, read: Read) -> None:
    """A troubleshooting table drawn without lines: its header names the cells and is no heading."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph

    ss = getSampleStyleSheet()
    story = [
        Paragraph("Troubleshooting", ss["Heading1"]),
        Paragraph("If the display shows a code, look it up in the table below.", ss["BodyText"]),
        unruled_table([["Code", "Meaning", "What to do"],
                       ["E-01", "The water tank is empty or not seated correctly on its base",
                        "Fill the tank and push it down until it clicks into place"],
                       ["E-02", "Grinder blocked", "Remove the beans and clean the grinder with the brush"],
                       ["H:HH", "Too hot (above 50 °C)", "Let it cool for 20 minutes"]], widths=[50, 150, 180]),
        Paragraph("See page 4.", ParagraphStyle("note", fontSize=9, leading=11, spaceBefore=6)),
        Paragraph("Cleaning", ss["Heading2"]),
        Paragraph("Rinse the carafe every day with warm water and let it dry.", ss["BodyText"]),
    ]
    els = read(make_story_pdf(tmp_path / "manual.pdf", story)).elements
    rows = kinds(els, "table_row")
    assert [r.cells for r in rows] == [
        (("Code", "E-01"), ("Meaning", "The water tank is empty or not seated correctly on its base"),
         ("What to do", "Fill the tank and push it down until it clicks into place")),
        (("Code", "E-02"), ("Meaning", "Grinder blocked"),
         ("What to do", "Remove the beans and clean the grinder with the brush")),
        (("Code", "H:HH"), ("Meaning", "Too hot (above 50 °C)"), ("What to do", "Let it cool for 20 minutes"))]
    assert all(r.headings == ("Troubleshooting",) and r.page == 1 for r in rows)
    assert [e.text for e in kinds(els, "heading")] == ["Troubleshooting", "Cleaning"]  # the header row is no heading
    assert only(els, "paragraph", "carafe").headings == ("Troubleshooting", "Cleaning")
    assert [e.kind for e in els] == ["heading", "paragraph"] + ["table_row"] * 3 + ["paragraph", "heading", "paragraph"]
    assert only(els, "paragraph", "page 4").headings == ("Troubleshooting",)  # a short line below is no row
    assert "Grinder" not in " ".join(e.text for e in els if e.kind != "table_row")  # not read twice


def test_pdf_unruled_tables_in_german_prices_and_specs(tmp_path: Path, read: Read) -> None:
    """Four columns with a plain header and right-aligned prices; two columns with a wrapped cell;
    a spec list without a header row reads as "key: value" lines, not as a table headed by its first line."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph

    ss = getSampleStyleSheet()
    story = [
        Paragraph("Preisliste", ss["Heading1"]),
        Paragraph("Alle Preise verstehen sich inklusive Mehrwertsteuer.", ss["BodyText"]),
        unruled_table([["Artikel", "Bestellnummer", "Menge", "Preis"],
                       ["Entkalkungstabletten für Kaffeevollautomaten", "KV-1001", "10 Stück", "12,90 €"],
                       ["Wasserfilter", "KV-2040", "3 Stück", "24,50 €"],
                       ["Reinigungsbürste", "KV-0007", "1 Stück", "4,99 €"]],
                      widths=[150, 90, 60, 60], bold_header=False, align_right=(3,)),
        Paragraph("Technische Daten", ss["Heading2"]),
        unruled_table([["Nennleistung", "1450 W"], ["Wassertank", "1,8 l"], ["Gewicht", "7,2 kg"]],
                      widths=[120, 100], bold_header=False),
        Paragraph("Pflege", ss["Heading2"]),
        unruled_table([["Teil", "Hinweis"],
                       ["Milchschlauch", "Nach jedem Gebrauch mit warmem Wasser durchspülen und trocknen lassen"],
                       ["Brühgruppe", "Wöchentlich entnehmen"]], widths=[90, 150]),
        Paragraph("Bewahren Sie diese Anleitung gut auf.", ss["BodyText"]),
    ]
    doc = read(make_story_pdf(tmp_path / "preise.pdf", story))
    els = doc.elements
    assert doc.language == "de"
    rows = kinds(els, "table_row")
    assert [r.cells for r in rows[:3]] == [
        (("Artikel", "Entkalkungstabletten für Kaffeevollautomaten"), ("Bestellnummer", "KV-1001"),
         ("Menge", "10 Stück"), ("Preis", "12,90 €")),
        (("Artikel", "Wasserfilter"), ("Bestellnummer", "KV-2040"), ("Menge", "3 Stück"), ("Preis", "24,50 €")),
        (("Artikel", "Reinigungsbürste"), ("Bestellnummer", "KV-0007"), ("Menge", "1 Stück"), ("Preis", "4,99 €"))]
    assert [r.cells for r in rows[3:]] == [
        (("Teil", "Milchschlauch"), ("Hinweis", "Nach jedem Gebrauch mit warmem Wasser durchspülen und trocknen lassen")),
        (("Teil", "Brühgruppe"), ("Hinweis", "Wöchentlich entnehmen"))]
    assert [e.cells for e in kinds(els, "key_value")] == [
        (("Nennleistung", "1450 W"),), (("Wassertank", "1,8 l"),), (("Gewicht", "7,2 kg"),)]
    assert all(e.headings == ("Preisliste", "Technische Daten") for e in kinds(els, "key_value"))
    assert [e.text for e in kinds(els, "heading")] == ["Preisliste", "Technische Daten", "Pflege"]
    assert only(els, "paragraph", "Anleitung").headings == ("Preisliste", "Pflege")


def test_pdf_prose_and_lists_are_no_tables(tmp_path: Path, read: Read) -> None:
    """Justified prose (its wide gaps line up in a narrow column), steps and bullets with a hanging
    indent: the gaps are there, but they are no columns."""
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph

    ss = getSampleStyleSheet()
    justified = ParagraphStyle("justified", parent=ss["BodyText"], alignment=TA_JUSTIFY)
    narrow = ParagraphStyle("narrow", parent=justified, rightIndent=300)  # two words a line, stretched
    hanging = ParagraphStyle("hanging", parent=ss["BodyText"], leftIndent=28, bulletIndent=0)
    de = ("Die Gewährleistungsverpflichtung des Herstellers erstreckt sich ausschließlich auf Materialfehler "
          "und Verarbeitungsmängel, die nachweislich innerhalb der Gewährleistungsfrist auftreten. Verschleißteile "
          "wie Dichtungsringe und Wasserfilterkartuschen sind ausgenommen.")
    en = ("The machine brews fresh coffee in a few minutes and keeps it warm for two hours afterwards. Keep the "
          "power cord away from the hot plate and never let children operate the appliance unattended. ") * 2
    steps = ["Remove the packaging and the film.", "Wipe the pan.", "Place the machine on a dry, level worktop."]
    story = [Paragraph("Garantie", ss["Heading1"]), Paragraph(de, narrow), Paragraph(de, justified),
             Paragraph(en, narrow), Paragraph(en, justified), Paragraph("Before first use", ss["Heading2"])]
    story += [Paragraph(t, hanging, bulletText=f"{k}.") for k, t in enumerate(steps, 1)]
    story += [Paragraph("Packing list", ss["Heading2"])]
    story += [Paragraph(t, hanging, bulletText="-") for t in ["Bread pan", "Kneading paddle", "Measuring cup"]]
    els = read(make_story_pdf(tmp_path / "prose.pdf", story)).elements
    assert not kinds(els, "table_row") and not kinds(els, "key_value")
    assert [e.text[:40] for e in kinds(els, "paragraph")] == [de[:40]] * 2 + [en[:40]] * 2
    assert [e.text for e in kinds(els, "paragraph")][:2] == [de, de]  # whole, in reading order
    assert [(e.number, e.text) for e in kinds(els, "step")] == list(enumerate(steps, 1))
    assert [e.text for e in kinds(els, "list_item")] == ["Bread pan", "Kneading paddle", "Measuring cup"]
    assert [e.text for e in kinds(els, "heading")] == ["Garantie", "Before first use", "Packing list"]


def test_pdf_lead_in_heads_its_steps_and_unnamed_bullet_glyphs_are_bullets(tmp_path: Path, read: Read) -> None:
    """A '•' the PDF's font does not name comes back from pdfplumber as '(cid:127)', which was kept as text:
    '(cid:127) a soft cloth' was a paragraph, not a bullet under 'You will need'."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph

    ss = getSampleStyleSheet()
    lines = ["Wipe the outside with a damp cloth.", "To descale the kettle:", "1. Fill it with water and one tablet.",
             "2. Boil it twice.", "Descale it every month.", "You will need:", "• descaling tablets", "• a soft cloth"]
    story = [Paragraph("Kettle Manual", ss["Title"]), Paragraph("Cleaning", ss["Heading2"])]
    els = read(make_story_pdf(tmp_path / "kettle.pdf", story + [Paragraph(t, ss["BodyText"]) for t in lines])).elements
    cleaning = ("Kettle Manual", "Cleaning")
    assert [(e.text, e.headings) for e in kinds(els, "step")] == [
        ("Fill it with water and one tablet.", cleaning + ("To descale the kettle",)),
        ("Boil it twice.", cleaning + ("To descale the kettle",))]
    assert [(e.text, e.headings) for e in kinds(els, "list_item")] == [
        ("descaling tablets", cleaning + ("You will need",)), ("a soft cloth", cleaning + ("You will need",))]
    assert only(els, "paragraph", "every month").headings == cleaning
    assert "cid:" not in all_text(els)


NEWS = {
    "Spring fair": "The spring fair takes place on 12 April in the village hall. Stalls cost £15 and must be booked by "
                   "1 April with Helen Marsh, who runs the fair this year. Tables and chairs are provided.",
    "Choir": "The choir meets every Thursday at 19:30 in St Anne's church. New singers are welcome and the first three "
             "rehearsals are free. The summer concert is on 21 June in the church.",
    "Library": "The mobile library stops outside the post office every second Tuesday from 10:00 to 11:30. "
               "Large-print books can be ordered a week ahead at the counter.",
}


def make_newsletter_pdf(path: Path) -> Path:
    """A masthead across the page over two columns of text that share their baselines, as newsletters are set."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import BaseDocTemplate, Frame, FrameBreak, PageTemplate, Paragraph

    ss, (width, height) = getSampleStyleSheet(), A4
    doc = BaseDocTemplate(str(path), pagesize=A4)
    column = (width - 120) / 2
    doc.addPageTemplates([PageTemplate(frames=[
        Frame(50, height - 120, width - 100, 70), Frame(50, 50, column, height - 180),
        Frame(70 + column, 50, column, height - 180)])])
    story: list[object] = [Paragraph("Village News", ss["Title"]), FrameBreak()]
    for heading, text in NEWS.items():
        story += [Paragraph(heading, ss["Heading2"])] + [Paragraph(text, ss["BodyText"]) for _ in range(4)]
    doc.build(story)
    return path


def test_pdf_two_columns_are_read_one_after_the_other(tmp_path: Path, read: Read) -> None:
    """Lines were read across the page, so the columns interleaved ('St Spring fair Anne's church') and their
    side-by-side lines were even taken for table rows."""
    els = read(make_newsletter_pdf(tmp_path / "news.pdf")).elements
    assert not kinds(els, "table_row")
    assert [e.text for e in kinds(els, "heading")] == ["Village News", *NEWS]
    for heading, text in NEWS.items():
        assert [p.text for p in kinds(els, "paragraph") if p.headings[-1] == heading] == [text] * 4


def test_pdf_articles_side_by_side_above_and_below_a_band_across_the_page(tmp_path: Path, read: Read) -> None:
    """Two articles that open side by side share their first lines' tops, as a table's cells do; and a page
    can hold two such pairs of columns, parted by a line across the page. (A line too short to reach across
    the gutter is read as the left column's: not handled.)"""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import BaseDocTemplate, Frame, FrameBreak, PageTemplate, Paragraph

    ss, (width, height) = getSampleStyleSheet(), A4
    column = (width - 120) / 2
    doc = BaseDocTemplate(str(tmp_path / "parish.pdf"), pagesize=A4)
    doc.addPageTemplates([PageTemplate(frames=[
        Frame(50, height - 110, width - 100, 60), Frame(50, height / 2 + 40, column, height / 2 - 160),
        Frame(70 + column, height / 2 + 40, column, height / 2 - 160), Frame(50, height / 2 - 30, width - 100, 60),
        Frame(50, 50, column, height / 2 - 90), Frame(70 + column, 50, column, height / 2 - 90)])])
    body = "The committee meets on Tuesdays in the hall to plan the summer fair and the winter market for everyone. "
    story: list[object] = [Paragraph("Parish Magazine", ss["Title"]), FrameBreak()]
    for n, (heading, text) in enumerate(NEWS.items()):
        story += [Paragraph(heading, ss["Heading3"]), Paragraph(text + " " + body * 2, ss["BodyText"]), FrameBreak()]
        if n == 1:
            story += [Paragraph("Notices from the parish council for the spring months", ss["Heading2"]), FrameBreak()]
    story += [Paragraph("Bowls", ss["Heading3"]), Paragraph("The bowls club opens its green on 3 May. " + body * 2,
                                                             ss["BodyText"])]
    doc.build(story)
    els = read(tmp_path / "parish.pdf").elements
    assert not kinds(els, "table_row")
    assert [e.text for e in kinds(els, "heading")] == [
        "Parish Magazine", "Spring fair", "Choir", "Notices from the parish council for the spring months", "Library",
        "Bowls"]
    for heading, text in [*NEWS.items(), ("Bowls", "The bowls club opens its green on 3 May.")]:
        assert only(els, "paragraph", text).headings[-1] == heading


def test_pdf_unruled_table_with_a_wide_gutter_keeps_its_rows(tmp_path: Path, read: Read) -> None:
    """Its cells fill two columns with a clear gutter between them, but each row starts both cells together."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph, Table, TableStyle

    cell, ss = ParagraphStyle("cell", fontName="Helvetica", fontSize=9, leading=11), getSampleStyleSheet()
    pairs = [("The kettle does not switch on.", "Check that the base is plugged in and the kettle sits flat on it."),
             ("Water tastes of metal.", "Descale the kettle with one tablet and rinse it three times."),
             ("It switches off too early.", "Clean the steam sensor under the lid with a dry brush."),
             ("The lid does not open.", "Let the kettle cool for ten minutes before you try again.")]
    rows = [["Problem", "What to do"]] + [[f"{p} It happens most often when the kettle has stood unused for a long "
                                           "holiday, or was moved.", f"{a} If it happens again after that, call the "
                                           "service line on any weekday."] for p, a in pairs]
    table = Table([[Paragraph(c, cell) for c in r] for r in rows], colWidths=[230, 230], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 14),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 14), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    story = [Paragraph("Kettle Manual", ss["Title"]), Paragraph("Troubleshooting", ss["Heading2"]), table]
    els = read(make_story_pdf(tmp_path / "kettle.pdf", story)).elements
    assert [r.cells[0][1].split(".")[0] + "." for r in kinds(els, "table_row")] == [p for p, _ in pairs]


def test_a_wrapped_key_value_line_goes_on_in_plain_text(tmp_path: Path, read: Read) -> None:
    """A 'Key: value' line's value wrapped onto the next line was a paragraph of its own ('tions.')."""
    path = tmp_path / "api.txt"
    path.write_text("Parser manual\n\ninputFileName: the path of the file that holds the ASN.1 declara-\n"
                    "tions to read.\nReturns: zero on success.\n    Check it before you go on.\n", encoding="utf-8")
    els = read(path).elements
    assert [e.cells for e in kinds(els, "key_value")] == [
        (("inputFileName", "the path of the file that holds the ASN.1 declarations to read."),),
        (("Returns", "zero on success."),)]
    assert [e.text for e in kinds(els, "paragraph")] == ["Check it before you go on."]  # indented: not lost


def test_pdf_pdfplumber_cannot_open_is_read_as_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An interrupted download: pypdf salvages the pages (readers._salvage_truncated), pdfplumber gives up."""
    data = pdf_bytes([["Cleaning", "Rinse the carafe every day with warm water."],
                      ["- Wipe the hot plate when it is cold"]])
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: data.rfind(b"xref")])
    with caplog.at_level(logging.INFO, logger="core.documents.structure"):
        doc = read_structured(path)
    assert "reading it as lines" in caplog.text  # the fallback really ran
    assert doc.pages == 2
    assert only(doc.elements, "list_item", "hot plate").page == 2
    assert only(doc.elements, "paragraph", "carafe").headings == ("Cleaning",)


def test_corrupt_pdf_still_raises_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="corrupt PDF"):
        read_structured(make_corrupt_pdf(tmp_path / "broken.pdf"))


def test_unsupported_and_empty_files_raise_like_read_raw(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    with pytest.raises(DocumentError, match="empty"):
        read_structured(tmp_path / "empty.txt")
    with pytest.raises(DocumentError, match="unsupported"):
        read_structured(tmp_path / "sheet.xlsx")


@pytest.mark.parametrize("name,step", [("Handbook.DOC", "save it as .docx"), ("slides.pptx", "export the slides as PDF"),
                                       ("scan.jpg", "OCR it"), ("notes.xyz", "use .txt .md .pdf .docx .html")])
def test_a_file_people_often_have_is_told_the_step_that_makes_it_readable(tmp_path: Path, name: str, step: str) -> None:
    """'unsupported type .doc — use .txt .md .pdf .docx .html' left a person to find out how to get a .docx."""
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0 old format")
    with pytest.raises(DocumentError) as caught:
        read_structured(tmp_path / name)
    assert step in str(caught.value)


# ------------------------------------------------------------------ sentences


def test_split_sentences_knows_abbreviations_and_lower_case_starts() -> None:
    german = "Nehmen Sie z. B. frisches Wasser. Dr. Müller empfiehlt das. danach startet die Maschine."
    assert split_sentences(german, "de") == [
        "Nehmen Sie z. B. frisches Wasser.", "Dr. Müller empfiehlt das.", "danach startet die Maschine."]
    english = "Call Dr. Smith today. the office opens at 9 a.m. every day. “Bring your card,” he said."
    assert split_sentences(english, "xx") == [  # an unknown language is read as English
        "Call Dr. Smith today.", "the office opens at 9 a.m. every day.", "“Bring your card,” he said."]


def test_split_sentences_long_paragraph_is_split_whole() -> None:
    sentences = [f"Sentence number {i} talks about Dr. Smith and the machine." for i in range(400)]
    assert split_sentences(" ".join(sentences), "en") == sentences


def test_passages_open_with_their_heading_path_and_stay_within_budget() -> None:
    from core.documents.chunking import chunk_elements, estimate_tokens
    from core.documents.elements import Element

    long_heading = "A very long heading " * 20
    elements = [Element("heading", "Handbook", ("Handbook",)),
                *[Element("list_item", f"Item {i} says something about the rules of the house", ("Handbook", "Rules"))
                  for i in range(30)],
                Element("key_value", "Phone: 0161 555 0198", ("Handbook", long_heading), cells=(("Phone", "0161 555 0198"),))]
    chunks = chunk_elements(elements, estimate_tokens, chunk_tokens=80, overlap_tokens=10)
    assert len(chunks) > 2
    for chunk in chunks:
        assert estimate_tokens(chunk) <= 80, chunk
    rules = [c for c in chunks if "Item" in c]
    assert all(c.startswith("Handbook › Rules\n") for c in rules)  # every part of a long section says where it is
    assert "- Item 29 says" in chunks[-1] or "- Item 29 says" in chunks[-2]
    assert "Phone: 0161 555 0198" in chunks[-1] and long_heading.strip() not in chunks[-1]
