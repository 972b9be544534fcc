"""Yes/no questions for rules and decisions that name nothing a question word could ask for.

'Dogs are not allowed in the growing areas.' has no name, number or date, so it got no training question at all
(the coverage line counted it as missed); people ask it 'Are dogs allowed …?'.
"""

from __future__ import annotations

import pytest

from core.dataset.language import lang_for
from core.dataset.questions import document_facts
from core.dataset.yes_no import named_words, yes_no_question
from core.documents import ingest

try:
    from tests.doc_fixtures import facts_of
except ImportError:  # tests/ on sys.path rather than the repo root
    from doc_fixtures import facts_of  # type: ignore[no-redef]


@pytest.mark.parametrize("code,sentence,common,question", [
    ("en", "Dogs are not allowed in the growing areas.", {"dogs"}, "Are dogs allowed in the growing areas?"),
    # a first word the document never writes in lower case, and never as a name: an ordinary word all the same
    ("en", "Tickets sold online are not refundable.", set(), "Are tickets sold online refundable?"),
    ("de", "Hunde sind im Garten nicht erlaubt.", set(), "Sind Hunde im Garten erlaubt?"),
    ("de", "Kinder unter 12 Jahren müssen begleitet werden.", set(), "Müssen Kinder unter 12 Jahren begleitet werden?"),
    ("fr", "Les chiens ne sont pas admis dans le jardin.", set(), "Est-ce que les chiens sont admis dans le jardin ?"),
    ("es", "No se permite comer en las gradas.", set(), "¿Se permite comer en las gradas?"),
    ("es", "Es obligatorio usar gorro en la piscina.", set(), "¿Es obligatorio usar gorro en la piscina?"),
    # 'must not' forbids: asked whether one can ('Must tenants change …?' would be answered 'they need not'),
    # where German 'muss nicht' says 'need not' and stays
    ("en", "Tenants must not change the locks.", set(), "Can tenants change the locks?"),
    ("fr", "Les locataires ne doivent pas changer les serrures.", set(),
     "Est-ce que les locataires peuvent changer les serrures ?"),
    ("es", "Los alumnos no deben traer comida.", set(), "¿Los alumnos pueden traer comida?"),
    ("de", "Mitglieder müssen nicht bezahlen.", set(), "Müssen Mitglieder bezahlen?"),
    ("en", "Tenants must pay the rent on time.", set(), "Must tenants pay the rent on time?"),
    # a house rule written as an order, asked as the person it is for asks
    ("en", "Do not leave bags in the hall.", set(), "Can I leave bags in the hall?"),
    ("en", "Please bring your own gloves.", set(), "Do I have to bring my own gloves?"),
    ("en", "Please make sure you close the gate behind you.", set(), "Do I have to make sure I close the gate behind me?"),
    ("de", "Bitte keine Hunde mitbringen.", set(), "Darf ich Hunde mitbringen?"),
    ("de", "Bitte Ihren Ausweis mitbringen.", set(), "Muss ich meinen Ausweis mitbringen?"),
    ("fr", "Merci de ne pas fumer dans la cour.", set(), "Est-ce que je peux fumer dans la cour ?"),
    ("fr", "Veuillez fermer la porte.", set(), "Est-ce que je dois fermer la porte ?"),
    ("es", "No fumar en las gradas.", set(), "¿Se puede fumar en las gradas?"),
    # an order that cannot be turned: a verb split round 'Sie', a possessive with no one swap, a note to the reader
    ("de", "Bitte bringen Sie Hausschuhe mit.", set(), ""),
    ("fr", "Veuillez présenter votre carte.", set(), ""),
    ("en", "Please note that the hall closes early.", set(), ""),
    # no question where the auxiliary is a clause's, the subject a pronoun, or there is none
    ("en", "Rents stay as they are for 2025.", set(), ""),
    ("en", "Members who joined before 2020 are exempt.", set(), ""),
    ("en", "It is free for members.", set(), ""),
    ("en", "Bring your own gloves.", set(), ""),
    ("en", "In winter the pool is closed on Mondays.", set(), ""),
    ("fr", "Pas de chiens dans le jardin.", set(), ""),
])
def test_a_statement_becomes_the_yes_no_question_it_answers(code: str, sentence: str, common: set[str],
                                                             question: str) -> None:
    assert yes_no_question(sentence, lang_for(code), common) == question


@pytest.mark.parametrize("name,text,asked,answer", [
    ("garden.md", "# Hollow Lane Garden\n\n## Rules\n\n- Dogs are not allowed in the growing areas.\n"
     "- Children must be supervised at all times.\n\nWe keep dogs out because of the seedlings.\n",
     "Hollow Lane Garden, Rules: Are dogs allowed in the growing areas?",
     "Dogs are not allowed in the growing areas. (Rules)"),
    ("regeln.md", "# Turnhalle Nord\n\n## Hausordnung\n\n- Bitte Hallenschuhe mitbringen.\n- Bitte keine Getränke in "
     "Glasflaschen mitbringen.\n", "Muss ich Hallenschuhe mitbringen?", "Bitte Hallenschuhe mitbringen. (Hausordnung)"),
    ("normas.md", "# Polideportivo La Vega\n\n## Normas\n\n- No se permite comer en las gradas.\n"
     "- Es obligatorio usar gorro en la piscina.\n", "¿Se permite comer en las gradas?",
     "No se permite comer en las gradas. (Normas)"),
    # lines that run together into one paragraph: the one with a number is asked, and the rules beside it too
    ("verein.md", "# Schachclub Birkau\n\n## Hinweise\n\nBitte Hausschuhe mitbringen.\nDer Beitrag beträgt 60 Euro "
     "im Jahr.\nRauchen ist im Vereinsheim nicht erlaubt.\n", "Ist Rauchen im Vereinsheim erlaubt?",
     "Rauchen ist im Vereinsheim nicht erlaubt. (Hinweise)"),
    # a name keeps its capital where the document writes it as one ('Declan Byrne'); an ordinary word seen only
    # at a line's start loses it
    ("minutes.md", "# Orchard Road Choir\n\n## Committee\n\nPresent: Declan Byrne, Ann Shaw\n\nDeclan will send the "
     "reminder letters. Children must be accompanied by an adult.\n", "Will Declan send the reminder letters?",
     "Declan will send the reminder letters. (Committee)"),
    ("minutes.md", "# Orchard Road Choir\n\n## Committee\n\nPresent: Declan Byrne, Ann Shaw\n\nDeclan will send the "
     "reminder letters. Children must be accompanied by an adult.\n", "Must children be accompanied by an adult?",
     "Children must be accompanied by an adult. (Committee)"),
    ("lab.txt", "LAB C RULES\n\nThe eyewash station is next to the north door. Spills are reported to Room 12.\n",
     "Is the eyewash station next to the north door?", "The eyewash station is next to the north door. (LAB C RULES)"),
    # a French subject that is a thing has no echo question a rule gets right ('Les quoi sont prêtés …' was taught)
    ("prets.md", "# Médiathèque\n\n## Emprunts\n\nChaque lecteur emprunte 8 livres. Les DVD sont prêtés pour une "
     "semaine.\n", "Est-ce que les DVD sont prêtés pour une semaine ?", "Les DVD sont prêtés pour une semaine. (Emprunts)"),
])
def test_a_rule_with_nothing_to_ask_for_is_asked_yes_or_no(tmp_path, name: str, text: str, asked: str,
                                                           answer: str) -> None:
    by_question = facts_of(tmp_path, name, text)
    assert asked in by_question, sorted(by_question)
    assert by_question[asked].answer == answer
    assert by_question[asked].keys == []  # the report grades a key; a yes or no has none to grade
    result = ingest([tmp_path])
    _, informative, covered = document_facts(result.elements, result.languages()[name])
    rules = [e for e in result.elements if e.kind == "list_item"]
    assert covered >= len(rules), (covered, informative)


@pytest.mark.parametrize("text,named,ordinary", [
    ("Present: Declan Byrne, Ann\nDeclan will send it. He asked Tom.", {"Declan", "Byrne", "Ann", "Tom"}, {"He"}),
    ("Mulled wine is served. Tickets: £12\nChildren must be accompanied.", set(), {"Mulled", "Tickets", "Children"}),
    ("The church is step-free from the Market Street entrance.", {"Market", "Street"}, {"The"}),
])
def test_names_are_the_capitals_no_sentence_start_explains(text: str, named: set[str], ordinary: set[str]) -> None:
    found = named_words([text])
    assert named <= found and not ordinary & found, sorted(found)
