"""Questions from every kind of element, in the document's language, with the right short answer.

Real files are read through the real ingest (core/documents/structure.py), so a reader that
loses a table's headers or a bullet's heading fails here too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.dataset.language import lang_for
from core.dataset.heldout import split_heldout
from core.dataset.questions import document_facts
from core.dataset.spans import echo_question, find_spans, fronted
from core.documents import ingest

try:
    from tests.doc_fixtures import facts_of
except ImportError:  # tests/ on sys.path rather than the repo root
    from doc_fixtures import facts_of  # type: ignore[no-redef]

HANDBOOK_EN = """# Fernhill Tool Library

## Loan periods

| Item | Loan period | Deposit |
|------|-------------|---------|
| Cordless drill | 7 days | €20 |
| Ladder | 3 days | €35 |

## Contact

Phone: 0161 555 0198

## Volunteers' decisions

- Signage supplier — Corvell Prints
- Next stocktake — 9 November

## Questions

### Can I renew a loan online?

Yes. Renewals close at 6 pm on the day before the loan ends.

## About us

The library was founded in 2011 by Hanna Oyelaran.
"""

HANDBOOK_DE = """# Werkzeugbibliothek Talheim

## Leihfristen

| Gerät | Leihfrist | Pfand |
|-------|-----------|-------|
| Akkubohrer | 7 Tage | 20 € |
| Leiter | 3 Tage | 35 € |

## Kontakt

Telefon: 07131 555 0198

## Beschlüsse

- Schilderlieferant — Druckerei Vollmer
- Nächste Inventur — 9. November

## Fragen

### Kann ich eine Ausleihe online verlängern?

Ja. Verlängerungen schließen um 18:00 Uhr am Tag vor dem Ende der Leihfrist.

## Über uns

Die Bibliothek wurde 2011 von Hanna Oyelaran gegründet. Sie hat heute über 300 Mitglieder.
"""


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list, str]]:
    folder = tmp_path_factory.mktemp("docs")
    (folder / "library_en.md").write_text(HANDBOOK_EN, encoding="utf-8")
    (folder / "bibliothek_de.md").write_text(HANDBOOK_DE, encoding="utf-8")
    result = ingest([folder])
    languages = result.languages()
    out = {}
    for name in ("library_en.md", "bibliothek_de.md"):
        elements = [e for e in result.elements if e.source == name]
        out[name] = (elements, languages[name])
    return out


def _qa(facts) -> dict[str, tuple[str, list[str], str]]:
    return {q: (f.answer, f.keys, f.kind) for f in facts for q in f.questions}


def test_documents_get_their_language(documents) -> None:
    assert documents["library_en.md"][1] == "en"
    assert documents["bibliothek_de.md"][1] == "de"


def test_english_table_row_bullet_key_value_and_faq_become_questions(documents) -> None:
    facts, informative, covered = document_facts(*documents["library_en.md"])
    qa = _qa(facts)
    # A table cell: asked by its row and column, answered with both.
    answer, keys, kind = qa["What is the loan period for Ladder?"]
    # answered as the row reads: what it is about, then the value (the order the model read it in)
    assert (keys, kind) == (["3 days"], "table") and answer == "Ladder, loan period: 3 days (Loan periods)"
    # asked with the question word its value's type takes, and with the document's subject named
    assert qa["How long is the loan period for Ladder?"] == (answer, keys, kind)
    assert "How long is the loan period for Ladder of Fernhill Tool Library?" in qa
    assert qa["What is the deposit for Cordless drill?"][1] == ["€20"]
    # A bullet keeps its heading, and its label is what is asked about.
    answer, keys, kind = qa["What does Volunteers' decisions say about Signage supplier?"]
    assert kind == "list" and keys == ["Corvell Prints"]
    assert answer == "Signage supplier: Corvell Prints (Volunteers' decisions)"  # the item as it reads, then whose
    # A key-value line.
    answer, keys, kind = qa["What is the phone?"]
    assert kind == "key_value" and "0161 555 0198" in answer
    # An FAQ pair is trained as it stands, with its answer.
    answer, keys, kind = qa["Can I renew a loan online?"]
    assert kind == "faq" and answer.startswith("Yes. Renewals close at 6 pm")
    # Prose: a year and a name, asked in the echo order and (English) the order people ask in.
    year = [f for f in facts if f.keys == ["2011"]][0]
    assert year.kind == "prose" and any("in which year" in q for q in year.questions)
    # The report asks as people do: without the section that training questions lead with.
    assert year.eval_question == "In which year was the library founded by Hanna Oyelaran?"
    assert "About us: In which year was the library founded by Hanna Oyelaran?" in year.questions  # it names
    # the document's subject ('library'), so no question repeats it; a sentence that does not is led by it
    renew = [f for f in facts if f.keys == ["6 pm"] and f.answer.startswith("Renewals")][0]
    assert renew.questions[0] == "Fernhill Tool Library: Renewals close at what time on the day before the loan ends?"
    # Routing compares people's questions with the wording without it (a question naming it is routed by the name)
    assert renew.unled(renew.questions[0]) == "Renewals close at what time on the day before the loan ends?"
    assert covered == informative  # every informative element got questions


def test_german_document_gets_german_questions(documents) -> None:
    facts, informative, covered = document_facts(*documents["bibliothek_de.md"])
    qa = _qa(facts)
    answer, keys, kind = qa["Was ist leihfrist bei Leiter?".replace("leihfrist", "Leihfrist")]
    assert (keys, kind) == (["3 Tage"], "table")
    assert qa["Was sagt Beschlüsse zu Schilderlieferant?"][1] == ["Druckerei Vollmer"]
    assert qa["Was ist Telefon?"][2] == "key_value"
    assert qa["Kann ich eine Ausleihe online verlängern?"][2] == "faq"
    english = {"what", "which", "who", "when", "how", "tell"}
    for question in qa:  # no English question word inside a German question
        assert not english & {w.strip("?,.:").lower() for w in question.split()}, question
    # An FAQ answer's details are asked after the FAQ's own question, which says what they are about, and
    # after the document's subject, which neither names: people name it when they ask ('the tool library').
    assert ("Werkzeugbibliothek Talheim: Kann ich eine Ausleihe online verlängern? Verlängerungen schließen um wie "
            "viel Uhr am Tag vor dem Ende der Leihfrist?") in qa
    assert "Werkzeugbibliothek Talheim, Fragen: Kann ich eine Ausleihe online verlängern?" in qa
    # "Sie hat …" needs the sentence before it: the question carries it.
    members = [q for q, (_, keys, _) in qa.items() if keys and keys[0].startswith("300")]
    assert members and all(q.startswith("Die Bibliothek wurde 2011") for q in members)


def test_a_question_led_by_the_sentence_before_it_is_asked_as_it_stands(tmp_path) -> None:
    """A pronoun's sentence is asked after the sentence it points back to, not after the document's subject.
    Routing compares people's questions with training questions less the subject they lead with (Fact.unled):
    a context sentence that happens to begin with the subject's name must not be cut as if it were that lead."""
    (tmp_path / "bakery.md").write_text("# Harbor Lane Bakery\n\n## Hours\n\nHarbor Lane Bakery, founded in 1987, "
                                        "bakes sourdough every night. It opens at 07:00 on weekdays.\n", encoding="utf-8")
    result = ingest([tmp_path])
    facts, _, _ = document_facts(result.elements, result.languages()["bakery.md"])
    opens = [f for f in facts if f.keys == ["07:00"]][0]
    question = opens.questions[0]
    assert question.startswith("Harbor Lane Bakery, founded in 1987, bakes sourdough every night. It opens at what")
    assert opens.unled(question) == question


def _english_facts(folder: Path, name: str, text: str) -> list:
    """The facts of one English document written into `folder`."""
    (folder / name).write_text(text, encoding="utf-8")
    return document_facts(ingest([folder]).elements, "en")[0]


def test_steps_are_asked_by_their_lead_in_and_a_task_by_who_does_it(tmp_path) -> None:
    """How people ask: 'How do I …' names the lead-in the steps follow, and an action item is asked 'who will'."""
    facts = _english_facts(tmp_path, "notes.md",
        "# Harbour Choir\n\n## Hall\n\nTo book the hall:\n\n1. Ring the verger.\n2. Pay the deposit.\n\n"
        "## Action items\n\n- [ ] Priya: update the website\n- [x] Ann: renew the insurance\n")
    questions = {q: f.answer for f in facts for q in f.questions}
    assert questions["To book the hall: what do I do in step 1?"].startswith("Ring the verger.")
    assert questions["How do I book the hall?"] == "1. Ring the verger.\n2. Pay the deposit."
    assert questions["What is step 2 to book the hall?"].startswith("Pay the deposit.")
    assert not [q for q in questions if re.search(r"\w.* To book", q)]  # the lead-in is not pasted in mid-question
    assert questions["Who will update the website?"].startswith("Priya")
    assert not any("[" in q or "the priya" in q.lower() for q in questions), sorted(questions)


@pytest.mark.parametrize("text,labelled", [
    ("First Saturday of each month, 10:00–13:00", None),  # a clock's colon labels nothing
    ("Opening: 9:00–17:00", ("Opening", "9:00–17:00")),
    ("Priya — send the budget by Friday", ("Priya", "send the budget by Friday")),
])
def test_a_list_items_label_is_never_cut_at_a_clocks_colon(text: str, labelled: tuple[str, str] | None) -> None:
    from core.dataset.questions import split_label

    assert split_label(text) == labelled


@pytest.mark.parametrize("code,label,said", [
    ("en", "G3 Team leader", "team leader"),  # a code before a name is what people leave out
    ("en", "Early swim (lanes only)", "early swim"),
    ("de", "12. September", "12. September"),  # a day is no code: 'Veranstaltung für September' lost it
    ("en", "14 March", "14 March"),
])
def test_a_row_is_named_as_people_name_it_and_a_day_keeps_its_number(code: str, label: str, said: str) -> None:
    from core.dataset.questions import spoken_name

    assert spoken_name(label, lang_for(code)) == said


@pytest.mark.parametrize("title,subject", [
    ("WESTBURY TENNIS CLUB - WINTER NOTICE", "Westbury Tennis Club"),  # as people type it
    ("TSV HOHENMOOR 1908 E.V.", "TSV Hohenmoor 1908 E.V."),  # acronyms and abbreviations stay
    ("MÉDIATHÈQUE DU VIEUX-PORT", "Médiathèque du Vieux-Port"),  # small words, hyphenated parts
    ("Fernhill Tool Library — Members' Guide", "Fernhill Tool Library"),
])
def test_a_documents_subject_is_named_as_people_type_it(title: str, subject: str) -> None:
    from core.dataset.questions import subject_of

    assert subject_of(title) == subject


def test_a_schedule_is_asked_when_each_thing_on_it_happens(tmp_path) -> None:
    """People ask when the lantern walk is, not what is on 7 November. A thing on two rows is not asked: it would
    be taught two answers."""
    (tmp_path / "dates.md").write_text(
        "# Kita\n\n## Dates\n\n| Date | Event | Time |\n|---|---|---|\n| 12 September | Lantern making | 15:00 |\n"
        "| 7 November | Lantern walk | 17:30 |\n| 9 November | Lantern making | 10:00 |\n\n"
        "Children are collected by 16:30 and bring their own lanterns to every event.\n", encoding="utf-8")
    (tmp_path / "termine.md").write_text(
        "# Kita Sonnenblume\n\n## Termine\n\n| Datum | Veranstaltung |\n|---|---|\n| 7. November | Martinsumzug |\n"
        "| 12. Dezember | Weihnachtsfeier |\n\nDie Kinder werden bis 16:30 Uhr abgeholt und bringen Laternen mit.\n",
        encoding="utf-8")
    result = ingest([tmp_path])
    languages = result.languages()
    assert (languages["dates.md"], languages["termine.md"]) == ("en", "de")
    asked: dict[str, list] = {}
    for name in ("dates.md", "termine.md"):
        facts = document_facts([e for e in result.elements if e.source == name], languages[name])[0]
        for f in facts:
            for q in f.questions:
                asked.setdefault(q, []).append(f)
    walk, = asked["When is Lantern walk?"]
    assert walk.keys == ["7 November"] and walk.answer == "7 November, event: Lantern walk (Dates)"
    assert asked["Wann ist Martinsumzug?"][0].keys == ["7. November"]
    assert not [q for q in asked if "Lantern making" in q and q.startswith("When")], sorted(asked)


def test_a_schedules_closed_cell_is_no_event(tmp_path) -> None:
    """'Sábado | 10:00–13:00 | Cerrado': the timetable's word for no hours was asked as a thing on the day ('¿Cuándo
    es Cerrado?')."""
    asked = facts_of(tmp_path, "horario.md", "# Biblioteca\n\n## Horario\n\n| Día | Mañana | Tarde |\n|---|---|---|\n"
                     "| Lunes a viernes | 9:00–14:00 | 16:00–20:00 |\n| Sábado | 10:00–13:00 | Cerrado |\n\n"
                     "En agosto la biblioteca solo abre por las mañanas.\n")
    assert any(f.answer.startswith("Sábado, tarde: Cerrado") for f in asked.values()), sorted(asked)  # still taught
    assert not [q for q in asked if "Cerrado" in q], sorted(asked)


@pytest.mark.parametrize("name,text,asked,who", [
    ("minutes.md", "# PTA minutes\n\n## Summer fair\n\nThe fair is on the school field this year.\n\n"
     "Action: Tom Reid to book the bouncy castle by 1 May.\n", "Who will book the bouncy castle by 1 May?", "Tom Reid"),
    ("protokoll.md", "# Protokoll der Sitzung\n\n## Sommerfest\n\nDas Fest findet dieses Jahr auf dem Schulhof statt.\n\n"
     "Aufgabe: Jana Weber soll die Hüpfburg bis zum 1. Mai buchen.\n", "Wer soll die Hüpfburg bis zum 1. Mai buchen?",
     "Jana Weber"),
])
def test_a_task_given_to_a_person_in_minutes_is_asked_who_does_it(tmp_path, name: str, text: str, asked: str,
                                                                    who: str) -> None:
    """'Action: Tom Reid to book …' was only asked 'What is the action?'."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = ingest([tmp_path])
    facts = document_facts(result.elements, result.languages()[name])[0]
    task = [f for f in facts if asked in f.questions]
    assert task and task[0].keys == [who], sorted(q for f in facts for q in f.questions)


def test_a_table_cell_holding_only_a_dash_is_asked_nothing(tmp_path) -> None:
    """'3 October | closed (holiday) | —': the dash says the row has no time; it is no answer to teach."""
    facts = _english_facts(tmp_path, "dates.md",
        "# Kita\n\n## Dates\n\n| Date | Event | Time |\n|---|---|---|\n| 12 September | Lantern making | 15:00 |\n"
        "| 3 October | closed (holiday) | — |\n")
    answers = [f.answer for f in facts]
    assert any("3 October, event: closed (holiday)" in a for a in answers), answers
    assert any("12 September, time: 15:00" in a for a in answers), answers
    assert not [a for a in answers if "3 October, time" in a], answers


@pytest.mark.parametrize("name,text,number,before", [
    ("verein.md", "# Schachverein\n\n## Kontakt\n\nBitte melden Sie sich bei Gisela Brandt, Tel. 07531 448210, an. "
     "Wir freuen uns.\n", "07531 448210", "Gisela Brandt"),
    ("club.md", "# Bowls Club\n\n## Contact\n\nFor bookings call the office on ext. 2140 before noon. Thank you.\n",
     "2140", "the office"),
])
def test_a_number_after_its_abbreviation_stays_in_its_sentence(tmp_path, name: str, text: str, number: str,
                                                                before: str) -> None:
    """pysbd ended a sentence at 'Tel.': the phone number became a sentence of its own and was never asked."""
    facts = facts_of(tmp_path, name, text).values()
    assert [f for f in facts if f.keys and f.keys[0] == number and before in f.answer], \
        [(f.keys, f.answer) for f in facts]


@pytest.mark.parametrize("name,text,asked,answer", [
    ("club.md", "# Bowls Club\n\n## Opening times\n\nWeekdays: 10:00 to 20:00\n\nSaturday: 9:00 to 18:00\n\n"
     "Bank holidays: Closed\n", ["What are the opening times on weekdays?", "Opening times on Saturday?",
                                  "What are the opening times on bank holidays?"], ["10:00 to 20:00", "9:00", "Closed"]),
    ("horaires.md", "# Médiathèque\n\n## Horaires d'ouverture\n\nLundi : fermé\n\nMardi : 10 h – 18 h\n",
     ["Horaires d'ouverture le lundi ?", "Horaires d'ouverture : et le mardi ?"], ["fermé", "10 h – 18 h"]),
    # two days joined by the language's 'and' are one line's days too ('À quelle heure est « samedi et dimanche » ?')
    ("piscine.md", "# Piscine\n\n## Horaires\n\n- Lundi : fermé\n- Samedi et dimanche : 9 h – 18 h\n",
     ["Horaires le samedi et dimanche ?"], ["9 h – 18 h"]),
    ("pool.md", "# Pool\n\n## Opening times\n\n- Monday: closed\n- Saturday and Sunday: 9:00–18:00\n",
     ["What are the opening times on Saturday and Sunday?"], ["9:00–18:00"]),
])
def test_a_timetables_line_for_a_day_is_asked_about_that_day(tmp_path, name: str, text: str, asked: list[str],
                                                             answer: list[str]) -> None:
    """'Weekdays: 10:00 to 20:00' under 'Opening times' was asked 'What are the weekdays?', and 'Mardi : 10 h – 18 h'
    'À quelle heure est « mardi » ?': the key is the day the section's hours are for."""
    by_question = facts_of(tmp_path, name, text)
    for question, key in zip(asked, answer):
        assert question in by_question, sorted(by_question)
        assert by_question[question].keys[0].startswith(key), by_question[question]
    assert not [q for q in by_question if re.search(r"what are the weekdays|est « (?:mardi|samedi)|the saturday", q, re.I)], \
        sorted(by_question)


def test_a_german_role_key_asks_who_its_person_is(tmp_path) -> None:
    """Every German noun is capitalised, so 'Dr. Thomas Keller' at the start of a value was no name and
    'Vorsitzender: Dr. Thomas Keller' was asked 'Was ist Vorsitzender?'. A key that ends like a role decides."""
    asked = facts_of(tmp_path, "verein.md",
        "# Schachfreunde Lindau\n\n## Kontakt\n\nVorsitzender: Dr. Thomas Keller\n\n"
        "Trainerin: Jana Vogel, Tel. 0171 2233445\n\nMitbringen: Warme Kleidung\n\n"
        "Wir spielen jeden Donnerstag im Gemeindehaus und freuen uns über neue Mitglieder.\n")
    assert asked["Wer ist Vorsitzender?"].answer.startswith("Vorsitzender: Dr. Thomas Keller"), sorted(asked)
    assert asked["Wer ist Trainerin?"].answer.startswith("Trainerin: Jana Vogel"), sorted(asked)
    assert not [q for q in asked if q.startswith("Wer") and "Mitbringen" in q], sorted(asked)


@pytest.mark.parametrize("name,text,who,what", [
    ("concert.md", "# Elm Choir\n\n## Winter concert\n\nConductor: Marianne Oduya\n\nTickets: £12\n",
     ("Who is the conductor?", "Winter concert: who is the conductor?"), "What is the conductor?"),
    ("kita.md", "# Kita Sonnenblume\n\n## Laternenfest\n\nAnsprechpartnerin: Frau Meral Yildiz\n\nBeginn: 17:00 Uhr\n\n"
     "Wir treffen uns im Garten der Kita und freuen uns auf viele Familien.\n",
     ("Wer ist Ansprechpartnerin?", "Laternenfest: Wer ist Ansprechpartnerin?"), "Was ist Ansprechpartnerin?"),
    ("sortie.md", "# Club Les Crêtes\n\n## Sortie d'automne\n\nResponsable : Claire Mandon\n\nDistance : 14 km\n\n"
     "Les chaussures de randonnée sont obligatoires pour toute la sortie.\n",
     ("Qui est « responsable » ?", "Sortie d'automne : « responsable », c'est qui ?"), "« responsable », c'est quoi"),
    ("curso.md", "# Taller Barro Vivo\n\n## Curso de primavera\n\nProfesora: Inés Calvo\n\nPlazas: 8\n\n"
     "El material está incluido en el precio del curso de primavera.\n",
     ("¿Quién es «profesora»?", "Curso de primavera: ¿quién es «profesora»?"), "¿qué es «profesora»?"),
])
def test_a_key_value_line_naming_a_person_asks_who(tmp_path, name: str, text: str, who: tuple[str, str],
                                                    what: str) -> None:
    """'Conductor: Marianne Oduya' was asked 'What is the conductor?' beside 'Who is the conductor?': the key-value
    line's own wordings asked for a thing, in every language."""
    asked = facts_of(tmp_path, name, text)
    for question in who:
        assert question in asked, sorted(asked)
    person = asked[who[0]]
    assert asked[who[1]] is person  # both wordings ask the one fact
    assert re.search(r"Oduya|Yildiz|Mandon|Calvo", person.keys[0]), person
    assert not [q for q in asked if what in q], sorted(asked)


def test_a_german_ordinal_is_no_count(tmp_path) -> None:
    """'Der Beitrag wird jeweils zum 1. des Monats … eingezogen' was asked '… zum wie viele . des Monats …?'."""
    asked = facts_of(tmp_path, "beitrag.md", "# Sportverein\n\n## Beiträge\n\nDer Beitrag wird jeweils zum 1. des "
                     "Monats per Lastschrift eingezogen. Eine Kündigung ist zum Quartalsende möglich.\n")
    assert not [q for q in asked if "wie viel" in q], sorted(asked)
    assert any(q.endswith("Wird der Beitrag jeweils zum 1. des Monats per Lastschrift eingezogen?") for q in asked), \
        sorted(asked)


@pytest.mark.parametrize("sentence,value,question", [
    ("Die Bücherei öffnet am Mittwoch um 15 Uhr", "15 Uhr", "Um wie viel Uhr öffnet die Bücherei am Mittwoch?"),
    ("Die Bücherei öffnet am Mittwoch um 15 Uhr", "Mittwoch", "Wann öffnet die Bücherei um 15 Uhr?"),
    ("Ab 1. Mai leitet Jana Hoffmann den Lauftreff", "Jana Hoffmann", "Wer leitet ab 1. Mai den Lauftreff?"),
    ("Paul Roth gibt nach 20 Jahren sein Amt ab", "20 Jahren", "Nach wie vielen Jahren gibt Paul Roth sein Amt ab?"),
    ("Unser Chor ist auf 35 Stimmen gewachsen", "35 Stimmen", "Auf wie viele Stimmen ist unser Chor gewachsen?"),
    ("Eine Jahreskarte kostet 40 Euro, für Kinder nur 20 Euro", "40 Euro", "Wie viel kostet eine Jahreskarte?"),
    ("Der Verein hat 240 Mitglieder und sucht neue Trainer", "240 Mitglieder", "Wie viele Mitglieder hat der Verein?"),
    # the value opens the sentence: the echo asks it first already
    ("Nach 20 Jahren gibt Paul Roth sein Amt ab", "20 Jahren", ""),
    # wer, wen or wem: 'Den Lauftreff' may be the object or the subject, so the case is unknown
    ("Den Lauftreff leitet Jana Hoffmann", "Jana Hoffmann", ""),
    ("Eine Jahreskarte kostet 40 Euro, für Kinder nur 20 Euro", "20 Euro", ""),  # a clause of its own
    ("Wenn es regnet, beginnt das Training um 18 Uhr", "18 Uhr", ""),  # a subordinate clause opens it
    ("Am Montag spricht der Vorstand mit Jana Hoffmann", "Jana Hoffmann", "Mit wem spricht am Montag der Vorstand?"),
    ("Neuer Kassenwart (Paul Roth gibt nach 20 Jahren ab)", "20 Jahren", ""),  # the verb is the bracket's
])
def test_a_german_question_puts_its_question_word_first_and_the_verb_second(sentence: str, value: str,
                                                                            question: str) -> None:
    """German asks 'Um wie viel Uhr öffnet die Bücherei?', not 'Die Bücherei öffnet um wie viel Uhr?' (an echo,
    said only in surprise). The report asks people's order, so it asks it where the sentence's clause allows."""
    from core.dataset.verb_second import verb_second

    de = lang_for("de")
    span = next(s for s in find_spans(sentence, de) if s.text == value)
    assert verb_second(sentence, span, de) == question
    assert verb_second(sentence, span, lang_for("en")) == ""


@pytest.mark.parametrize("lang,sentence,value,question", [
    # the Vorfeld is an adverbial, so the person after the verb is the subject: 'wer', never 'was'
    ("de", "Ab Montag, 3. März, leitet Jana Hoffmann den Lauftreff", "Jana Hoffmann",
     "Ab Montag, 3. März, leitet wer den Lauftreff?"),
    ("de", "Ab Montag, 3. März, leitet Jana Hoffmann den Lauftreff", "Montag, 3. März",
     "Ab wann leitet Jana Hoffmann den Lauftreff?"),  # the date's closing comma goes with it
    ("de", "Paul Roth gibt nach 20 Jahren sein Amt ab", "20 Jahren",
     "Paul Roth gibt nach wie vielen Jahren sein Amt ab?"),
    ("de", "Neuer Kassenwart (Paul Roth gibt sein Amt ab)", "Paul Roth", "Neuer Kassenwart (wer gibt sein Amt ab)?"),
    ("en", "Changes to the rota (Jana Hoffmann takes over the stall)", "Jana Hoffmann",
     "Changes to the rota (who takes over the stall)?"),
])
def test_an_echo_asks_a_person_and_a_count_in_the_case_the_sentence_shows(lang: str, sentence: str, value: str,
                                                                         question: str) -> None:
    """The echo is a training wording: 'Ab Dienstag bietet was einen Kurs an?' asked a person as a thing, 'nach wie
    viele Jahren' broke the case a preposition demands, 'Ab wann, bietet' kept the comma that closed the date."""
    from core.dataset.spans import echo_question
    from core.dataset.verb_second import is_subject

    language = lang_for(lang)
    span = next(s for s in find_spans(sentence, language) if s.text == value)
    assert echo_question(sentence, span, language, subject=is_subject(sentence, span, language)) == question


@pytest.mark.parametrize("lang,sentence,value,question", [
    ("en", "Rehearsals are on Tuesday and Thursday evenings in the school hall", "Tuesday and Thursday evenings",
     "Rehearsals are when in the school hall?"),
    ("en", "Swimming lessons start at 10:00 and 14:00", "10:00 and 14:00", "Swimming lessons start at what time?"),
    ("en", "The ticket office is open 9:00–17:00 on weekdays", "9:00–17:00",
     "The ticket office is open when on weekdays?"),
    ("de", "Die Bücherei ist Di und Do 15–18 Uhr offen", "Di und Do", "Die Bücherei ist wann 15–18 Uhr offen?"),
    ("de", "Die Bücherei ist Di und Do 15–18 Uhr offen", "15–18 Uhr", "Die Bücherei ist Di und Do wann offen?"),
])
def test_days_or_times_joined_by_and_are_one_value(lang: str, sentence: str, value: str, question: str) -> None:
    """'Rehearsals are on Tuesday and when in the school hall?' asked half a value with the other half in the
    question; a range of hours is asked 'when' ('wie viel Uhr geöffnet' is no German)."""
    from core.dataset.spans import echo_question

    language = lang_for(lang)
    span = next(s for s in find_spans(sentence, language) if s.text == value)
    assert echo_question(sentence, span, language) == question


@pytest.mark.parametrize("sentence,name", [
    ("Call Reception on 0117 496 0311 to book", "Reception"),
    ("Ask Tom Baker about the lockers", "Tom Baker"),
    ("Rose Miller runs the bar on Fridays", "Rose Miller"),  # a first name, no verb
    ("Harbour Office opens at 9:00", "Harbour Office"),  # a common noun that is part of the name
])
def test_an_imperative_opening_an_english_sentence_is_no_part_of_a_name(sentence: str, name: str) -> None:
    """'Call Reception on 0117 496 0311 to book.' took 'Call Reception' for a person and asked 'Who on 0117 496
    0311 to book?': the first word's capital says only that it opens the sentence, so the tagger says what it is."""
    names = [s.text for s in find_spans(sentence, lang_for("en")) if s.kind == "name"]
    assert names == [name]


def test_a_german_fact_is_reported_in_the_order_people_ask(tmp_path) -> None:
    """The report's wording for a German sentence's value is the verb-second question, never taught."""
    doc = tmp_path / "chor.md"
    doc.write_text("# Liederkranz Eichwalde\n\n## Proben\n\nDie Chorprobe beginnt jeden Donnerstag um 19:30 Uhr. "
                   "Seit dem Herbst leitet Miriam Adler den Kinderchor. Unser Chor ist auf 35 Stimmen gewachsen.\n",
                   encoding="utf-8")
    result = ingest([doc])
    assert result.languages()["chor.md"] == "de"
    facts = document_facts(result.elements, "de")[0]
    asked = {f.eval_question for f in facts}
    assert {"Um wie viel Uhr beginnt die Chorprobe jeden Donnerstag?", "Wer leitet seit dem Herbst den Kinderchor?",
            "Auf wie viele Stimmen ist unser Chor gewachsen?"} <= asked, sorted(asked)
    held = split_heldout(facts, 1)
    assert held and all(f.eval_question not in q for f in held for q in f.questions)


def test_a_key_or_header_that_names_its_values_type_asks_no_tautology(tmp_path) -> None:
    """'Date: Saturday 13 December' was asked 'When is the date?', a 'Times' column 'What time are the times for
    Early swim?': a typed question about a noun that only names the type asks nothing. The key is asked plainly,
    the row by its own name."""
    asked = facts_of(tmp_path, "ferry.md", "# Kestrel Ferries\n\n## Winter crossing\n\n- Date: Saturday 13 December\n"
                     "- Time: 19:00\n\n## Sailings\n\n| Sailing | Days | Times |\n|---|---|---|\n"
                     "| Dawn run | Monday–Friday | 06:15–07:00 |\n| Island loop | Sunday | 10:00–16:00 |\n")
    assert "Winter crossing: what is the date?" in asked and "What is the time?" in asked, sorted(asked)
    assert "What time is Dawn run?" in asked and "When is Island loop?" in asked, sorted(asked)
    assert not [q for q in asked if re.search(r"(?i)when (is|are) the (date|days)|what time (is|are) the time", q)], \
        sorted(asked)
    (tmp_path / "de").mkdir()
    de = facts_of(tmp_path / "de", "faehre.md",
                  "# Kestrel Fähren\n\n## Winterfahrt\n\nDatum: Samstag, 13. Dezember\n\nUhrzeit: 19:00 Uhr\n")
    assert not [q for q in de if q.startswith(("Wann ist Datum", "Um wie viel Uhr ist Uhrzeit"))], sorted(de)


def test_a_value_is_typed_by_a_span_that_opens_it_only(tmp_path) -> None:
    """'Includes: Stand and tools for 2 hours' was asked 'How long are the includes for Single visit?': its type
    came from a span deep inside it. A few words may lead the span ('up to 13 hours'); more say it is a detail."""
    asked = facts_of(tmp_path, "plans.md",
        "# Cycle workshop\n\n## Membership\n\n| Plan | Loan | Includes |\n|---|---|---|\n"
        "| Single visit | up to 3 hours | Stand and tools for 2 hours |\n| Monthly | up to 8 hours | Unlimited visits |\n")
    assert "How long is the loan for Single visit?" in asked, sorted(asked)
    assert not [q for q in asked if q.startswith("How long") and "includes" in q], sorted(asked)


def test_german_nouns_joined_by_an_article_or_a_pronoun_are_no_name(tmp_path) -> None:
    """Every German noun is capitalised, so a run of them was taken for a name and asked 'what': 'Wir treffen uns
    um 17:00 Uhr im was?' ('im Garten der Kita'), and a letter's closing 'Mit freundlichen was?' ('Grüßen Ihr
    Kita-Team'). A name holds no article inside it and no pronoun; 'Gisela Brandt' is still one."""
    asked = facts_of(tmp_path, "elternbrief.txt",
        "Kita Sonnenblume – Elternbrief\n\nAm Freitag, 21. November, findet unser Laternenfest statt. Wir treffen uns "
        "um 17:00 Uhr im Garten der Kita.\n\nKuchenspenden nimmt Gisela Brandt gern entgegen.\n\n"
        "Mit freundlichen Grüßen Ihr Kita-Team\n")
    assert not [q for q in asked if re.search(r"\b(?:im|freundlichen) was\b", q)], sorted(asked)
    assert [q for q in asked if "um wie viel Uhr" in q], sorted(asked)  # the time is still asked
    assert any(f.keys and f.keys[0] == "Gisela Brandt" for f in asked.values()), sorted(asked)


@pytest.mark.parametrize("name,text,present,absent", [
    ("minutes.md", "# Oakfield PTA\n\n## Minutes, 3 March\n\nPresent: Sarah Lowe (chair), Tom Reid, Aisha Khan\n\n"
     "Apologies: Ben Carter\n\nThe fair will be held on 20 June.\n", "Who was present?", "Who sent apologies?"),
    ("protokoll.md", "# Schachverein\n\n## Protokoll vom 3. März\n\nAnwesend: Jana Vogel, Peter Brandt, Ilse Kühn\n\n"
     "Entschuldigt: Karl Meier\n\nDas Turnier findet am 20. Juni statt.\n", "Wer war anwesend?", "Wer war entschuldigt?"),
    # two names joined by the language's own 'and' (Lang.conjunction): the first is the key, not both
    ("acta.md", "# Club Náutico\n\n## Acta del 3 de marzo\n\nAsistentes: Lucía Ferrer y Carmen Ruiz\n\n"
     "Ausentes: Pablo Gil y Rosa Vidal\n\nLa regata será el 20 de junio.\n", "¿Quién asistió?", "¿Quién se excusó?"),
])
def test_a_meetings_attendance_lines_ask_who_was_there(tmp_path, name: str, text: str, present: str,
                                                       absent: str) -> None:
    """'Present: Sarah Lowe, Tom Reid' was asked 'Who is the present?' and 'Apologies: Ben Carter' 'What are the
    apologies?': the key names no role, it says the names were there, or not."""
    asked = facts_of(tmp_path, name, text)
    assert present in asked and absent in asked, sorted(asked)
    assert asked[present].keys[0] in ("Sarah Lowe", "Jana Vogel", "Lucía Ferrer"), asked[present]
    assert asked[absent].keys[0] in ("Ben Carter", "Karl Meier", "Pablo Gil"), asked[absent]
    assert asked[present].eval_question not in asked  # the report asks in words training never used
    assert not [q for q in asked if re.search(r"\b(?:the present|apologies of|ist anwesend|ist entschuldigt)\b", q,
                                              re.I)], sorted(asked)


def test_a_place_or_a_thing_is_not_asked_who(tmp_path) -> None:
    """'Who is the venue?' for 'Venue: St Brides Church', and 'Who will open …' for a hall, were asked of names
    shaped like a person's. A place or organisation's own words, or a noun after the name, say it is none."""
    facts = _english_facts(tmp_path, "choir.md",
        "# Harbour Choir\n\n## Summer concert\n\nVenue: St Brides Church\n\nConductor: Helen Marsh\n\n"
        "Parking: Mill Lane car park\n\nTreffpunkt: Sporthalle Nord\n\nClub secretary: Margaret Olsen\n\n"
        "Meeting place: Ann Hall\n\n"
        "| Month | Venue | Host |\n|---|---|---|\n| April | St Jude's Hall | Dev Patel |\n| May | Oak Hall | Ann Price |\n\n"
        "## Rooms\n\n- Community Centre — open the doors at 18:00\n"
        "- Ann Fielding — bring the music stands\n- Tom Okafor: prints the programmes\n")
    questions = {q: f.answer for f in facts for q in f.questions}
    assert any(q.startswith("Who is the conductor") for q in questions), sorted(questions)
    # a key is the kind of thing its head noun is: a club's secretary is a person, a meeting place a place
    assert any(q.startswith("Who is the club secretary") for q in questions), sorted(questions)
    assert questions["Who will bring the music stands?"].startswith("Ann Fielding")  # a person's task: who
    # 'Name: a note' is a note for a person, not a thing their name is ('What is the tom Okafor?')
    assert questions["What does Rooms say about Tom Okafor?"].startswith("Tom Okafor: prints the programmes")
    assert not [q for q in questions if re.search(r"the tom okafor", q, re.I)], sorted(questions)
    asked_who = [q for q in questions if q.lower().startswith("who") or ": who" in q.lower()]
    assert not [q for q in asked_who if re.search(r"venue|parking|treffpunkt|doors|meeting place", q, re.I)], asked_who
    assert {"Who is the host for April?", "Who is the host for May?"} <= set(questions)  # a column of people


@pytest.mark.parametrize("name,text,asked", [
    ("de.md", "# Chor\n\n## Kasse\n\nUm einen Zuschuss zu beantragen:\n\n1. Formular ausfüllen.\n2. Abgeben.\n",
     ["Was muss ich tun, um einen Zuschuss zu beantragen?", "Was ist Schritt 1, um einen Zuschuss zu beantragen?"]),
    ("de.md", "# Chor\n\n## Saal\n\nSo buchen Sie den Saal:\n\n1. Rufen Sie den Küster an.\n2. Zahlen Sie.\n",
     ["Wie buchen Sie den Saal?"]),
    ("fr.md", "# Chorale\n\n## Salle\n\nPour réserver la salle :\n\n1. Appelez le sacristain.\n2. Payez.\n",
     ["Comment réserver la salle ?", "Quelle est l'étape 1 pour réserver la salle ?"]),
    ("es.md", "# Coro\n\n## Sala\n\nPara reservar la sala:\n\n1. Llame al sacristán.\n2. Pague la fianza.\n",
     ["¿Qué hay que hacer para reservar la sala?", "¿Cuál es el paso 2 para reservar la sala?"]),
])
def test_steps_are_asked_by_what_their_lead_in_says_they_are_for(tmp_path, name: str, text: str,
                                                                   asked: list[str]) -> None:
    """'To book the hall:' / 'Pour réserver la salle :' is asked 'How do I book the hall?' in each language."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = ingest([tmp_path])
    facts, _, _ = document_facts(result.elements, result.languages()[name])
    questions = {q for f in facts for q in f.questions}
    assert set(asked) <= questions, sorted(questions)


@pytest.mark.parametrize("code,sentence,days", [
    ("en", "Members who do not pay are so late they sat down in the sun", []),
    ("en", "Do not leave bags in the hall after 6 pm", []),
    ("fr", "Sa directrice est Carmen Ibáñez depuis 2019", []),
    ("de", "So haben wir so viel Spaß gehabt", []),
    ("en", "The desk is open Sat 10:00 to 14:00 and on Mon, Wed, Fri", ["Sat", "Mon, Wed, Fri"]),
    ("de", "Geöffnet Mo–Fr 9–17 Uhr, Sa 10–12 Uhr", ["Mo–Fr", "Sa"]),
    ("de", "Sa, 12. April: Flohmarkt", ["Sa, 12. April"]),
    ("en", "Closed on Sunday and open Monday to Friday", ["Sunday", "Monday to Friday"]),
])
def test_short_day_names_are_days_only_where_a_timetable_writes_them(code: str, sentence: str, days: list[str]) -> None:
    """'do', 'so', 'sat', 'sun' and French 'sa' are words: taken for days, they made 'When not leave bags …?'."""
    assert [s.text for s in find_spans(sentence, lang_for(code)) if s.kind == "date"] == days



@pytest.mark.parametrize("code,sentence,times", [
    ("fr", "Le bureau ouvre de 9 h à 13 h et le trajet dure 2 h", ["9 h à 13 h"]),
    ("fr", "Rendez-vous à 9h30, départ à 13 h 45", ["9h30", "13 h 45"]),
    ("es", "La oficina abre de 9:00 a 13:00", ["9:00 a 13:00"]),
    ("de", "Das Büro ist von 9 bis 13 Uhr geöffnet", ["9 bis 13 Uhr"]),
    ("en", "The pool is open 24 h a day", []),
    # an hour after a word for 'at' is a time ('à combien de h' was asked), one after 'dure' still a duration
    ("fr", "L'assemblée aura lieu le 28 novembre à 20 h, rendez-vous vers 7 h ; la sortie dure 3 h", ["20 h", "7 h"]),
    # a number with a thousands point, or an amount with cents, opens no time ('es de qué hora 0 euros?' was asked)
    ("es", "El presupuesto es de 3.500 euros y la entrada cuesta 12.50 euros", []),
    ("de", "Der Kassenstand beträgt 1.234 Euro, Beginn um 19.30 Uhr", ["19.30 Uhr"]),
])
def test_clock_times_as_each_language_writes_them(code: str, sentence: str, times: list[str]) -> None:
    """French '9 h', '13 h 45' and ranges of hours were numbers ('de combien de h à 13 h ?'), Spanish '9:00 a
    13:00' two times, German '9 bis 13 Uhr' a count ('von wie viele bis 13 Uhr'); an hour alone stays a duration."""
    assert [s.text for s in find_spans(sentence, lang_for(code)) if s.kind == "time"] == times


@pytest.mark.parametrize("code,sentence,names", [
    ("en", "Spills of acid are reported to Dr. Helen Okafor", ["Dr. Helen Okafor"]),
    ("de", "Das Protokoll führt Dr. Anna Weiß", ["Dr. Anna Weiß"]),
    ("fr", "Le cours est donné par M. Paul Girard", ["M. Paul Girard"]),
    ("en", "The fair is at St. Anne's Hall on 3 May", ["St. Anne's Hall"]),
])
def test_a_name_keeps_the_abbreviation_before_it(code: str, sentence: str, names: list[str]) -> None:
    """The run stopped at the abbreviation's full stop: 'Spills of acid are reported to what . Helen Okafor?' and
    '… reported to Dr. what?' were taught, and German 'Dr. Anna Weiß' was no name at all."""
    assert [s.text for s in find_spans(sentence, lang_for(code)) if s.kind == "name"] == names


@pytest.mark.parametrize("sentence,spans", [
    ("The Silver Heron is moored at Pier 4", [("name", "Silver Heron"), ("number", "4")]),
    ("The handbook is Version 4.2", [("number", "4.2")]),
    ("The hall is rented to Priya Raman 3 times a year", [("name", "Priya Raman"), ("number", "3 times")]),
])
def test_a_label_and_its_number_are_asked_once_as_a_number(sentence: str, spans: list[tuple[str, str]]) -> None:
    """'Pier 4' was a name and a number: 'moored at what 4?' and, fronted, 'How many is the Silver Heron moored at
    Pier?'. A count after a name ('3 times') is no label."""
    lang = lang_for("en")
    found = find_spans(sentence, lang)
    assert [(s.kind, s.text) for s in found] == spans
    for span in found:
        if span.kind == "number" and span.text[-1].isdigit():
            assert fronted(sentence, span, lang) == ""


def test_french_template_questions_elide_de_before_a_name_or_word_that_opens_with_a_vowel(tmp_path) -> None:
    """'Parle-moi de Hélène' and 'combien de ans' are not French; the documents' own words are left as written."""
    (tmp_path / "club.md").write_text(
        "# Club de voile des Sables-Verts\n\n## Présentation\n\nHélène Marchand a fondé le club en 1974. "
        "Hélène Marchand a dirigé le club pendant 22 ans.\n\n## Équipe\n\n- Adjoint : Octave Leroux\n"
        "- Trésorière : Inès Morel\n", encoding="utf-8")
    result = ingest([tmp_path])
    assert result.languages()["club.md"] == "fr"
    facts, _, _ = document_facts(result.elements, "fr")
    questions = [q for f in facts for q in f.questions] + [f.eval_question for f in facts if f.eval_question]
    assert "Parle-moi d'Hélène Marchand." in questions
    assert any("combien d'ans" in q for q in questions)
    assert not [q for q in questions if re.search(r"\bde (?:[aeiouyàâéèêîô]|h[éeô])", q, re.I)]


@pytest.mark.parametrize("code,sentence,span,expected", [
    ("en", "The workshop opens at 9:30 on Saturdays", "9:30", "The workshop opens at what time on Saturdays?"),
    ("de", "Die Werkstatt öffnet um 9:30 Uhr am Samstag", "9:30 Uhr", "Die Werkstatt öffnet um wie viel Uhr am Samstag?"),
    ("fr", "L'atelier ouvre à 9:30 le samedi", "9:30", "L'atelier ouvre à quelle heure le samedi ?"),
    ("es", "El taller abre a las 9:30 los sábados", "9:30", "¿El taller abre a qué hora los sábados?"),
    ("fr", "Le car part à 7 h 45 devant la mairie", "7 h 45", "Le car part à quelle heure devant la mairie ?"),
    ("es", "El taller cierra a las 14:00 los lunes", "lunes", "¿El taller cierra a las 14:00 cuándo?"),
    ("en", "The deposit is €35 per ladder", "€35", "The deposit is how much per ladder?"),
    ("en", "Mileage is refunded at 45p per mile", "45p", "Mileage is refunded at how much per mile?"),
    ("en", "There are 48 places left on the course", "48 places", "There are how many places left on the course?"),
    ("fr", "La caution est de 35 € par échelle", "35 €", "La caution est de combien par échelle ?"),
    # counts written as words, in each language, and what they count
    ("en", "Eleven plot holders have not paid", "Eleven plot", "How many plot holders have not paid?"),
    ("en", "Two of the members left", "Two", "How many of the members left?"),
    ("de", "Der Kurs umfasst zehn Termine", "zehn Termine", "Der Kurs umfasst wie viele Termine?"),
    ("de", "Elf Mitglieder fehlen", "Elf Mitglieder", "Wie viele Mitglieder fehlen?"),
    ("fr", "Le cours dure dix semaines", "dix semaines", "Le cours dure combien de semaines ?"),
    # French elides 'de' before a vowel sound, and not before an aspirated h
    ("fr", "Elle a dirigé le club pendant 22 ans", "22 ans", "Elle a dirigé le club pendant combien d'ans ?"),
    ("fr", "Le port loue 6 hangars aux pêcheurs", "6 hangars", "Le port loue combien de hangars aux pêcheurs ?"),
    ("es", "El club tiene doce socios", "doce socios", "¿El club tiene cuántos socios?"),
    ("en", "Leave is 10 – 12 weeks for drivers", "10 – 12 weeks", "Leave is how many weeks for drivers?"),
    # a date that opens the sentence takes its comma with it; 'vom … bis …' is asked 'wann'
    ("de", "Am Samstag, 12. April, findet der Markt statt", "Samstag, 12. April", "Wann findet der Markt statt?"),
    ("de", "In den Ferien vom 14. bis 25. April bleibt die Halle zu", "14. bis 25. April",
     "In den Ferien wann bleibt die Halle zu?"),
    # a person's name after a copula is asked 'who'; a two-word name elsewhere is as often a thing or a place
    ("en", "Our director is Helen Marsh since 2019", "Helen Marsh", "Our director is who since 2019?"),
    ("es", "Su directora es Ana Ruiz desde 2019", "Ana Ruiz", "¿Su directora es quién desde 2019?"),
    ("de", "Unser Kassierer ist Jonas Albrecht seit 2019", "Jonas Albrecht", "Unser Kassierer ist wer seit 2019?"),
    ("en", "Every autumn the club holds the Lantern Harvest in Wickerby", "Lantern Harvest",
     "Every autumn the club holds what in Wickerby?"),
    ("en", "The concert is St Brides Church this year", "St Brides Church", "The concert is what this year?"),
    # a name between commas after the words it names: who those words are
    ("en", "Our secretary, Dorothy Penhale, keeps the waiting list", "Dorothy Penhale", "Who is our secretary?"),
    ("fr", "Notre trésorière, Anne Morel, tient les comptes", "Anne Morel", "Qui est notre trésorière ?"),
    ("de", "Unser Kassierer, Jonas Albrecht, führt die Kasse", "Jonas Albrecht", "Wer ist unser Kassierer?"),
    # a number with no unit after a capitalised word, or with a decimal point, names something: not 'how many'
    ("es", "Nuestra nave está en la calle del Molino 14", "14", "¿Nuestra nave está en la calle del Molino qué número?"),
    ("en", "Meet in Room 4 at noon", "4", "Meet in Room what number at noon?"),
    ("en", "The hall seats 120", "120", "The hall seats how many?"),
    # a range's opening word goes with the range: 'from when' asks for its start alone
    ("en", "The pool is closed from 2 to 9 June", "2 to 9 June", "The pool is closed when?"),
    ("en", "The office is open from 9:00 to 13:00 on weekdays", "9:00 to 13:00", "The office is open when on weekdays?"),
    ("de", "Der Markt findet von 9 bis 13 Uhr statt", "9 bis 13 Uhr", "Der Markt findet wann statt?"),
    ("fr", "Le bureau est fermé du 2 au 9 juin", "2 au 9 juin", "Le bureau est fermé quand ?"),
    ("es", "Abre de lunes a viernes", "lunes a viernes", "¿Abre cuándo?"),
    # a month named alone is a date where a preposition leads it; 'every' goes with the day or month it leads
    ("en", "Bonfires are banned on all plots from April to September", "April to September",
     "Bonfires are banned on all plots when?"),
    ("de", "Die Halle ist im März geschlossen", "März", "Die Halle ist wann geschlossen?"),
    ("es", "La piscina cierra de julio a agosto", "julio a agosto", "¿La piscina cierra cuándo?"),
    ("en", "Drivers' rotas are published every Wednesday", "Wednesday", "Drivers' rotas are published when?"),
    ("de", "Wir spielen jeden Donnerstag im Gemeindehaus", "Donnerstag", "Wir spielen wann im Gemeindehaus?"),
    ("fr", "Le club se réunit chaque mardi au local", "mardi", "Le club se réunit quand au local ?"),
    # Spanish writes 'de' between a day and its month: '6 de junio' is one date, not the number 6
    ("es", "La fiesta será el sábado 6 de junio en la plaza", "sábado 6 de junio", "¿La fiesta será cuándo en la plaza?"),
    ("es", "La piscina cierra del 2 al 9 de agosto", "2 al 9 de agosto", "¿La piscina cierra cuándo?"),
    # one day written in numbers is no range, and 'from' before it is still asked as it stands
    ("en", "The lease runs from 2025-06-01", "2025-06-01", "The lease runs from when?"),
    # a person who does something is asked 'who', as after a copula ('what will update the website?' was taught)
    ("en", "Carmen Ruiz will update the website", "Carmen Ruiz", "Who will update the website?"),
    ("es", "Carmen Ruiz se encargará de la web", "Carmen Ruiz", "¿Quién se encargará de la web?"),
    ("fr", "Carmen Ruiz gère le site", "Carmen Ruiz", "Qui gère le site ?"),
    # and after a preposition, with the preposition's own phrase ('reported to what?' was taught)
    ("en", "Spills of acid are reported to Dr. Helen Okafor", "Dr. Helen Okafor", "Spills of acid are reported to whom?"),
    ("fr", "Adressez-vous à Mme Nadia Brunet", "Mme Nadia Brunet", "Adressez-vous à qui ?"),
    ("es", "Las llaves se piden a Lucía Ferrer", "Lucía Ferrer", "¿Las llaves se piden a quién?"),
    ("de", "Die Schlüssel gibt es bei Frau Anna Weiß", "Frau Anna Weiß", "Die Schlüssel gibt es bei wem?"),
    ("en", "The cups go to Harbour Hall", "Harbour Hall", "The cups go to what?"),  # a place is no person
    # the article goes with the name it leads ('The what is moored', 'beside the what' were taught)
    ("en", "The Silver Heron is moored at Pier 4", "Silver Heron", "What is moored at Pier 4?"),
    ("en", "Boats are moored beside the Silver Heron", "Silver Heron", "Boats are moored beside what?"),
    ("en", "The RESET button restarts the unit", "RESET", "What button restarts the unit?"),
    ("es", "Los DVD se prestan una semana", "DVD", "¿Qué se prestan una semana?"),
    ("fr", "Les DVD sont prêtés pour une semaine", "DVD", ""),  # French has no rule for it: asked yes or no
    ("en", "The BM-220 carries a 2-year warranty", "BM-220", "Which code carries a 2-year warranty?"),
    # a person named between commas inside a sentence: who the words before the name are, never a clause
    ("en", "If you fall behind, the finance officer, Grace Adeyemi, will call you", "Grace Adeyemi",
     "Who is the finance officer?"),
    ("en", "When you arrive, Grace Adeyemi, our finance officer, will meet you", "Grace Adeyemi",
     "Who is our finance officer?"),
    # a day in the plural is every one of it, asked 'when' ('on what' was taught for 'on Saturdays')
    ("en", "The shop opens on Saturdays from 10:00", "Saturdays", "The shop opens when from 10:00?"),
    ("fr", "La piscine est fermée les lundis", "lundis", "La piscine est fermée quand ?"),
    ("es", "La tienda abre los sábados por la mañana", "sábados", "¿La tienda abre cuándo por la mañana?"),
    ("de", "Die Halle ist montags geschlossen", "montags", "Die Halle ist wann geschlossen?"),
    # a sentence may open with the noun, bare or after a possessive
    ("en", "Its botanist, Ida Crane, described 140 species", "Ida Crane", "Who is its botanist?"),
    ("en", "Treasurer, Mark Lee, said the accounts are fine", "Mark Lee", "Who is treasurer?"),
    # a name that ends the sentence after the words that say who they are ('escriba a la directora, qué?' was taught)
    ("es", "Para cualquier consulta, escriba a la directora, Rosa Ferrándiz", "Rosa Ferrándiz",
     "¿Quién es la directora?"),
    ("en", "Send your form to the treasurer, Mark Lee", "Mark Lee", "Who is the treasurer?"),
    ("de", "Fragen Sie die Kassenwartin, Ilse Kühn", "Ilse Kühn", "Wer ist die Kassenwartin?"),
    # which day of the month, and the part of the day, go with the day ('the last when of each month' was taught)
    ("en", "The committee meets on the last Thursday of each month", "the last Thursday of each month",
     "The committee meets when?"),
    ("fr", "Les encombrants sont enlevés le premier jeudi du mois", "le premier jeudi du mois",
     "Les encombrants sont enlevés quand ?"),
    ("fr", "Les poubelles sont sorties le lundi soir par le gardien", "lundi soir",
     "Les poubelles sont sorties quand par le gardien ?"),
    ("de", "Der Stammtisch trifft sich am ersten Freitag im Monat", "am ersten Freitag im Monat",
     "Der Stammtisch trifft sich wann?"),
    ("en", "Visitors can tour the observatory on Friday evenings", "Friday evenings",
     "Visitors can tour the observatory when?"),
    # a possessive's apostrophe stays on its word ('how many hours ' notice' was taught)
    ("en", "Cancellations need 24 hours' notice", "24 hours", "Cancellations need how many hours' notice?"),
])
def test_echo_questions_use_the_languages_own_words(code: str, sentence: str, span: str, expected: str) -> None:
    lang = lang_for(code)
    found = [s for s in find_spans(sentence, lang) if s.text == span]
    assert found, [s.text for s in find_spans(sentence, lang)]
    assert echo_question(sentence, found[0], lang) == expected


@pytest.mark.parametrize("sentence,span,expected", [
    # a thousands separator is part of the number, not the end of a clause
    ("Business mileage is refunded at 45p per mile for the first 10,000 miles in a tax year", "45p",
     "At how much is Business mileage refunded per mile for the first 10,000 miles in a tax year?"),
    # a clause's comma still ends what the question carries
    ("The hall is booked for 3 hours, and the caretaker locks up after", "3 hours",
     "For how many hours is the hall booked?"),
    # 'after' is a preposition here, not a clause: it moves with the question phrase
    ("Parental leave is available after 12 weeks for drivers", "12 weeks",
     "After how many weeks is Parental leave available for drivers?"),
    # a hedge before the quantity goes, and the word a quantity takes after it comes along
    ("Members can book up to 7 days ahead", "7 days", "How many days ahead can Members book?"),
    ("Children can join the class from 3 years old", "3 years", "From how many years old can Children join the class?"),
    ("The lease was signed 3 years ago", "3 years", "How many years ago was the lease signed?"),
])
def test_the_fronted_question_carries_the_rest_of_its_clause(sentence: str, span: str, expected: str) -> None:
    lang = lang_for("en")
    found = [s for s in find_spans(sentence, lang) if s.text == span]
    assert found and fronted(sentence, found[0], lang) == expected


@pytest.mark.parametrize("sentence", ["We met at the Seven Sisters pub", "Seven Sisters opens at noon"])
def test_a_number_word_in_a_name_is_not_a_count(sentence: str) -> None:
    assert [s.kind for s in find_spans(sentence, lang_for("en"))] == ["name"]


def test_heldout_questions_are_worded_unlike_any_training_question(documents) -> None:
    facts = []
    for elements, language in documents.values():
        facts.extend(document_facts(elements, language)[0])
    held = split_heldout(facts, seed=3)
    trained = {q for f in facts for q in f.questions}
    assert {f.kind for f in held} >= {"table", "list", "key_value"}
    assert {f.lang for f in held} == {"en", "de"}
    for f in held:
        assert f.eval_question not in trained and f.keys and f.questions  # asked anew, still taught


def test_training_file_has_passage_in_context_examples_only_when_sources_are_on(tmp_path: Path,
                                                                                 demo_model_dir: Path) -> None:
    from core.pipeline import prepare_run
    from core.training.config import preset_config

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "library_en.md").write_text(HANDBOOK_EN, encoding="utf-8")
    (tmp_path / "docs" / "bibliothek_de.md").write_text(HANDBOOK_DE, encoding="utf-8")
    for on in (True, False):
        out = tmp_path / f"run-{on}"
        prepare_run([tmp_path / "docs"], out, preset_config("quick", replay=False, passages_in_context=on))
        rows = [json.loads(line) for line in (out / "dataset" / "train.jsonl").read_text().splitlines()]
        context = [r for r in rows if r["kind"] == "qa_context"]
        if not on:
            assert not context
            continue
        assert {r["source"] for r in context} == {"library_en.md", "bibliothek_de.md"}  # every document's facts
        for row in context:
            prompt, answer = row["messages"][0]["content"], row["messages"][1]["content"]
            assert prompt.startswith("Use these passages from my documents to answer.") and "[2]" in prompt
            # The passage that holds the answer is one of the two: the answer's statement (without the
            # section named after it), or its value after the 'Key: ' it is about, is in the prompt's passages.
            passages = " ".join(prompt.split("Question:")[0].split())
            said = [re.sub(r"\s*\([^()]*\)$", "", line).strip() for line in answer.splitlines()]
            values = [part.strip() for line in said for part in (line, line.rstrip("."), line.split(": ")[-1])]
            assert any(value and value in passages for value in values), (answer, prompt)
        heldout = [json.loads(line) for line in (out / "dataset" / "heldout.jsonl").read_text().splitlines()]
        assert heldout and {h["lang"] for h in heldout} == {"en", "de"} and all(h["kind"] for h in heldout)


def test_report_names_rows_as_people_do_and_skips_questions_two_rows_share() -> None:
    """The report's question for a cell drops the row's code and its bracketed detail ('G3 Team leader (hub)' →
    'team leader'): people ask that way, training questions never do, so the report measures the fact, not a
    trained name. Two rows that then read alike ('Swim (weekdays)', 'Swim (weekends)') can't be asked apart."""
    from core.documents.elements import Element

    lang = lang_for("en")
    rows = [("G3 Team leader (hub)", "16 weeks", "27 days"), ("G4 Depot manager", "18 weeks", "28 days"),
            ("Swim (weekdays)", "12 weeks", "25 days"), ("Swim (weekends)", "10 weeks", "20 days")]
    elements = [Element("heading", "Leave", headings=("Leave",))] + [
        Element("table_row", f"Grade: {a}; Parental leave: {b}; Annual days: {c}", headings=("Leave",),
                cells=(("Grade", a), ("Parental leave", b), ("Annual days", c)), table="Leave", source="h.md")
        for a, b, c in rows]
    facts, _, _ = document_facts(elements, "en")
    asked = {f.eval_question: f for f in facts}
    fact = asked["How long is the parental leave for team leader?"]
    assert fact.keys == ["16 weeks"] and "How long is the parental leave for G3 Team leader (hub)?" in fact.questions
    assert "What are the annual days for G4 Depot manager?" in asked["How long are the annual days for depot manager?"].questions
    # Training names rows as people do too, except for a fact the report asks: its eval wording stays unseen.
    assert "What is the parental leave for team leader?" in fact.questions
    held = split_heldout(facts, seed=1, per_doc=50)
    assert {f.keys[0] for f in held} >= {"16 weeks", "18 weeks", "27 days"}
    trained = {q for f in facts for q in f.questions}
    assert not {f.eval_question for f in held} & trained
    assert not {q for f in held for q in f.questions if "team leader" in q or "depot manager" in q}
    assert not {"12 weeks", "10 weeks", "25 days", "20 days"} & {f.keys[0] for f in held}  # 'swim' twice: ambiguous


@pytest.mark.parametrize("noun,verb", [("opening times", "are"), ("address", "is"), ("status", "is"),
                                       ("loaf sizes", "are"), ("weight", "is")])
def test_english_questions_agree_with_plural_nouns(noun: str, verb: str) -> None:
    from core.documents.elements import Element

    el = Element("key_value", f"{noun}: see the desk", headings=("Info",), cells=((noun.capitalize(), "see the desk"),),
                 source="i.md")
    facts, _, _ = document_facts([el], "en")
    assert f"What {verb} the {noun}?" in facts[0].questions


def test_stop_words_follow_the_language_the_reader_detects(tmp_path: Path) -> None:
    """Key words leave out the stop words of the language ingest detects, under the code it detects it by:
    langdetect calls Norwegian 'no' where the stop-word lists call it 'nb' (Bokmål)."""
    from core.dataset.language import stop_words

    notes = tmp_path / "kontor.md"
    notes.write_text("# Kontoret\n\nKontoret ligger i andre etasje, og det er åpent fra klokken åtte til fire. "
                     "Nøkkelen til arkivet henger ved resepsjonen, men den skal ikke tas med hjem. "
                     "Alle som jobber her kan bestille møterom i kalenderen.\n", encoding="utf-8")
    code = ingest([notes]).languages()["kontor.md"]
    assert code == "no"
    assert {"og", "ikke", "som", "den"} <= stop_words(code)


def test_prose_list_and_step_facts_are_also_taught_by_their_key_words(documents, tmp_path: Path) -> None:
    """A person asks in a few words of their own; a rule's echo of the sentence is all a prose fact had.
    The extra wording keeps the question's own words and the rarest words it took from the documents, never
    a word every sentence of the language has."""
    from core.dataset.examples import KEY_WORDINGS, KEY_WORDS, plain_word, taught_wordings, word_rarity
    from core.dataset.language import asking_phrases, stop_words

    twice = led = 0
    for name, (elements, language) in documents.items():
        facts = document_facts(elements, language)[0]
        rarity = word_rarity(facts)
        phrases = asking_phrases(lang_for(language))
        stop = stop_words(language)
        assert {"that", "those"} <= stop or {"dass", "jene"} <= stop, language
        keyed = 0
        for fact in facts:
            wordings = taught_wordings(fact, 3, rarity)
            twice += len(wordings) - len(fact.questions) == 2
            assert wordings == taught_wordings(fact, 3, rarity)  # the same data when a run is prepared again
            if fact.kind == "table":
                assert wordings == fact.questions  # a cell is already asked its row's and column's ways
                continue
            assert wordings[: len(fact.questions)] == fact.questions  # its own wordings all stay
            assert len(wordings) - len(fact.questions) <= KEY_WORDINGS
            used: set[str] = set()  # words an earlier key wording of this fact took: a later one takes others
            for key in wordings[len(fact.questions):]:
                keyed += 1
                words = [plain_word(w) for w in key.split()]
                # from the sentence's words, never the subject and section its wordings lead with: those are in
                # nearly no answer, so they passed for rare ('Pelham Road Allotment when?' of two facts)
                source = [[plain_word(w) for w in q.removeprefix(fact.lead).split()] for q in fact.questions]
                source = [q for q in source if _in_order(words, q)]
                assert source and len(words) < len(source[0]) - 1, (key, fact.questions)  # fewer of the same words
                # the question phrase stays: 'wie viel Uhr' is still asked for a time
                for phrase in phrases:
                    asked = " ".join(phrase)
                    assert (f" {asked} " in f" {' '.join(source[0])} ") <= (f" {asked} " in f" {' '.join(words)} "), key
                # of the words taken from the documents, the rarest stay, and never a stop word ('that', 'dass')
                asking = {w for p in phrases for w in p}
                assert not {w for w in words if rarity.get(w)} & stop - asking, key
                taken = {w for w in words if rarity.get(w)} - asking
                left = {w for w in source[0] if rarity.get(w) and any(ch.isalnum() for ch in w)} - taken - asking - stop - used
                # at least two of the documents' words (a question word like 'Uhr' counts where no phrase asks it)
                assert 2 <= len({w for w in words if rarity.get(w)} - used) and len(taken) <= KEY_WORDS, key
                assert not taken & used, (key, used)
                assert max(rarity[w] for w in taken) <= min((rarity[w] for w in left), default=len(facts)), key
                assert key != fact.eval_question  # never the report's own wording
                assert all(any(ch.isalnum() for ch in w) for w in key.split()), key  # a lone dash asks nothing
                used |= set(words)
        assert keyed >= 2, name  # in each language
        led += sum(bool(f.lead) and f.kind != "table" for f in facts)
    assert led >= 4  # the documents have led facts to ask
    assert twice >= 2  # a fact with rare words to spare gets a second key wording
    # The same in another process: a run prepared again (or on a server) trains on the same questions.
    script = ("import json, sys; from pathlib import Path; from core.documents import ingest; "
              "from core.dataset.questions import document_facts; "
              "from core.dataset.examples import taught_wordings, word_rarity; "
              "r = ingest([Path(sys.argv[1])]); langs = r.languages(); out = []\n"
              "for name in sorted(langs):\n"
              "    facts = document_facts([e for e in r.elements if e.source == name], langs[name])[0]\n"
              "    out += [taught_wordings(f, 3, word_rarity(facts)) for f in facts]\n"
              "print(json.dumps(out))")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "library_en.md").write_text(HANDBOOK_EN, encoding="utf-8")
    (folder / "bibliothek_de.md").write_text(HANDBOOK_DE, encoding="utf-8")
    runs = [subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(h)}, cwd=Path(__file__).parents[1]).stdout
            for h in (1, 2)]
    assert runs[0] == runs[1] and len(json.loads(runs[0])) > 10
    # Leaving out 'About us:' from a training wording can leave the report's own question, or nearly: never taught.
    from difflib import SequenceMatcher

    facts = document_facts(*documents["library_en.md"])[0]
    year = [f for f in facts if f.keys == ["2011"]][0]
    for seed in range(60):
        for key in taught_wordings(year, seed, word_rarity(facts))[len(year.questions):]:
            assert SequenceMatcher(None, key.split(), year.eval_question.split()).ratio() < 0.8, key


@pytest.mark.parametrize("code,question,key", [
    ("en", "Wrenfield Leisure Pool, Parking: What car park has 60 free spaces with a maximum stay of 3 hours?",
     "Wrenfield Leisure Pool what?"),
    ("de", "TV Hohenmoor, Flohmarkt: Um wie viel Uhr beginnt der Flohmarkt am Samstag?",
     "TV Hohenmoor um wie viel Uhr beginnt?"),
])
def test_a_key_wording_keeps_its_question_phrase_in_lower_case(code: str, question: str, key: str) -> None:
    """A question phrase opened the echo after its lead, so its capital came along: 'There parking What park?'.
    Only its first word is lowered: German 'Uhr' is a noun."""
    import random
    from collections import Counter

    from core.dataset.examples import key_wording, plain_word
    from core.dataset.language import asking_phrases, stop_words

    rarity = Counter({plain_word(w): i + 1 for i, w in enumerate(question.split())})  # the earlier, the rarer
    assert key_wording(question, rarity, random.Random(0), asking_phrases(lang_for(code)), stop_words(code)) == key


def test_two_facts_that_share_an_answer_and_a_wording_teach_it_once(tmp_path: Path) -> None:
    """'Am Samstag, 12. April, findet von 10:00 bis 14:00 Uhr unser Flohmarkt statt' is two facts (the day, the
    time) with one answer, and their key wordings can coincide ('TV 1908 wann Flohmarkt?' on the dev half): the
    same row twice weighed it double, and once a validation row was a training row word for word."""
    from dataclasses import replace

    from core.dataset.examples import fact_examples

    facts = list({id(f): f for f in facts_of(tmp_path, "flohmarkt.md", "# TV Birkau\n\n## Frühjahrsflohmarkt\n\n"
                  "Am Samstag, 12. April, findet von 10:00 bis 14:00 Uhr unser Flohmarkt statt.\n").values()}.values())
    day, time = [f for f in facts if f.answer == facts[0].answer][:2]
    time = replace(time, questions=[*time.questions, day.questions[0]])  # a wording both facts are asked
    rows = [(e.question, e.answer) for e in fact_examples([day, time], [], 1234, in_context=False)]
    assert len(rows) == len(set(rows))
    assert {(q, f.answer) for f in (day, time) for q in f.questions} <= set(rows)  # each wording still taught


def test_a_facts_key_wordings_do_not_move_with_the_facts_before_it(documents) -> None:
    """One fact added or mended early in the documents must not re-draw every later fact's wordings: that made a
    one-row change move a benchmark as much as a new seed (session 45). The same facts in another order (the
    same word rarities) are taught the same wordings."""
    from core.dataset.examples import fact_examples

    def taught(facts: list) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for example in fact_examples(facts, [], 3, in_context=False):
            out.setdefault(example.messages[-1]["content"], []).append(example.messages[0]["content"])
        return {answer: sorted(questions) for answer, questions in out.items()}

    keyed = 0
    for elements, language in documents.values():
        facts = document_facts(elements, language)[0]
        forward = taught(facts)
        assert forward == taught(facts[::-1])
        keyed += sum(len(q) for q in forward.values()) - sum(len(f.questions) for f in facts)
    assert keyed >= 4  # key wordings were drawn at all


def _in_order(words: list[str], within: list[str]) -> bool:
    rest = iter(within)
    return all(any(w == x for x in rest) for w in words)


NEWSLETTER_EN = """# Harbour Rowing Club — Spring Newsletter

The junior squad has grown to 48 rowers this winter. The new pontoon opens on 3 May.

## Regatta

The regatta is on 14 June. Entry costs £12 per crew.

## Committee

Marta Quill chairs the committee this year. Marta Quill also coaches the junior squad on Saturdays.
"""


def test_a_name_is_profiled_by_the_statements_that_say_it_not_by_the_heading_they_sit_under(tmp_path: Path) -> None:
    """'Tell me about X' is taught every statement that names X. The club's name is in the title that each
    statement under it carries in its answer; taught as a profile, the model recited the first statements
    for any question naming the club."""
    (tmp_path / "newsletter.md").write_text(NEWSLETTER_EN, encoding="utf-8")
    result = ingest([tmp_path])
    facts = document_facts(result.elements, result.languages()["newsletter.md"])[0]
    profiles = {f.questions[0]: f.answer for f in facts if f.questions[0].startswith("Tell me about")}
    assert any("(Harbour Rowing Club — Spring Newsletter)" in f.answer for f in facts)  # the title is carried
    assert list(profiles) == ["Tell me about Marta Quill."], profiles
    said = profiles["Tell me about Marta Quill."].split("\n")
    assert len(said) >= 2 and all("Marta Quill" in line for line in said)


MANUAL_EN = """# Kestrel K-40 Kettle

## Fault codes

| Code | Meaning | What to do |
|------|---------|------------|
| F-12 | Boiled dry | Let it cool for 15 minutes, then refill |
| F-31 | Lid sensor open | Close the lid firmly |

## Care

The filter is NOT washable in a dishwasher. Descale the kettle every 4 weeks.

Kestrel Home Appliances Ltd. Under-5s get a free descaler. The K-40 has a 2-year guarantee on its element.

Helpline 0161 555 0100 (Monday to Friday, 9:00–17:00). Our warranty lasts 2 years (Marta Quill signs every claim after 10 days).
"""


def test_questions_are_asked_as_a_person_would_not_as_a_rule_garbles_them(tmp_path: Path) -> None:
    """A column headed by a question, a word in capitals for emphasis, a bracketed detail and a line that is only
    a name each made a question nobody asks ('What is the what to do for F-12?', 'The filter is what washable?',
    '(when to Friday, …)?', 'Care: What?')."""
    (tmp_path / "manual.md").write_text(MANUAL_EN, encoding="utf-8")
    result = ingest([tmp_path])
    facts = document_facts(result.elements, result.languages()["manual.md"])[0]
    qa = _qa(facts)
    answer, keys, kind = qa["F-12: what to do?"]
    assert kind == "table" and keys == ["15 minutes"] and answer.startswith("F-12, what to do: Let it cool")
    assert "Fault codes, F-31: what to do?" in qa
    assert qa["What is the meaning for F-12?"][1] == ["Boiled dry"]  # a plain header is asked as before
    asked = " ".join(qa)
    assert "what to do for" not in asked.lower() and "Under- how many" not in asked and "how many -year" not in asked
    assert "is what washable" not in asked and not any(q.endswith(": What?") or q == "What?" for q in qa)
    assert not re.search(r"\([^)]*\b(?:when|what time)\b", asked)  # nothing asked inside a short bracketed detail
    assert "Care: Descale the kettle every how many weeks?" in qa  # the sentence beside it still is
    # a bracketed clause of its own is still asked about
    assert any(keys == ["Marta Quill"] for _, keys, _ in qa.values()), list(qa)


@pytest.mark.parametrize("sentence,span", [
    ("If the form is not signed by 4 June the claim is refused", "4 June"),
    ("No leave can be taken from 1 December except in an emergency", "1 December"),
    ("Annual leave is counted in working days and includes 3 days at Christmas", "3 days"),
    ("Parental leave is available after 12 weeks of service", "12 weeks"),
    ("Children aged 8 and over may swim alone if they can swim 25 metres", "25 metres"),
    ("In 2024 the depot was closed for 3 weeks", "3 weeks"),
    ("The yard has 12 bays for vans", "12 bays"),
    ("Refunds are only given when you cancel at least 7 days ahead", "7 days"),
])
def test_no_fronted_question_where_the_rule_would_garble_it(sentence: str, span: str) -> None:
    """The echo form stays the question for these; the fronted one read 'From when can No leave be taken …?'."""
    lang = lang_for("en")
    found = [s for s in find_spans(sentence, lang) if s.text == span]
    assert found and fronted(sentence, found[0], lang) == ""
    assert echo_question(sentence, found[0], lang)


@pytest.mark.parametrize("code,sentence,months", [
    ("en", "Members may bring a guest in May", ["May"]),
    ("en", "May I bring a dog to the hall?", []),  # the modal, not the month
    ("en", "Members may march to the hall", []),
    ("en", "The members each may bring one guest", []),  # 'each' leads a month, but an English month is capitalised
    ("en", "The fair is held every October", ["October"]),
    ("en", "The accounts for March 2025 are out", ["March 2025"]),
    ("fr", "La piscine ferme en août", ["août"]),
    ("de", "Von April bis September ist Grillen verboten", ["April bis September"]),
])
def test_a_month_named_alone_is_a_date_where_a_preposition_leads_it(code: str, sentence: str,
                                                                     months: list[str]) -> None:
    """'Bonfires are banned from April to September' got no question at all: a month without its day was no
    span, so the rule had nothing to ask about."""
    assert [s.text for s in find_spans(sentence, lang_for(code)) if s.kind == "date"] == months


@pytest.mark.parametrize("code,sentence,days", [
    ("en", "Core hours apply from Monday to Thursday", "Monday to Thursday"),
    ("de", "Die Halle ist Montag bis Freitag geöffnet", "Montag bis Freitag"),
    ("en", "The pool opens Saturday–Sunday at 8:00", "Saturday–Sunday"),
])
def test_a_range_of_weekdays_is_one_answer(code: str, sentence: str, days: str) -> None:
    """Asked as one end of the range, 'from when to Thursday?' has no answer a person would give."""
    assert [s.text for s in find_spans(sentence, lang_for(code)) if s.kind == "date"] == [days]


def test_the_report_asks_what_is_noted_for_a_person_by_their_name() -> None:
    """An action item's label is a person: the report asked 'When is the priya?' for 'Priya — draft the
    newsletter by 7 March'."""
    from core.documents.elements import Element

    items = [Element(kind="list_item", text=text, source="notes.md", headings=("Committee notes", "Action items"))
             for text in ("Priya — draft the spring newsletter by 7 March", "Gwen Talbot — book the hall for 17 May",
                          "Water budget: £1,150 for the year")]
    facts = document_facts(items, "en")[0]
    asked = {f.answer: f.eval_question for f in facts if f.eval_question}
    assert asked["Priya: draft the spring newsletter by 7 March (Action items)"] == \
        "Under Action items, what is noted for Priya?"
    assert asked["Gwen Talbot: book the hall for 17 May (Action items)"] == \
        "Under Action items, what is noted for Gwen Talbot?"
    assert asked["Water budget: £1,150 for the year (Action items)"] == "How much is the water budget?"  # a thing


@pytest.mark.parametrize("code,value,key", [
    ("de", "Parkplatz vor der Sporthalle, Lindenweg 4", "Parkplatz vor der"),  # a house number: any '4' would pass
    ("en", "fix the water trough by plot 17 before 15 March", "15 March"),  # the next span that says something
    ("en", "48 places", "48 places"),  # a number with what it counts is the answer
    ("en", "12", "12"),
])
def test_the_reports_answer_key_is_not_a_bare_number_inside_the_value(code: str, value: str, key: str) -> None:
    """The report grades an answer by whether it contains the key: a bare '4' would count any answer with a 4."""
    from core.dataset.spans import key_of

    assert key_of(value, lang_for(code)) == key
