"""Questions a person would ask, made by rule from each element of a document, in its language.

What a document states is decided by its structure, not by English sentence patterns: a
table cell is a fact about its row and column, a "Key: value" line about its key, a step
about its procedure, an FAQ pair about its question, a bullet about its heading; running
prose gives its names, numbers, dates, times, prices and codes (spans found by their
shape, which is the same in every language). Each fact gets several wordings from the
document's language (core/dataset/language.py) and an answer that names what it is about
before its value, as the document states it, so the model learns the value *and* what it belongs to.

Measured before this module (issue #14): the old sentence-only rules and the model's own
rewordings answered 5 of 45 realistic questions; rewording took minutes per page.
Rules cost nothing per page, so preparation time no longer grows with the model.

Each fact also carries the report's wording (`eval_question`): the way people name things,
without the lead training questions have; core/dataset/heldout.py picks which facts the report asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Collection, Iterable, Sequence

from core.dataset.language import NEUTRAL, Lang, asking_phrases, fill, is_place_noun, is_plural, lang_for
from core.dataset.spans import FUNCTION_WORDS, ask, echo_question, find_spans, fronted, is_person, key_of, value_type
from core.dataset.verb_second import is_subject, verb_second
from core.dataset.yes_no import named_words, yes_no_question
from core.documents.elements import Element
from core.documents.structure import split_sentences

REPORT_KIND = {"table_row": "table", "key_value": "key_value", "qa": "faq", "step": "step", "list_item": "list",
               "paragraph": "prose", "caption": "prose"}
"""Element kind → the kind the report and the benchmark count by."""


def words_by_kind(elements: Sequence[Element]) -> dict[str, int]:
    """How many of a document's words each report kind holds (headings aside): what people ask about is what
    the documents say, so the report weighs each kind's recall by this (core/evaluation/weighting.py)."""
    out: dict[str, int] = {}
    for el in elements:
        kind = REPORT_KIND.get(el.kind)
        if kind:
            out[kind] = out.get(kind, 0) + len(el.text.split())
    return out


@dataclass
class Fact:
    """One thing a document states, with the questions that ask for it."""

    answer: str
    """What the model is taught to reply: the value with what it belongs to."""
    keys: list[str]
    """What a right answer must contain (graded as a substring), or empty when no short key exists."""
    questions: list[str]
    """Training wordings."""
    kind: str
    """Report kind (REPORT_KIND's values)."""
    source: str
    lang: str
    element: str
    """The element's own text, to find the passage it lives in."""
    eval_question: str = ""
    """The report's wording: people's names for things, no lead; never a training question. '' when none."""
    spoken: list[str] = field(default_factory=list)
    """Training wordings (also in `questions`) that name the thing as people do ('team leader' for 'G3 Team
    leader'); left out for a fact the report asks, whose eval wording names it that way."""
    subject: str = ""
    """The document's subject that its questions lead with (_about); '' where they name it themselves or the
    sentence before leads instead (a context sentence: 'It opens at 6.' is asked after what 'it' is)."""
    lead: str = ""
    """What its led wordings open with to say where it stands (the subject and section: 'Fernhill Tool Library,
    Your visit: '), not what it states; '' when none does."""

    def unled(self, question: str) -> str:
        """`question` without the subject it leads with: how a person asks it, for routing to compare
        questions with. Training names the subject so the model ties the fact to its document; a question
        that names it reaches the documents by its name anyway (core/chat/routing.py)."""
        for joint in (", ", ": "):
            if self.subject and question.startswith(self.subject + joint):
                return question[len(self.subject) + len(joint):]
        return question


# ---------------------------------------------------------------- one element → its facts

def _fill(templates: Iterable[str], lang: Lang, agree: bool = True, **fields: str) -> list[str]:
    """Templates whose fields are all known; a missing title or section drops that wording.

    With `agree`, the verb agrees with a plural field ('What are the opening times?'). The language's
    elisions are always made (language.fill)."""
    out = []
    for t in templates:
        t = _agree(t, lang, fields) if agree else t
        names = re.findall(r"\{(\w+)\}", t)
        if all(fields.get(n) for n in names):
            out.append(fill(t, lang, **fields))
    return out


def as_noun(text: str, lang: Lang) -> str:
    """'Parental leave' → 'parental leave' inside a sentence; German nouns, acronyms and names keep their capitals."""
    first = text.split(" ", 1)[0]
    if lang is not NEUTRAL and not lang.nouns_capitalised and first[:1].isupper() and first[1:].islower() \
            and len(first) > 1:
        return text[0].lower() + text[1:]
    return text


_SEPARATOR = re.compile(r"^(?P<label>[^:—–]{2,60}?)\s*(?::(?!\d)|\s[—–-]\s)\s*(?P<value>\S.*)$")
"""'Priya — send the budget', 'Lockers: bring a coin'; never a clock's colon ('First Saturday, 10:00–13:00')."""
_CODE = re.compile(r"^[A-Z]{1,4}-?\d{1,4}[A-Z]?$")


def value_kind(value: str, noun: str, lang: Lang) -> tuple[str, str]:
    """(type, unit) of the value `noun` names (spans.value_type), read with the noun: a role's value is its
    holder ('Vorsitzender: Dr. Thomas Keller, Tel. …'), a place's never a person ('Venue: St Jude's Hall')."""
    kind, unit = value_type(value, lang)
    if lang.role_endings and noun.lower().endswith(lang.role_endings):
        lead = re.split(r"\s*(?:[,;(]|[—–-]\s)", value.strip(), maxsplit=1)[0]
        if is_person(lead) and not find_spans(lead, lang):
            kind, unit = "person", ""
    if kind == "person" and is_place_noun(noun, lang):  # 'Hall' is as often a surname
        kind = ""
    return kind, unit


def _typed_template(value: str, noun: str, lang: Lang) -> tuple[str, str]:
    """(template, unit) for a value's type, its verb agreeing with `noun` ('When are the days for …?')."""
    kind, unit = value_kind(value, noun, lang)
    if names_type(noun, kind, lang):
        return "", ""  # 'When is the date?': the plain wording asks it ('What is the date?')
    template = dict(lang.typed).get(kind, "")
    return _agree(template, lang, {"x": noun}), unit


def names_type(noun: str, kind: str, lang: Lang) -> bool:
    """Whether `noun` only says what type its value is ('Date', 'Times', 'Uhrzeit'): a typed question about it
    asks nothing ('What time are the times for Early swim?')."""
    return noun.lower().strip() in dict(lang.type_nouns).get(kind, ())


def _agree(template: str, lang: Lang, nouns: dict[str, str]) -> str:
    """The template with its verb made plural where the field a `lang.plural` piece names holds a plural noun."""
    for singular, plural in lang.plural:
        name = re.search(r"\{(\w+)\}", singular)
        if name and singular in template and is_plural(nouns.get(name.group(1), ""), lang):
            template = template.replace(singular, plural)
    return template


def typed_questions(value: str, x: str, title: str, lang: Lang, noun: str = "") -> list[str]:
    """The question word the value's type asks with: a duration 'how long', a price 'how much', a person 'who';
    once about the thing alone and once naming the document's subject too. None for values of no clear type."""
    template, unit = _typed_template(value, noun, lang)
    if not template:
        return []
    out = [fill(template, lang, x=x, unit=unit)]
    if title:
        out.append(fill(template, lang, x=lang.x_of.format(x=x, title=title), unit=unit))
    return out


def spoken_name(text: str, lang: Lang) -> str:
    """How a person names a row, key or item when asking: 'G3 Team leader' → 'team leader', 'Early swim (lanes
    only)' → 'early swim'. Codes and grades (words with digits) and parenthesised detail are what people leave
    out; a name made only of them stays whole. The report's questions name things this way; training asks
    table rows this way too, except for the facts the report asks (core/dataset/heldout.py)."""
    words = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", text).split()
    if words and re.search(r"\d", words[0]) and any(s.kind in ("date", "time") and s.start == 0
                                                     for s in find_spans(" ".join(words), lang)):
        return " ".join(words)  # '12. September' opens with no code: the day is what tells the rows apart
    while len(words) > 1 and re.search(r"\d", words[0]):  # a leading code or grade; 'Grade 3' keeps its number
        words = words[1:]
    name = " ".join(words) if words else text
    return as_noun(name, lang) if name[:1].isupper() and not _is_code_like(name) else name


def _is_code_like(text: str) -> bool:
    return bool(_CODE.match(text)) or (text.isupper() and len(text) > 1)


def eval_typed(value: str, x: str, lang: Lang, noun: str = "") -> str:
    """The report's question for a value of a known type about `x` in people's words, else ''."""
    template, unit = _typed_template(value, noun, lang)
    return fill(template, lang, x=x, unit=unit) if template else ""


def split_label(text: str) -> tuple[str, str] | None:
    """'Priya — send the budget by Friday' → ('Priya', 'send the budget by Friday'); None without a label."""
    m = _SEPARATOR.match(text)
    if not m or len(m.group("label").split()) > 6 or re.search(r"[.!?]", m.group("label")):
        return None
    return m.group("label").strip(), m.group("value").strip()


def _timetable_day(key: str, value: str, lang: Lang) -> str:
    """The day a timetable's line is for, as a question names it ('Tuesday', 'weekends'), where the key is a day
    or a range of days and the value its hours or 'Closed'; '' for any other line."""
    key = key.strip()
    spans = find_spans(value, lang)
    if not ((spans and spans[0].kind == "time" and spans[0].start == 0) or _says_closed(value, lang)):
        return ""
    if key.lower() in lang.periods:
        return as_noun(key, lang)
    days = find_spans(key, lang)
    joins = {",", lang.conjunction} if lang.conjunction else {","}  # 'Samedi et dimanche', 'Sat, Sun'
    whole = bool(days) and all(d.kind == "date" for d in days) and days[0].start == 0 and days[-1].end == len(key) \
        and all(key[a.end:b.start].strip() in joins for a, b in zip(days, days[1:]))
    return (key if lang.calendar_capitalised else key.lower()) if whole else ""


def _says_closed(value: str, lang: Lang) -> bool:
    """A timetable's word for no hours ('Closed', 'Cerrado'), read by the day lines and the schedules alike."""
    return value.strip(" .").lower() in lang.closed


def _attendance(key: str, lang: Lang) -> tuple[tuple[str, ...], str] | None:
    """(templates, report wording) where a key lists who was at a meeting or not ('Present:', 'Apologies:')."""
    said = key.strip().rstrip(":").lower()
    return next(((templates, eval_q) for keys, templates, eval_q in lang.attendance if said in keys), None)


def heading_text(heading: str) -> str:
    """'2.1 Entitlement by grade' → 'Entitlement by grade': section numbers are not how people name a section."""
    return re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[IVX]+\.)\s+(?=\S)", "", heading).strip()


def subject_of(title: str) -> str:
    """'Fernhill Tool Library — Members' Guide' → 'Fernhill Tool Library': what a person names in a question.
    A title set in capitals ('WESTBURY TENNIS CLUB', 'MÉDIATHÈQUE DU VIEUX-PORT') is named as people type it
    ('Westbury Tennis Club', 'Médiathèque du Vieux-Port'): small words in lower case, each part of a hyphenated
    word capitalised; words of three letters or fewer, with no vowel or not all letters, stay ('FC', 'TSV')."""
    subject = re.split(r"\s+[—–:|-]\s+", title, maxsplit=1)[0].strip() if title else ""
    words = subject.split()
    if len(words) >= 2 and subject.isupper():
        subject = " ".join(w.lower() if i and w.lower() in FUNCTION_WORDS
                           else "-".join(map(_typed_as_word, w.split("-"))) for i, w in enumerate(words))
    return subject


def _typed_as_word(word: str) -> str:
    """A word of a title set in capitals as people type it: 'PORT' → 'Port'; 'FC', 'TSV', 'E.V.' stay."""
    vowel = re.search(r"[AEIOUYÄÖÜÉÈÁÍÓÚ]", word)
    return word.capitalize() if len(word) > 3 and word.isalpha() and vowel else word


def _assigned(value: str, el: Element, lang: Lang, section: str, kind: str) -> list[Fact]:
    """'Action: Tom Reid to book the bouncy castle by 1 May' → 'Who will book the bouncy castle by 1 May?' (Tom
    Reid): a task given to a person in minutes, asked as an action item is. A person first (spans.is_person),
    then one of the language's `assigns` words, then the task."""
    if not lang.assigns:
        return []
    words = "|".join(re.escape(w) for w in lang.assigns)
    name = r"[^\W\d_][\w.'’-]*"
    m = re.match(rf"(?P<who>{name}(?:\s{name}){{1,2}})\s+(?:{words})\s+(?P<task>\S.*)$", value)
    if not m or not is_person(m.group("who")):
        return []
    who, task = m.group("who"), m.group("task").rstrip(".!;")
    asked = _fill(lang.item_who, lang, False, section=section, value=task)
    return [Fact(f"{who} — {task}.", [who], asked, kind, el.source, lang.code, el.text)]


def _procedure(section: str, lang: Lang) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(steps templates, step templates, goal) for steps under `section`: a lead-in that says what they are for
    ('To book the hall') is asked by its goal (Lang.purposes), any other section by name."""
    for pattern, steps, step in lang.purposes:
        m = re.fullmatch(pattern, section.strip().rstrip(":"))
        if m:
            return steps, step, m.group("goal").strip()
    return lang.steps, lang.step, ""


def _section(el: Element, title: str) -> str:
    return heading_text(el.section) if el.section else title


def prose_facts(text: str, el: Element, lang: Lang, title: str, kind: str, limit: int = 3,
                where: str | None = None) -> list[Fact]:
    """Each sentence's spans, asked in the echo order (and, in English, the fronted one).

    `where` names what the text is about when its sentences do not (the section, or an FAQ's question).
    """
    if lang is NEUTRAL:
        return []
    facts: list[Fact] = []
    where = _section(el, title) if where is None else where
    subject = subject_of(title)
    previous = ""
    for sentence in split_sentences(text, lang.code):
        sentence = sentence.strip()
        prev, previous = previous, sentence
        if len(sentence.split()) < 3:
            continue
        first = sentence.split()[0].lower().strip(",.")
        context = prev if first in lang.pronouns and prev else ""
        named = where and _mentions(sentence, where)
        shown = "" if named else where
        about = "" if context else _about(subject, shown, sentence)  # a context sentence leads instead
        for body in clauses(sentence.rstrip(".!? ")):
            for span in find_spans(body, lang)[:limit]:  # per clause: a long first clause must not starve the next
                if len(f"{body[:span.start]} {body[span.end:]}".split()) < 2:
                    continue  # the clause is little but the span ('Kestrel Home Appliances.'): 'What?' asks nothing
                if re.search(r"[^\W\d_]-$", body[:span.start]) or re.match(r"-[^\W\d_]", body[span.end:]):
                    continue  # inside a word: 'Under-4s' is asked 'Under- how many s', 'a 3-year' 'a how many -year'
                if _in_short_aside(body, span.start):
                    continue  # 'Service line 0800 … (when, 8:00–18:00)?' asks nothing a person would
                echo = echo_question(body, span, lang, subject=is_subject(body, span, lang))
                if not echo or span.text.lower() in echo.lower():
                    continue
                # An FAQ's question or a section, after the document's subject where the sentence names neither.
                lead = _lead(about, shown)
                prefix = f"{context} " if context else lead
                question = prefix + echo
                natural = "" if context else fronted(body, span, lang) or verb_second(body, span, lang)
                # The statement, subject first (how the passage says it), its clause alone when the sentence has
                # several; its section after it. The model continues the question's subject into the value,
                # the order it read the fact in, instead of producing the value before anything names it.
                answer = f"{context} {body}." if context else f"{body}."
                if where and not named and not context and not where.endswith("?"):
                    answer = f"{answer} ({where})"
                asked = [question] + ([prefix + natural] if natural else [])
                # The report asks without the section or context that training questions lead with, as
                # people do: the natural order (English's auxiliary, German's verb second), else the bare echo.
                ev = natural or (echo if prefix and len(echo.split()) >= 4 else "")
                facts.append(Fact(answer, [span.text], asked, kind, el.source, lang.code, el.text, eval_question=ev,
                                  subject=about, lead="" if context else lead))
    return facts


def _in_short_aside(text: str, at: int) -> bool:
    """Whether position `at` lies inside brackets that hold a detail ('(3 metres)', '(Monday to Friday, 8:00–18:00)'),
    not a clause of its own ('(Herbert Lenz is not standing again after 12 years)'): fewer than five words."""
    opened = text.rfind("(", 0, at)
    if opened < 0 or text.rfind(")", 0, at) > opened:
        return False
    closed = text.find(")", at)
    return len(text[opened + 1: closed if closed >= 0 else len(text)].split()) < 5


def clauses(sentence: str) -> list[str]:
    """'Core hours are 10:00 to 15:00; on Fridays they end at 13:00' → its two clauses, each asked alone.

    A question echoing a whole two-clause sentence is far from anything a person asks; ';' and ' — '
    separate clauses in every supported language. Clauses of fewer than three words stay joined."""
    parts = [p.strip(" ,") for p in re.split(r";\s+|\s[—–]\s", sentence) if p.strip(" ,")]
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return [sentence]
    return parts


def _is_question(header: str, lang: Lang) -> bool:
    """A column headed by a question ('What to do', 'Wer kümmert sich'): its first word is one of the language's
    question words. A phrase's first word counts where it is a question word alone ('what') or no function word
    ('how' of 'how many'), not a preposition some phrases start with ('in' of 'in which year')."""
    starts = {p[0] for p in asking_phrases(lang) if len(p) == 1 or p[0] not in FUNCTION_WORDS}
    first = header.split()[0].lower().strip("¿?¡") if header.split() else ""
    return first in starts


def _question_wordings(label: str, said_as: str, header: str, table: str, lang: Lang) -> tuple[list[str], list[str]]:
    """(questions, spoken) for a cell under a question header, asked by its row and that question: 'E-01: what to
    do?', not 'What is the what to do for E-01?'. Spoken, the row named as people do, where that differs: the
    report's wording for it (no wording of its own otherwise, rather than a training question reworded)."""
    asked = header.strip().rstrip("?:").strip()
    asked = asked[0].lower() + asked[1:] if asked[1:2].islower() else asked
    questions = [ask(f"{label}: {asked}", lang)] + ([ask(f"{table}, {label}: {asked}", lang)] if table else [])
    spoken = [ask(f"{said_as}: {asked}", lang)] if said_as.lower() != label.lower() else []
    return questions, spoken


def _about(subject: str, where: str, text: str) -> str:
    """The document's subject where `text` does not name it (nor `where`, the section it leads with), else ''.

    People name what a document is about when they ask ('the pool', 'the bread maker'); a fact's training
    question led only by its section ('Your visit: …') ties it to nothing a question says, and the model
    answers from whichever document states something alike (seen in the dev runs' misses)."""
    if not subject or subject == where or _mentions(text, subject) or (where and _mentions(where, subject)):
        return ""
    return subject


def _lead(about: str, where: str) -> str:
    """'Fernhill Tool Library, Your visit: ', 'Fernhill Tool Library: Is there parking? ', 'Your visit: ' or ''."""
    if where.endswith("?"):  # an FAQ's question
        return f"{about}: {where} " if about else f"{where} "
    if where:
        return f"{about}, {where}: " if about else f"{where}: "
    return f"{about}: " if about else ""


def _mentions(sentence: str, where: str) -> bool:
    words = {w.lower() for w in re.findall(r"\w{4,}", where)}
    return bool(words & {w.lower() for w in re.findall(r"\w{4,}", sentence)})


def element_facts(el: Element, lang: Lang, title: str) -> list[Fact]:
    """The facts one element states, each with its training wordings and (where its kind has one) an eval wording."""
    kind = REPORT_KIND.get(el.kind)
    if kind is None:
        return []
    section = _section(el, title)
    facts: list[Fact] = []
    if el.kind == "table_row" and len(el.cells) >= 2:
        label_header, label = el.cells[0]
        for header, value in el.cells[1:6]:
            if not label or not any(ch.isalnum() for ch in value):  # '—', '-', '/': the row has nothing there
                continue
            generic = header.lower().strip() in lang.generic_headers
            # 'Specification | Value' tables describe the document's subject: 'the weight of the BM-220'.
            table = (title or section) if generic else heading_text(el.table) if el.table else section
            h, name = as_noun(header, lang), as_noun(label, lang) if generic else label
            fields = dict(h=h, label=name, title=table)
            said_as = spoken_name(label, lang)
            if not generic and _is_question(header, lang):
                questions, spoken = _question_wordings(label, said_as, header, table, lang)
                ev = spoken[:1]
            else:
                questions = _fill(lang.cell_generic if generic else lang.cell, lang, **fields)
                # A header that names the value's type asks about the row itself: 'What time is Early swim?', not
                # 'What time are the times for Early swim?'.
                bare = not generic and names_type(h, value_kind(value, h, lang)[0], lang)
                x = lang.x_key.format(key=name) if generic else label if bare else lang.x_cell.format(h=h, label=label)
                noun = name if generic else said_as if bare else h  # the verb agrees with 'family fun session'
                questions += typed_questions(value, x, subject_of(title), lang, noun=noun)
                if generic:
                    x_eval = lang.x_of.format(x=lang.x_key.format(key=spoken_name(name, lang)),
                                              title=subject_of(title))
                else:
                    x_eval = said_as if bare else lang.x_cell.format(h=h, label=said_as)
                typed_ev = eval_typed(value, x_eval, lang, noun)
                ev = [typed_ev] if typed_ev else _fill(
                    [lang.eval_cell_generic if generic else lang.eval_cell], lang,
                    **{**fields, "label": spoken_name(name, lang) if generic else said_as, "title": subject_of(title)})
                spoken = []
                if not generic and said_as.lower() != label.lower():  # people say 'team leader', not 'G3 Team leader'
                    spoken = _fill(lang.cell[:1], lang, h=h, label=said_as) + typed_questions(value, x_eval, "", lang,
                                                                                             noun)
            # Subject first, then the value, as the row reads: 'Ladder, loan period: 3 days (Loans)'.
            answer = labelled_answer(name if generic else f"{label}, {h}", value, table)
            facts.append(Fact(answer, [key_of(value, lang)], questions + spoken, kind, el.source,
                              lang.code, el.text, ev[0] if ev else "", spoken))
    elif el.kind == "key_value" and el.cells:
        key, value = el.cells[0]
        code = bool(_CODE.match(key.strip()))
        if is_person(key) and value[:1].islower() and section:
            # 'Ann Fielding: brings the music stands' is a note for a person, not a thing her name is
            # ('What is the ann Fielding?'): asked as a list's note for a name is.
            questions = _fill(lang.item, lang, False, section=section, label=key)
            ev = _fill([lang.eval_item], lang, False, section=section, label=key)
            facts.append(Fact(labelled_answer(key, value, section), [key_of(value, lang)], questions, kind, el.source,
                              lang.code, el.text, ev[0] if ev else ""))
            return [f for f in facts if f.questions]
        attendance = _attendance(key, lang)
        if attendance and value[:1].isupper():  # names; "Present: none" is no list of people
            templates, eval_q = attendance
            questions = _fill(templates, lang, False, section=section)
            answer = labelled_answer(key, value, section)
            names = re.split(rf"[,;]| {re.escape(lang.conjunction)} " if lang.conjunction else "[,;]", value)
            first = re.sub(r"\s*\([^)]*\)", "", names[0]).strip()
            facts.append(Fact(answer, [first], questions, kind, el.source, lang.code, el.text, eval_q))  # first named
            return [f for f in facts if f.questions]
        day = _timetable_day(key, value, lang)
        if day and section:
            fields = dict(key=as_noun(section, lang), section=section, label=day)
            ev = _fill([lang.eval_on_day], lang, **fields)
            facts.append(Fact(labelled_answer(key, value, section), [key_of(value, lang)],
                              _fill(lang.on_day, lang, **fields), kind, el.source, lang.code, el.text,
                              ev[0] if ev else ""))
            return [f for f in facts if f.questions]
        facts.extend(_assigned(value, el, lang, section, kind))
        name = key if code else as_noun(key, lang)
        fields = dict(key=name, section=section)
        person = not code and value_kind(value, name, lang)[0] == "person"  # 'What is the conductor?' asks nothing
        questions = _fill(lang.code_meaning if code else lang.key_value_who if person else lang.key_value, lang,
                          **fields)
        if not code:
            typed = typed_questions(value, lang.x_key.format(key=name), subject_of(title), lang, noun=name)
            questions += [q for q in typed if q not in questions]
        said_key = spoken_name(key, lang)
        typed_ev = "" if code else eval_typed(value, lang.x_key.format(key=said_key), lang, said_key)
        ev = [typed_ev] if typed_ev else _fill([lang.eval_code] if code else [lang.eval_cell_generic], lang,
                                               key=name, label=said_key, title=subject_of(title))
        answer = labelled_answer(key, value, "" if code else section)
        facts.append(Fact(answer, [key_of(value, lang)], questions, kind, el.source, lang.code, el.text, ev[0] if ev else ""))
    elif el.kind == "qa" and el.cells:
        q, a = el.cells[0]
        shown = section if section != q else ""
        about = _about(subject_of(title), shown, q)
        lead = _lead(about, shown)
        questions = [q] + ([lead + q] if lead else [])
        keys = [s.text for s in find_spans(a, lang)[:1]]
        facts.append(Fact(a, keys, questions, kind, el.source, lang.code, el.text, subject=about, lead=lead))
        facts.extend(prose_facts(a, el, lang, title, kind, limit=2, where=q))
    elif el.kind == "step":
        where = section
        _, step, goal = _procedure(where, lang)
        questions = _fill(step, lang, False, n=str(el.number), section=where, goal=goal) if el.number else []
        ev: list[str] = []  # nobody asks for step 3 by number: the report asks about what the step says
        answer = f"{el.text} ({where}, {el.number}.)" if where and el.number else el.text
        facts.append(Fact(answer, [key_of(el.text, lang)], questions, kind, el.source, lang.code, el.text,
                          ev[0] if ev else ""))
        facts.extend(prose_facts(el.text, el, lang, title, kind, limit=2))
    elif el.kind == "list_item":
        labelled = split_label(el.text)
        where = section
        if labelled and where:
            label, value = labelled
            questions = _fill(lang.item, lang, False, section=where, label=label)
            # A person's name is said as written ('Gwen', not 'gwen'), and what is noted for them is an action,
            # not a thing their name is ('When is the priya?').
            person = is_person(label, least=1)
            said = label if person else spoken_name(label, lang)
            typed_ev = "" if person else eval_typed(value, lang.x_key.format(key=said), lang, label)
            ev = [typed_ev] if typed_ev else _fill([lang.eval_item], lang, False, section=where, label=said)
            facts.append(Fact(labelled_answer(label, value, where), [key_of(value, lang)], questions, kind, el.source,
                              lang.code, el.text, ev[0] if ev else ""))
            if person and value[:1].islower():  # an action item: who does it
                task = value.rstrip(".!;")
                who = _fill(lang.item_who, lang, False, section=where, value=task)
                facts.append(Fact(f"{label} — {task}.", [label], who, kind, el.source, lang.code, el.text))
        facts.extend(prose_facts(el.text, el, lang, title, kind, limit=2))
    else:  # paragraph, caption
        facts.extend(prose_facts(el.text, el, lang, title, kind))
    return [f for f in facts if f.questions]


def labelled_answer(label: str, value: str, where: str) -> str:
    """The answer to a labelled value: what it belongs to, the value, then where it stands ('Ladder, loan period: 3
    days (Loans)', 'Venue: The Hut (Committee Meeting)'). One wording for table cells, key-value lines and labelled
    list items, so no two rules teach the same fact two ways."""
    return f"{label}: {value}" + (f" ({where})" if where else "")


def yes_no_facts(el: Element, lang: Lang, title: str, common: Collection[str], told: Sequence[str] = (),
                 names: Collection[str] = ()) -> list[Fact]:
    """'Are dogs allowed in the growing areas?' → 'Dogs are not allowed in the growing areas. (Rules)': each
    sentence of a paragraph or list item that no other rule asks about (none of the answers `told` says it), led
    as prose questions are, three at most. No key: the answer is the statement, so the report does not grade it.

    Sentence by sentence, not element by element: a paragraph's lines run together ('Bitte Hausschuhe mitbringen.
    Der Mitgliedsbeitrag beträgt 60 Euro im Jahr. Rauchen ist im Vereinsheim nicht erlaubt.'), and the one with a
    number in it must not leave the rule beside it unasked."""
    kind = REPORT_KIND.get(el.kind)
    if el.kind not in ("paragraph", "list_item") or kind is None:
        return []
    where = _section(el, title)
    facts = []
    for sentence in split_sentences(el.text, lang.code):
        question = "" if _is_told(sentence, told) else yes_no_question(sentence, lang, common, names)
        if not question:
            continue
        if len(facts) == 3:
            break
        named = bool(where) and _mentions(sentence, where)
        shown = "" if named else where
        lead = _lead(_about(subject_of(title), shown, sentence), shown)
        body = sentence.strip().rstrip(".!;")
        answer = f"{body}." + (f" ({where})" if where and not named else "")
        facts.append(Fact(answer, [], [question] + ([lead + question] if lead else []), kind, el.source, lang.code,
                          el.text, lead=lead))
    return facts


def _is_told(sentence: str, answers: Sequence[str]) -> bool:
    """Whether one of `answers` states the sentence, or a clause of it (an answer is a statement, then where it
    stands in brackets)."""
    body = sentence.strip().rstrip(".!;")
    for answer in answers:
        said = re.sub(r"\s*\([^()]*\)$", "", answer.strip()).rstrip(".!;")
        if body and said and (body in answer or said in body):
            return True
    return False


def schedule_facts(elements: Sequence[Element], lang: Lang, title: str) -> list[Fact]:
    """'When is the Martinsumzug?' → its row's day. A schedule's rows are days ('7. November | Martinsumzug'), and
    people ask when a thing happens more than what happens on a day. Asked of a cell that names a thing
    (capitalised, a few words, no number, time or name span in it) and that no other row of its table holds:
    a thing on two days would be taught two answers."""
    template = dict(lang.typed).get("date", "")
    cells: dict[tuple[tuple[str, ...], str, str], list[tuple[Element, str, str]]] = {}
    for el in elements:
        if el.kind != "table_row" or len(el.cells) < 2 or not template:
            continue
        label = el.cells[0][1]
        spans = find_spans(label, lang)
        if not (spans and spans[0].kind in ("date", "time") and spans[0].start == 0):
            continue
        for header, value in el.cells[1:6]:
            if value[:1].isupper() and len(value.split()) <= 6 and not find_spans(value, lang) \
                    and not _says_closed(value, lang):  # 'Cerrado' is no event ('When is Cerrado?')
                cells.setdefault((el.headings, header, value.lower()), []).append((el, label, value))
    facts = []
    for (_, header, _), rows in cells.items():
        if len(rows) != 1:
            continue
        el, label, value = rows[0]
        section = _section(el, title)
        table = heading_text(el.table) if el.table else section
        answer = labelled_answer(f"{label}, {as_noun(header, lang)}", value, table)
        asked = _fill([template], lang, False, x=value)
        facts.append(Fact(answer, [key_of(label, lang)], asked, REPORT_KIND[el.kind], el.source, lang.code, el.text))
    return [f for f in facts if f.questions]


def group_facts(elements: Sequence[Element], lang: Lang, title: str) -> list[Fact]:
    """Whole lists and procedures: 'What are the steps for …?' → every step, in order."""
    groups: dict[tuple[str, tuple[str, ...]], list[Element]] = {}
    for el in elements:
        if el.kind in ("step", "list_item") and (el.section or title):
            groups.setdefault((el.kind, el.headings), []).append(el)
    facts = []
    for (kind, _), items in groups.items():
        if len(items) < 2:
            continue
        where = _section(items[0], title)
        templates, _, goal = _procedure(where, lang) if kind == "step" else (lang.listing, (), "")
        answer = "\n".join(f"{e.number}. {e.text}" if e.number else f"- {e.text}" for e in items[:10])
        asked = _fill(templates, lang, False, section=where, goal=goal)
        facts.append(Fact(answer, [], asked, REPORT_KIND[kind], items[0].source, lang.code, items[0].text))
    return [f for f in facts if f.questions]


def profile_facts(facts: Sequence[Fact], lang: Lang, max_answers: int = 4) -> list[Fact]:
    """'Tell me about the Silver Heron.' → every distinct statement that names it, in document order.

    People ask about the things a document names (a person, a product, a place), not only about
    its sections; a profile ties a name's facts to the name. Names of two words or more, and codes,
    named in two statements or more: a single capitalised word is too often an ordinary word, and a
    name's only statement is already asked about. A name counts where the element itself says it, not
    in the heading an answer carries after it: otherwise a document's title ('Harbour Rowing Club') names
    every statement under it, and 'Tell me about Harbour Rowing Club.' is taught its first two statements,
    which the model then recites for any question that names the club.
    """
    if lang is NEUTRAL:
        return []
    mentions: dict[str, list[str]] = {}
    for fact in facts:
        for span in find_spans(fact.answer, lang):
            if span.text not in fact.element:
                continue  # named only by the heading the answer carries
            if span.kind == "code" or (span.kind == "name" and len(span.text.split()) >= 2):
                answers = mentions.setdefault(span.text, [])
                if fact.answer not in answers:
                    answers.append(fact.answer)
    out = []
    for name, answers in mentions.items():
        if len(answers) < 2:
            continue  # named once: its one statement is already asked about
        first = next(f for f in facts if f.answer == answers[0])
        out.append(Fact("\n".join(answers[:max_answers]), [], _fill(lang.profile, lang, False, x=name), first.kind,
                        first.source, lang.code, first.element))
    return [f for f in out if f.questions]


def distinct_row_labels(elements: Sequence[Element]) -> list[Element]:
    """Rows that share a label ('General swim' on weekdays and at weekends) are told apart by their next cell.

    Otherwise the same question ('the times for General swim') would be taught two answers.
    """
    counts: dict[tuple[tuple[str, ...], str], int] = {}
    for el in elements:
        if el.kind == "table_row" and len(el.cells) >= 2:
            key = (el.headings, el.cells[0][1])
            counts[key] = counts.get(key, 0) + 1
    out = []
    for el in elements:
        if el.kind == "table_row" and len(el.cells) >= 3 and counts.get((el.headings, el.cells[0][1]), 0) > 1:
            (h0, label), (_, second) = el.cells[0], el.cells[1]
            el = replace(el, cells=((h0, f"{label} ({second})"), *el.cells[1:]))
        out.append(el)
    return out


def document_facts(elements: Sequence[Element], language: str) -> tuple[list[Fact], int, int]:
    """Every fact of one document's elements. Returns (facts, informative elements, elements covered)."""
    lang = lang_for(language)
    title = heading_text(next((e.headings[0] for e in elements if e.headings), ""))
    elements = distinct_row_labels(elements)
    facts: list[Fact] = []
    informative = covered = 0
    seen: set[str] = set()
    common = {w for el in elements for w in re.findall(r"[^\W\d_]+", el.text) if w.islower()}
    names = named_words(el.text for el in elements if el.kind != "heading")  # a title-case heading names no one
    for el in elements:
        if el.kind == "heading" or len(el.text.split()) < 2:
            continue
        informative += 1
        made = [f for f in element_facts(el, lang, title) if f.answer not in seen or f.questions[0] not in seen]
        # a rule or a decision that names nothing to ask for: asked yes or no
        told = [f.answer for f in made]
        made += [f for f in yes_no_facts(el, lang, title, common, told, names) if f.answer not in seen]
        for f in made:
            seen.add(f.answer)
        covered += bool(made)
        facts.extend(made)
    facts.extend(group_facts(elements, lang, title))
    facts.extend(schedule_facts(elements, lang, title))
    facts.extend(profile_facts(facts, lang))
    return facts, informative, covered
