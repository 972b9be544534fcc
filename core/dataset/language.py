"""The words a question needs, per language: question words, templates, pronouns.

Questions are made by rule from a document's structure (core/dataset/questions.py), so
every word a rule puts into a question comes from here, in the document's own language:
a German document gets German questions, never an English "what" inside a German sentence.
Languages without an entry get the language-neutral forms only ("Grade 3 — leave?"), not
English ones. Adding a language means adding one `Lang` below; nothing else changes.

Templates are format strings over these fields: {h} a column header, {label} a row label,
{title} a table title or document title, {key}/{value} a key-value line, {section} the
nearest heading, {n} a step number, {q} a question, {x} a named thing. `eval_*` templates are
never used for training: the "did it learn?" report asks in those words, so a recalled
answer shows the fact was learned, not a trained wording remembered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Lang:
    code: str
    # Echo questions: a span of the sentence is replaced by its question phrase.
    what: str
    by_whom: tuple[str, str]
    """(preposition, phrase): 'by X' → 'by whom'."""
    when: str
    which_year: str
    what_time: str
    """Replaces a preposition and a time ('at 8:30' → 'at what time')."""
    what_time_bare: str
    """Replaces a time after any other word ('until 6 pm' → 'until what time')."""
    how_much: str
    how_many: str
    """'{unit}' is filled in: 'how many {unit}' → 'how many weeks'."""
    which_code: str
    which_number: str
    """A phone or reference number."""
    drop_before: frozenset[str]
    """Prepositions that the question phrase replaces with the span ('on 4 June' → 'when')."""
    range_from: frozenset[str]
    """Words that open a range ('from Monday to Friday', 'de 9 h à 13 h'): the question asks 'when' in their
    place, since the answer is the whole range ('open from when' asks for its start alone)."""
    time_words: frozenset[str]
    """Words that follow a time and go with it ('10:00 Uhr')."""
    pronouns: frozenset[str]
    """A sentence starting with one needs the sentence before it to be understood."""
    generic_headers: frozenset[str]
    """Column headers that say nothing of their own ('Value', 'Details'): the row label is the question."""
    open_q: str  # '¿' in Spanish
    close_q: str  # ' ?' in French
    cell: tuple[str, ...]
    cell_generic: tuple[str, ...]
    key_value: tuple[str, ...]
    key_value_who: tuple[str, ...]
    """`key_value` for a line whose value is a person ('Conductor: Marianne Oduya'): 'What is the conductor?'
    asked for a thing."""
    code_meaning: tuple[str, ...]
    step: tuple[str, ...]
    steps: tuple[str, ...]
    listing: tuple[str, ...]
    item: tuple[str, ...]
    item_who: tuple[str, ...]
    """An action item 'Name — do something': who does it ({value} starts with the task's verb)."""
    profile: tuple[str, ...]
    recite: tuple[str, ...]
    """Asking for a whole passage of document {title} that begins with {opening}."""
    eval_cell: str
    eval_cell_generic: str
    eval_code: str
    eval_item: str
    x_cell: str = "{h} — {label}"
    """How a table cell is named inside a typed question ('the deposit for Ladder')."""
    x_key: str = "{key}"
    """How a key-value line's key is named inside a typed question ('the phone number')."""
    who: str = "?"
    """The question word for a person's name after a copula ('Its chair is who?', spans.py question_phrase)."""
    conjunction: str = ""
    """The word for 'and' between the last two of a list ('Lucía Ferrer, Andrés Molina y Carmen Ruiz'): where a list
    of names splits."""
    articles: frozenset[str] = frozenset()
    """The language's articles and the possessives that lead a name like one ('the Silver Heron', 'los DVD'): a
    name they lead is a thing, and the question phrase takes their place too. Per language: Spanish 'a' and
    English 'die' are no articles."""
    what_first: str | None = None
    """The question word for a thing that opens the sentence ('The Silver Heron is moored at Pier 4' → 'What is
    moored at Pier 4?'), where it differs from `what`; '' where the language has none a rule can use: French asks
    'Qu'est-ce qui …' with a verb that agrees, and such a sentence is asked yes or no instead."""
    how_many_after: tuple[frozenset[str], str] = (frozenset(), "")
    """Prepositions that put a count in another case, and `how_many` in that case ('nach 12 Jahren' → 'nach wie
    vielen Jahren', not 'nach wie viele Jahren')."""
    to_whom: tuple[tuple[str, str], ...] = ()
    """(preposition, phrase) for a person after a preposition ('reported to Dr. Helen Okafor' → 'reported to
    whom', 'Adressez-vous à Mme Brunet' → 'à qui'): 'to what' asked for a thing. German's are the prepositions
    that take one case only ('mit wem', 'für wen'), so the phrase never depends on the verb."""
    copulas: frozenset[str] = frozenset()
    """Forms of 'to be' after which a name says who someone is ('Our director is Helen Marsh'). Only there is a
    two-word name asked with `who`: elsewhere it is as often a thing or a place ('the Silver Heron', 'stands on
    Kestrel Ridge'), and German 'wer' is right only in the nominative."""
    assigns: tuple[str, ...] = ()
    """Words between a person and a task in minutes ('Action: Tom Reid to book the castle', 'Jana soll … buchen'):
    the task after them is asked with `item_who` ('Who will book the castle?'); the verb stays where it stands."""
    purposes: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()
    """(pattern, steps, step) for a lead-in that says what its steps are for ('To book the hall:'): the pattern's
    `goal` group is the rest ('book the hall'), and the templates (over {goal}, {section}, {n}) ask as people do,
    'How do I book the hall?', where 'What are the steps for To book the hall?' asked nothing a person would."""
    calendar_capitalised: bool = False
    """Whether the language writes months and days with a capital ('May', 'März', 'Tuesday'; not 'mai', 'martes'):
    there a lower-case 'may' is no month, and a question names a day as the document does."""
    nouns_capitalised: bool = False
    """Whether the language writes every noun with a capital (German 'Hunde', 'Kinder'): there a capital says
    nothing of a name, and a sentence's first word keeps it inside a question; elsewhere only names keep theirs
    ('Are tickets sold online refundable?', not 'Are Tickets …')."""
    every: frozenset[str] = frozenset()
    """Words for 'every' before a day or month ('every Monday', 'jeden Donnerstag', 'tous les lundis'): the question
    phrase takes their place too, since 'every when?' asks nothing."""
    attendance: tuple[tuple[frozenset[str], tuple[str, ...], str], ...] = ()
    """(keys, templates over {section}, the report's wording) for a meeting's attendance lines ('Present: Sarah
    Lowe, Tom Reid', 'Apologies: Ben Carter'): the names are who was there or not, asked 'Who was present?',
    where the key-value form asked 'Who is the present?'."""
    on_day: tuple[str, ...] = ()
    """A timetable's line for a day ('Weekdays: 10:00 to 20:00', 'Mardi : 10 h – 18 h') under its section ('Opening
    times'), over {key} (the section as a noun), {section} and {label} (the day): 'What are the opening times on
    weekdays?', where the key-value form asked 'What are the weekdays?'."""
    eval_on_day: str = ""
    periods: frozenset[str] = frozenset()
    """Keys that name days without naming a day ('weekends', 'bank holidays'), taking the same preposition a day
    does in `on_day`."""
    closed: frozenset[str] = frozenset()
    """A timetable's word for no hours ('Closed', 'fermé'): a day's value as much as a time is."""
    yes_no: str = ""
    """How a statement with no span becomes a yes/no question (core/dataset/yes_no.py): 'invert' puts its
    auxiliary first ('Are dogs allowed …?'), else a template over {s}, the statement ('Est-ce que {s} ?')."""
    auxiliaries: frozenset[str] = frozenset()
    """Verbs a yes/no question turns on ('are', 'must', 'sind', 'peut', 'se'); a statement with none of them
    among its first words gets no yes/no question."""
    forbids: tuple[tuple[str, str], ...] = ()
    """(auxiliary, the one a yes/no question asks with) where the auxiliary with a negation forbids: 'Tenants must
    not change the locks' answers 'Can tenants change the locks?', not 'Must tenants …?' (whose answer would be
    'they need not'). German 'muss nicht' says 'need not', so German has none."""
    negations: frozenset[str] = frozenset()
    """Words a yes/no question leaves out ('not', 'nicht', 'ne', "n'", 'pas', 'no'); an elided one ends in "'"."""
    orders: tuple[tuple[str, str], ...] = ()
    """(pattern, template over {s}) for a house rule written as an order: the pattern matches how it opens ('Do not
    ', 'Bitte ', 'Merci de ne pas ', 'No ' before an infinitive) and {s} is the rest, asked as a person does ('Can I
    leave bags in the hall?', 'Muss ich Hausschuhe mitbringen?'). Tried in order; the first that matches asks."""
    own_words: tuple[tuple[str, str], ...] = ()
    """(the document's word, the asker's) swapped in an order's rest ('your' → 'my'); a word mapped to '' has no
    one swap ('votre': 'mon' or 'ma'), and an order that holds one is not asked."""
    own_subject: tuple[tuple[str, str], ...] = ()
    """(the document's word, the asker's) where the word is a subject, before a verb ('make sure you switch off' →
    'make sure I switch off'); `own_words` holds its other form ('behind you' → 'behind me')."""
    order_ends: str = ""
    """A pattern the rest of an order must end with, where the language writes orders as infinitives ('…
    mitbringen'): German 'Bitte bringen Sie … mit' is not one."""
    role_endings: tuple[str, ...] = ()
    """Where every noun is capitalised (German), a name at the start of a value is told from a noun phrase only by
    its key: a key that ends like a role ('Vorsitzender', 'Trainerin', 'Kassenwart') holds a person."""
    head_first: bool = False
    """Whether a noun phrase's head comes first ('Secrétaire du club', 'Lugar de encuentro'), not last ('Club
    secretary', 'Vereinsheim'): what a key names is its head's kind of thing (`is_place_noun`)."""
    x_of: str = "{x} — {title}"
    """Naming the document's subject too ('the weight of the Kestrel K-40 kettle')."""
    typed: tuple[tuple[str, str], ...] = ()
    """(value type, template over {x} and {unit}): the question word a value of that type is asked with
    ('How long is {x}?' for a duration, 'Who is {x}?' for a person); core/dataset/spans.py value_type."""
    type_nouns: tuple[tuple[str, frozenset[str]], ...] = ()
    """(value type, nouns that name that type): a key or header that says only what its value is ('Date: Saturday
    13 December', 'Uhrzeit: 19 Uhr') gets no typed question, which would ask 'When is the date?' or 'What time is
    the time?'; the plain wording ('What is the date?') asks it."""
    plural: tuple[tuple[str, str], ...] = ()
    """(singular, plural) pieces of templates: when the field a piece names is a plural noun ('opening
    times'), the plural piece replaces the singular one ('What are the opening times?')."""
    elisions: tuple[tuple[str, str], ...] = ()
    """(word, elided) of the templates' own words before a field that opens with a vowel sound: French 'de'
    before 'ans' is 'd'ans' ('combien d'ans', 'Parle-moi d'Hélène Marchand')."""
    plural_endings: tuple[str, ...] = ()
    """Endings of a plural noun's last word; `singular_endings` are the exceptions ('address', 'status')."""
    singular_endings: tuple[str, ...] = ()
    counts: frozenset[str] = frozenset()
    """Numbers written as words, two to twenty and the tens ('eleven plot holders' is asked 'how many plot
    holders'). Not 'one' / 'ein' / 'un' / 'uno': those are articles and pronouns as often as counts."""


EN = Lang(
    orders=((r"(?:please\s+)?(?:do not|don't|never)\s+", "Can I {s}?"),
            (r"please\s+(?!note\b|see\b)", "Do I have to {s}?")),
    own_words=(("your", "my"), ("yours", "mine"), ("yourself", "myself"), ("you", "me")), own_subject=(("you", "I"),),
    calendar_capitalised=True,
    forbids=(("must", "can"),),
    yes_no="invert", auxiliaries=frozenset({"is", "are", "was", "were", "must", "can", "may", "should", "will",
                                          "would", "could", "do", "does"}),
    negations=frozenset({"not", "never"}),
    on_day=("What is the {key} on {label}?", "{section} on {label}?"),
    eval_on_day="Could you tell me the {key} on {label}?",
    periods=frozenset({"weekdays", "weekends", "bank holidays", "public holidays", "holidays", "school holidays"}),
    closed=frozenset({"closed", "shut"}),
    every=frozenset({"every", "each"}),
    attendance=((frozenset({"present", "attendees", "attending", "in attendance", "attendance", "participants"}),
                 ("Who was present?", "{section}: who was present?"), "Who attended?"),
                (frozenset({"apologies", "apologies received", "absent", "absentees", "excused"}),
                 ("Who sent apologies?", "{section}: who was absent?"), "Who could not come?")),
    articles=frozenset({"the", "a", "an", "this", "our", "your"}), conjunction="and",
    to_whom=(("to", "to whom"), ("with", "with whom"), ("for", "for whom"), ("from", "from whom")),
    code="en", who="who", copulas=frozenset({"is", "was", "are", "were", "remains"}),
    what="what", by_whom=("by", "by whom"), when="when", which_year="in which year",
    what_time="at what time", what_time_bare="what time", how_much="how much", how_many="how many {unit}", which_code="which code", which_number="what number",
    drop_before=frozenset({"on", "at", "in"}), range_from=frozenset({"from"}),
    time_words=frozenset({"am", "pm", "a.m.", "p.m.", "h", "hrs"}),
    pronouns=frozenset({"he", "she", "they", "we", "it", "its", "his", "her", "their", "our", "this", "these", "there"}),
    generic_headers=frozenset({"value", "values", "details", "detail", "description", "info", "information",
                               "specification", "spec", "setting", "amount", ""}),
    open_q="", close_q="?",
    cell=("What is the {h} for {label}?", "{title}: what is the {h} for {label}?", "For {label}, what is the {h}?"),
    cell_generic=("What is the {label}?", "{title}: what is the {label}?"),
    key_value=("What is the {key}?", "{section}: what is the {key}?"),
    key_value_who=("Who is the {key}?", "{section}: who is the {key}?"),
    code_meaning=("What does {key} mean?", "What should I do about {key}?"),
    step=("What is step {n} of {section}?", "{section}: what do I do in step {n}?"),
    steps=("What are the steps for {section}?",),
    listing=("What is listed under {section}?",),
    item=("What does {section} say about {label}?", "{label}: what is noted under {section}?"),
    item_who=("Who will {value}?", "{section}: who has to {value}?"), assigns=("to", "will"),
    profile=("Tell me about {x}.",),
    recite=('Recite the passage from "{title}" that begins: "{opening}…"', 'Tell me what "{title}" says about: {opening}…'),
    eval_cell="Can you tell me the {h} for {label}?",
    eval_cell_generic="Can you tell me the {label} of {title}?",
    eval_code="I see {key}. What does it mean?",
    eval_item="Under {section}, what is noted for {label}?",
    purposes=((r"To\s+(?P<goal>\S+\s.+)", ("How do I {goal}?", "What are the steps to {goal}?"),
               ("What is step {n} to {goal}?", "{section}: what do I do in step {n}?")),),
    x_cell="the {h} for {label}", x_key="the {key}", x_of="{x} of {title}",
    typed=(("duration", "How long is {x}?"), ("money", "How much is {x}?"), ("time", "What time is {x}?"),
           ("date", "When is {x}?"), ("count", "How many {unit} is {x}?"), ("person", "Who is {x}?"),
           ("phone", "What is the number for {x}?")),
    type_nouns=(("date", frozenset({"date", "dates", "day", "days"})), ("time", frozenset({"time", "times"})),
                ("duration", frozenset({"duration", "length"})),
                ("money", frozenset({"price", "prices", "cost", "costs", "fee", "fees"})),
                ("phone", frozenset({"phone", "telephone", "phone number", "telephone number"}))),
    plural=(("is the {h}", "are the {h}"), ("is the {key}", "are the {key}"), ("is the {label}", "are the {label}"),
            ("is {x}", "are {x}")),
    plural_endings=("s",), singular_endings=("ss", "us", "is", "'s", "news", "series"),
    counts=frozenset("""two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety""".split()),
)

DE = Lang(
    orders=((r"(?:bitte\s+)?(?:nicht|keine?n?)\s+", "Darf ich {s}?"), (r"bitte\s+", "Muss ich {s}?")),
    own_words=(("ihr", "mein"), ("ihre", "meine"), ("ihren", "meinen"), ("ihrem", "meinem"), ("ihres", "meines"),
               ("ihrer", "meiner"), ("sie", "")),
    order_ends=r"\w(?:en|eln|ern)$",
    calendar_capitalised=True, nouns_capitalised=True,
    role_endings=("er", "erin", "in", "wart", "wartin", "ende", "ender", "leitung"),
    yes_no="invert", auxiliaries=frozenset({"ist", "sind", "war", "waren", "muss", "müssen", "darf", "dürfen",
                                          "kann", "können", "soll", "sollen", "wird", "werden"}),
    negations=frozenset({"nicht", "nie"}),
    on_day=("{section} am {label}?", "{section}: Was gilt am {label}?"),
    eval_on_day="Kannst du mir {section} am {label} nennen?",
    periods=frozenset({"wochenende"}), closed=frozenset({"geschlossen", "zu", "kein betrieb"}),
    every=frozenset({"jeden", "jede", "jedes", "jeweils"}),
    attendance=((frozenset({"anwesend", "anwesende", "anwesenheit", "teilnehmer", "teilnehmende", "teilnehmer:innen"}),
                 ("Wer war anwesend?", "{section}: Wer war dabei?"), "Wer hat teilgenommen?"),
                (frozenset({"entschuldigt", "abwesend", "es fehlten", "fehlend"}),
                 ("Wer war entschuldigt?", "{section}: Wer fehlte?"), "Wer konnte nicht kommen?")),
    articles=frozenset({"der", "die", "das", "dem", "den", "des", "ein", "eine", "einen", "einem", "unser", "unsere"}),
    conjunction="und",
    to_whom=(("mit", "mit wem"), ("bei", "bei wem"), ("zu", "zu wem"), ("für", "für wen")),
    code="de", who="wer", copulas=frozenset({"ist", "sind", "war", "waren", "bleibt", "wird"}),
    what="was", by_whom=("von", "von wem"), when="wann", which_year="in welchem Jahr",
    what_time="um wie viel Uhr", what_time_bare="wie viel Uhr", how_much="wie viel", how_many="wie viele {unit}", which_code="welcher Code", which_number="welche Nummer",
    how_many_after=(frozenset({"aus", "bei", "mit", "nach", "seit", "von", "zu", "vom", "zum", "zur", "beim"}),
                    "wie vielen {unit}"),  # the prepositions that take only the dative
    drop_before=frozenset({"am", "um", "im", "an", "vom"}), range_from=frozenset({"von", "vom"}),
    time_words=frozenset({"uhr", "h"}),
    pronouns=frozenset({"er", "sie", "es", "wir", "ihr", "sein", "seine", "ihre", "dies", "diese", "dieser", "dort"}),
    generic_headers=frozenset({"wert", "werte", "angabe", "angaben", "details", "beschreibung", "info", ""}),
    open_q="", close_q="?",
    cell=("Was ist {h} bei {label}?", "{title}: Wie lautet {h} für {label}?", "Für {label}: {h}?"),
    cell_generic=("Was ist {label}?", "{title}: Wie lautet {label}?"),
    key_value=("Was ist {key}?", "{section}: Wie lautet {key}?"),
    key_value_who=("Wer ist {key}?", "{section}: Wer ist {key}?"),
    code_meaning=("Was bedeutet {key}?", "Was tun bei {key}?"),
    step=("Was ist Schritt {n} bei {section}?", "{section}: Was mache ich in Schritt {n}?"),
    steps=("Welche Schritte gehören zu {section}?",),
    listing=("Was steht unter {section}?",),
    item=("Was sagt {section} zu {label}?", "{label}: Was steht dazu unter {section}?"),
    item_who=("Wer soll {value}?", "{section}: Wer muss {value}?"), assigns=("soll", "muss"),
    profile=("Erzähl mir von {x}.",),
    recite=("Gib den Abschnitt aus „{title}“ wieder, der so beginnt: „{opening}…“", "Was steht in „{title}“ zu: {opening}…"),
    eval_cell="Kannst du mir {h} für {label} nennen?",
    eval_cell_generic="Kannst du mir {label} von {title} nennen?",
    eval_code="Ich sehe {key}. Was bedeutet das?",
    eval_item="Unter {section}: Was ist zu {label} vermerkt?",
    purposes=((r"Um\s+(?P<goal>.+\bzu\s+\S+)", ("Was muss ich tun, um {goal}?",),
               ("Was ist Schritt {n}, um {goal}?", "{section}: Was mache ich in Schritt {n}?")),
              (r"So\s+(?P<goal>\S+\s.+)", ("Wie {goal}?",), ("{section}: Was mache ich in Schritt {n}?",))),
    x_cell="{h} bei {label}", x_key="{key}", x_of="{x} ({title})",
    typed=(("duration", "Wie lange ist {x}?"), ("money", "Wie viel kostet {x}?"), ("time", "Um wie viel Uhr ist {x}?"),
           ("date", "Wann ist {x}?"), ("count", "Wie viele {unit} sind es bei {x}?"), ("person", "Wer ist {x}?"),
           ("phone", "Welche Nummer hat {x}?")),
    type_nouns=(("date", frozenset({"datum", "tag", "termin"})), ("time", frozenset({"uhrzeit", "zeit"})),
                ("duration", frozenset({"dauer"})), ("money", frozenset({"preis", "preise", "kosten", "gebühr"})),
                ("phone", frozenset({"telefon", "tel.", "telefonnummer"}))),
    counts=frozenset("""zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn
    siebzehn achtzehn neunzehn zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig""".split()),
)

FR = Lang(
    orders=((r"(?:(?:merci|prière) de |veuillez )?ne pas\s+", "Est-ce que je peux {s} ?"),
            (r"(?:merci de|prière de|veuillez)\s+", "Est-ce que je dois {s} ?")),
    own_words=(("vos", "mes"), ("votre", ""), ("vous", "")),
    forbids=(("doit", "peut"), ("doivent", "peuvent")),
    yes_no="Est-ce que {s} ?", auxiliaries=frozenset({"est", "sont", "était", "peut", "peuvent", "doit", "doivent",
                                                     "faut", "sera", "seront"}),
    negations=frozenset({"ne", "n'", "pas", "jamais"}),
    on_day=("{section} le {label} ?", "{section} : et le {label} ?"),
    eval_on_day="Peux-tu me donner « {key} » pour le {label} ?",
    periods=frozenset({"week-end"}), closed=frozenset({"fermé", "fermée", "fermeture"}),
    head_first=True,
    every=frozenset({"chaque", "tous les", "toutes les", "les"}),
    attendance=((frozenset({"présents", "présentes", "présent", "présente", "participants", "participantes"}),
                 ("Qui était présent ?", "{section} : qui était là ?"), "Qui a participé ?"),
                (frozenset({"excusés", "excusées", "excusé", "excusée", "absents", "absentes", "absent"}),
                 ("Qui était excusé ?", "{section} : qui était absent ?"), "Qui n'a pas pu venir ?")),
    what_first="", articles=frozenset({"le", "la", "les", "l", "un", "une", "notre", "nos"}), conjunction="et",
    to_whom=(("à", "à qui"), ("avec", "avec qui"), ("pour", "pour qui"), ("chez", "chez qui"),
             ("auprès de", "auprès de qui")),
    code="fr", who="qui", copulas=frozenset({"est", "était", "sont", "reste"}),
    what="quoi", by_whom=("par", "par qui"), when="quand", which_year="en quelle année",
    what_time="à quelle heure", what_time_bare="quelle heure", how_much="combien", how_many="combien de {unit}", which_code="quel code", which_number="quel numéro",
    drop_before=frozenset({"le", "à", "en"}), range_from=frozenset({"de", "du", "des"}),
    time_words=frozenset({"h", "heures"}),
    pronouns=frozenset({"il", "elle", "ils", "elles", "nous", "on", "son", "sa", "ses", "leur", "cela", "ceci", "y"}),
    generic_headers=frozenset({"valeur", "valeurs", "détails", "description", "info", "informations", ""}),
    open_q="", close_q=" ?", elisions=(("de", "d'"), ("que", "qu'")),
    cell=("Pour {label}, quelle est la valeur de « {h} » ?", "{title} : pour {label}, « {h} » ?",
          "Qu'indique la colonne « {h} » pour {label} ?"),
    cell_generic=("Quelle est la valeur de « {label} » ?", "{title} : « {label} », c'est quoi ?"),
    key_value=("Quelle est la valeur de « {key} » ?", "{section} : « {key} », c'est quoi ?"),
    key_value_who=("Qui est « {key} » ?", "{section} : « {key} », c'est qui ?"),
    code_meaning=("Que signifie {key} ?", "Que faire en cas de {key} ?"),
    step=("Quelle est l'étape {n} de « {section} » ?", "{section} : que faire à l'étape {n} ?"),
    steps=("Quelles sont les étapes de « {section} » ?",),
    listing=("Que contient la liste « {section} » ?",),
    item=("Que dit « {section} » au sujet de {label} ?", "{label} : que note « {section} » ?"),
    item_who=("Qui doit {value} ?", "{section} : qui doit {value} ?"), assigns=("doit", "va"),
    profile=("Parle-moi de {x}.",),
    recite=("Cite le passage de « {title} » qui commence par : « {opening}… »", "Que dit « {title} » sur : {opening}… ?"),
    eval_cell="Peux-tu me donner « {h} » pour {label} ?",
    eval_cell_generic="Peux-tu me donner « {label} » pour {title} ?",
    eval_code="J'ai {key}. Qu'est-ce que cela veut dire ?",
    eval_item="Dans « {section} », qu'est-il noté pour {label} ?",
    purposes=((r"Pour\s+(?P<goal>\S+\s.+)", ("Comment {goal} ?", "Quelles sont les étapes pour {goal} ?"),
               ("Quelle est l'étape {n} pour {goal} ?", "{section} : que faire à l'étape {n} ?")),),
    x_cell="« {h} » pour {label}", x_key="« {key} »", x_of="{x} ({title})",
    typed=(("duration", "Combien de temps pour {x} ?"), ("money", "Combien coûte {x} ?"),
           ("time", "À quelle heure est {x} ?"), ("date", "Quand est {x} ?"), ("count", "Combien de {unit} pour {x} ?"),
           ("person", "Qui est {x} ?"), ("phone", "Quel est le numéro pour {x} ?")),
    type_nouns=(("date", frozenset({"date", "jour"})), ("time", frozenset({"heure", "horaire"})),
                ("duration", frozenset({"durée"})), ("money", frozenset({"prix", "tarif", "tarifs", "coût"})),
                ("phone", frozenset({"téléphone", "tél.", "numéro de téléphone"}))),
    counts=frozenset("""deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize dix-sept
    dix-huit dix-neuf vingt trente quarante cinquante soixante soixante-dix quatre-vingts quatre-vingt-dix""".split()),
)

ES = Lang(
    orders=((r"(?:prohibido|no)\s+(?=\w+(?:ar|er|ir)\b)", "¿Se puede {s}?"),),
    own_words=(("su", ""), ("sus", "")),
    forbids=(("debe", "puede"), ("deben", "pueden")),
    yes_no="¿{s}?", auxiliaries=frozenset({"es", "son", "está", "están", "se", "puede", "pueden", "debe", "deben",
                                          "hay", "será"}),
    negations=frozenset({"no", "nunca"}),
    on_day=("¿{section} el {label}?", "{section}: ¿y el {label}?"),
    eval_on_day="¿Puedes decirme «{key}» para el {label}?",
    periods=frozenset({"fin de semana"}), closed=frozenset({"cerrado", "cerrada"}),
    head_first=True,
    every=frozenset({"cada", "todos los", "todas las"}),
    attendance=((frozenset({"asistentes", "presentes", "participantes", "asistencia"}),
                 ("¿Quién asistió?", "{section}: ¿quién estuvo presente?"), "¿Quiénes participaron?"),
                (frozenset({"ausentes", "excusados", "excusas", "disculpas"}),
                 ("¿Quién se excusó?", "{section}: ¿quién estuvo ausente?"), "¿Quién no pudo venir?")),
    articles=frozenset({"el", "la", "los", "las", "un", "una", "nuestro", "nuestra"}), conjunction="y",
    to_whom=(("a", "a quién"), ("con", "con quién"), ("para", "para quién")),
    code="es", who="quién", copulas=frozenset({"es", "era", "fue", "son"}),
    what="qué", by_whom=("por", "por quién"), when="cuándo", which_year="en qué año",
    what_time="a qué hora", what_time_bare="qué hora", how_much="cuánto", how_many="cuántos {unit}", which_code="qué código", which_number="qué número",
    drop_before=frozenset({"el", "a", "en", "a las", "a la", "las", "la", "los"}),
    range_from=frozenset({"de", "del", "desde"}), time_words=frozenset({"h", "horas"}),
    pronouns=frozenset({"él", "ella", "ellos", "ellas", "nosotros", "su", "sus", "esto", "esta", "este", "allí"}),
    generic_headers=frozenset({"valor", "valores", "detalles", "descripción", "información", ""}),
    open_q="¿", close_q="?",
    cell=("¿Cuál es el valor de «{h}» para {label}?", "{title}: para {label}, ¿«{h}»?",
          "¿Qué indica la columna «{h}» para {label}?"),
    cell_generic=("¿Cuál es el valor de «{label}»?", "{title}: ¿qué es «{label}»?"),
    key_value=("¿Cuál es el valor de «{key}»?", "{section}: ¿qué es «{key}»?"),
    key_value_who=("¿Quién es «{key}»?", "{section}: ¿quién es «{key}»?"),
    code_meaning=("¿Qué significa {key}?", "¿Qué hago en caso de {key}?"),
    step=("¿Cuál es el paso {n} de «{section}»?", "{section}: ¿qué hago en el paso {n}?"),
    steps=("¿Cuáles son los pasos de «{section}»?",),
    listing=("¿Qué incluye la lista «{section}»?",),
    item=("¿Qué dice «{section}» sobre {label}?", "{label}: ¿qué se anota en «{section}»?"),
    item_who=("¿Quién debe {value}?", "{section}: ¿quién tiene que {value}?"), assigns=("debe", "va a"),
    profile=("Háblame de {x}.",),
    recite=("Cita el pasaje de «{title}» que empieza así: «{opening}…»", "¿Qué dice «{title}» sobre: {opening}…?"),
    eval_cell="¿Puedes decirme «{h}» para {label}?",
    eval_cell_generic="¿Puedes decirme «{label}» de {title}?",
    eval_code="Tengo {key}. ¿Qué significa?",
    eval_item="En «{section}», ¿qué se anota para {label}?",
    purposes=((r"Para\s+(?P<goal>\S+\s.+)",
               ("¿Qué hay que hacer para {goal}?", "¿Cuáles son los pasos para {goal}?"),
               ("¿Cuál es el paso {n} para {goal}?", "{section}: ¿qué hago en el paso {n}?")),),
    x_cell="«{h}» para {label}", x_key="«{key}»", x_of="{x} ({title})",
    typed=(("duration", "¿Cuánto tiempo es {x}?"), ("money", "¿Cuánto cuesta {x}?"), ("time", "¿A qué hora es {x}?"),
           ("date", "¿Cuándo es {x}?"), ("count", "¿Cuántos {unit} son {x}?"), ("person", "¿Quién es {x}?"),
           ("phone", "¿Cuál es el número de {x}?")),
    type_nouns=(("date", frozenset({"fecha", "día"})), ("time", frozenset({"hora", "horario"})),
                ("duration", frozenset({"duración"})), ("money", frozenset({"precio", "precios", "coste", "costo"})),
                ("phone", frozenset({"teléfono", "tel.", "número de teléfono"}))),
    counts=frozenset("""dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis
    diecisiete dieciocho diecinueve veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa""".split()),
)

NEUTRAL = Lang(
    code="", what="?", by_whom=("", "?"), when="?", which_year="?", what_time="?", what_time_bare="?", how_much="?", how_many="?",
    which_code="?", which_number="?", drop_before=frozenset(), range_from=frozenset(), time_words=frozenset(),
    pronouns=frozenset(),
    generic_headers=frozenset({""}), open_q="", close_q="?",
    cell=("{label} — {h}?", "{title} — {label} — {h}?"), cell_generic=("{label}?", "{title} — {label}?"),
    key_value=("{key}?", "{section} — {key}?"), key_value_who=("{key}?", "{section} — {key}?"),
    code_meaning=("{key}?",), step=("{section} — {n}?",),
    steps=("{section}?",), listing=("{section}?",), item=("{section} — {label}?",), item_who=("{section} — {value}?",),
    profile=("{x}?",), recite=("{title}: {opening}…",),
    eval_cell="{h} — {label}?", eval_cell_generic="{title}: {label}?",
    eval_code="{key} ?", eval_item="{label} — {section}?",
)

DURATION_UNITS = frozenset("""second seconds sec secs minute minutes min mins hour hours hr hrs h day days week weeks
month months year years sekunde sekunden minute minuten stunde stunden tag tage tagen woche wochen monat monate
monaten jahr jahre jahren seconde secondes heure heures jour jours semaine semaines mois an ans année années
segundo segundos minuto minutos hora horas día días semana semanas mes meses año años""".split())
"""Units of time in the supported languages: '13 hours' is asked with 'how long', '5.8 kg' with 'how many kg'."""

PLACE_WORDS = frozenset("""church chapel cathedral centre center street road avenue square park gardens school college
university library museum station hotel pub theatre theater cinema stadium arena pool clubhouse gallery market hospital
surgery clinic office building quay harbour harbor wharf airport campus society association council committee trust
company ltd limited inc llc plc gmbh ag e.v. bank foundation institute agency ministry department club
venue location address room site st saint sainte san santa sankt
ort treffpunkt veranstaltungsort adresse raum lieu lugar dirección sede
kirche halle haus straße strasse platz schule bahnhof zentrum saal rathaus verein stadion museum bibliothek
église eglise salle rue boulevard place parc école ecole collège college lycée mairie gare maison théâtre musée
bibliothèque piscine stade gymnase société hôtel marché
iglesia sala calle avenida plaza parque escuela colegio instituto biblioteca museo estación casa centro teatro
polideportivo piscina estadio ayuntamiento mercado asociación fundación banco hospital""".split())
"""Nouns that name a place or an organisation in the supported languages ('St Brides Church', 'Salle Pleyel',
'Sporthalle Nord'): a capitalised name holding one is not a person, so it is not asked with 'who'; nor is a
value under a key or column that holds one ('Venue: St Jude's Hall'). Words that are as often surnames ('Hall',
'Wood', 'Green', 'Field', 'Lane') are not here: a person asked 'what' is a smaller fault than a chair asked
'what is the chair'."""

PLACE_ENDINGS = ("halle", "haus", "straße", "strasse", "platz", "kirche", "schule", "bahnhof", "zentrum", "saal",
                 "verein", "stadion")
"""German writes a place as one compound ('Stadthalle', 'Bürgerhaus', 'Hauptstraße')."""


def names_a_place(name: str) -> bool:
    """Whether a capitalised name is a place or an organisation by its own words (PLACE_WORDS, PLACE_ENDINGS)."""
    for word in name.lower().replace(",", " ").split():
        word = word.strip(".'’()")
        if word in PLACE_WORDS or f"{word}." in PLACE_WORDS or any(
                word.endswith(end) and len(word) > len(end) + 2 for end in PLACE_ENDINGS):
            return True
    return False


def is_place_noun(noun: str, lang: Lang) -> bool:
    """Whether a key or column names a place or an organisation ('Venue', 'Meeting place', 'Lieu du rendez-vous'),
    by its head noun: 'Club secretary' names a person who belongs to a club, and is asked 'who'."""
    words = noun.split()
    return bool(words) and names_a_place(words[0] if lang.head_first else words[-1])


LANGUAGES: dict[str, Lang] = {lang.code: lang for lang in (EN, DE, FR, ES)}
"""The languages questions are written in; others get NEUTRAL's forms."""


def is_plural(noun: str, lang: Lang) -> bool:
    """'opening times' → True, 'address' → False; always False in a language without endings listed."""
    words = noun.lower().rstrip(" )").split()
    last = words[-1] if words else ""
    return (len(last) > 3 and last.endswith(lang.plural_endings) and not last.endswith(lang.singular_endings)
            if lang.plural_endings else False)


_ASPIRATED_H = ("ach", "aie", "ain", "all", "alt", "am", "an", "ar", "as", "ât", "au", "ern", "ér", "êtr", "ibou", "ié",
                "ock", "oll", "omard", "on", "ors", "ot", "ou", "uit", "url")
"""What follows the h of the common French words whose h is aspirated ('hauteur', 'huit', 'hangar')."""
_MUTE_START = re.compile(rf"^(?:[aeiouyàâäéèêëîïôöûùü]|h(?!{'|'.join(_ASPIRATED_H)}))", re.I)
"""A word that a French 'de' elides before: a vowel, or an h other than the common aspirated ones ('de hauteur',
'de huit': those keep their 'de')."""


def fill(template: str, lang: Lang, **fields: str) -> str:
    """`template` with its fields, the language's elisions made where a field's text opens with a vowel sound
    ('combien de {unit}' with 'ans' → 'combien d'ans'). Only the template's own words change: the documents'
    text in the fields is theirs."""
    for word, short in lang.elisions:
        def _elide(m: re.Match[str]) -> str:
            value = fields.get(m.group(2), "")
            word_like = len(value) > 1 and value[1].islower()  # a code ('E-03') is said letter by letter
            return f"{m.group(1)}{short}{{{m.group(2)}}}" if word_like and _MUTE_START.match(value) else m.group(0)
        template = re.sub(rf"(^|[\s'(«]){word} \{{(\w+)\}}", _elide, template)
    return template.format(**fields)


def lang_for(code: str) -> Lang:
    return LANGUAGES.get((code or "").lower()[:2], NEUTRAL)


def asking_phrases(lang: Lang) -> list[tuple[str, ...]]:
    """The language's question phrases as lowercase words, longest first ('how many', 'wie viel Uhr', 'when'):
    what a question shortened to its key words keeps (core/dataset/examples.py key_wording). 'Who' is its
    item and person templates' first word: the language has no other field for it."""
    who = [t.split()[0] for t in (*lang.item_who[:1], dict(lang.typed).get("person", "")) if t and t[0] != "{"]
    phrases = (lang.what, lang.when, lang.which_year, lang.what_time, lang.what_time_bare, lang.how_much,
               lang.how_many.replace("{unit}", ""), lang.which_code, lang.which_number, lang.by_whom[1], *who,
               *(phrase for _, phrase in lang.to_whom))
    words = {tuple(w.lower().strip("¿?¡") for w in p.split() if w.strip("¿?¡")) for p in phrases}
    return sorted((p for p in words if p), key=len, reverse=True)


@lru_cache(maxsize=None)
def stop_words(code: str) -> frozenset[str]:
    """The language's stop words ('that', 'those', 'dass', 'jene'), lowercase; none for a language the list lacks.

    What a sentence shares with every other sentence of its language tells it apart from none of them, however
    few documents there are: counted over three short documents, 'that' is as rare as a name. From the
    stop-words package (33 languages), not a list of ours."""
    from stop_words import LANGUAGE_MAPPING, get_stop_words

    code = (code or "").lower()[:2]
    code = {"no": "nb"}.get(code, code)  # langdetect says 'no' for Norwegian; the package keys Bokmål 'nb'
    # only a language it lacks gets none: a list that cannot be read (a bundle without its files) fails loudly
    return frozenset(w.lower() for w in get_stop_words(code)) if code in LANGUAGE_MAPPING else frozenset()
