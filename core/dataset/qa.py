"""Grounded question–answer pairs from document facts, made offline by the model itself.

Asking a small model to write Q&A about a whole passage gives mostly
off-target questions (measured here: recall fell to about a quarter). So we
work one sentence ("fact") at a time: the model only writes questions
(few-shot, naming the topic), and the answer is always the source sentence
itself, so an answer can never be invented. A question is kept only when it
is grounded in its fact by a check anyone can read (`grounded`): its content
words are mostly in the fact, and what it asks for (a year, a number, a
name) is there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from core.documents.chunking import split_sentences
from core.events import never_stop

STOPWORDS = set("""
a an the of in on at to for from by with and or but is are was were be been being it its this that these those
what which who whom whose when where why how does did do done has have had can could would should will may might
there their they them he she his her him you your we our us i me my not no as into than then so such about also
much many name named called one any each some more most other same own only very s t just over under up down out
""".split())
WH_TYPES = {
    "when": "year", "year": "year", "how many": "number", "how much": "number", "how long": "number",
    "how far": "number", "how old": "number", "how high": "number", "how tall": "number", "how often": "number",
    "who": "name", "whom": "name",
}

FEW_SHOT = [
    {"role": "user", "content": "Topic: Harbor Lane Bakery\nFact: It was founded in 1987 by Marta Okonkwo in the town "
                                "of Pellridge.\nWrite three different questions about the topic that this fact answers. "
                                "Name the topic in each question."},
    {"role": "assistant", "content": "1. Who founded Harbor Lane Bakery?\n2. In which year was Harbor Lane Bakery "
                                     "founded?\n3. In which town was Harbor Lane Bakery founded?"},
]


@dataclass(frozen=True)
class Fact:
    topic: str
    sentence: str  # the answer: the sentence, references to the topic resolved, after its context if it needs one
    source: str
    chunk: int
    context: str = ""  # the sentence before, when this one only makes sense after it ("Its orbit…", "The mirror…")


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    source: str
    chunk: int
    keys: list[str] = field(default_factory=list)  # what a correct answer must contain (for held-out grading)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][A-Za-z0-9\-']*", text.lower())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _words(text) if w not in STOPWORDS and len(w) > 1}


def topic_of(source: str, first_chunk: str) -> str:
    """A document's subject: its heading when it has one, else its file name."""
    first = first_chunk.strip().split("\n", 1)[0].strip().lstrip("#").strip()
    first = re.split(r"\s*[—–:]\s|\s-\s", first)[0].strip()
    if 1 <= len(first.split()) <= 8 and not first.endswith("."):
        return first
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source.rsplit("/", 1)[-1])
    return re.sub(r"[_\-]+", " ", stem).strip().title()


def _with_the(topic: str) -> str:
    """'Orrin Valley Observatory' → 'the Orrin Valley Observatory'; a topic that has its article keeps it."""
    return topic if topic.lower().startswith("the ") else f"the {topic}"


def _names_only_topic(name: str, topic_words: set[str]) -> bool:
    """'Orrin Valley Observatory's' within its own document: asking for it teaches nothing."""
    return set(_words(name.replace("'s", ""))) <= topic_words


def resolve_pronoun(sentence: str, topic: str) -> str:
    """'It was opened in 1968' → 'The Orrin Valley Observatory was opened in 1968'."""
    the = _with_the(topic)
    if re.match(r"^It\b", sentence):
        return the[0].upper() + the[1:] + sentence[2:]
    if re.match(r"^Its\b", sentence):
        return the[0].upper() + the[1:] + "'s" + sentence[3:]
    return sentence


def resolve_topic_noun(sentence: str, topic: str) -> str:
    """'The observatory's café…' → 'The Orrin Valley Observatory's café…'.

    Documents name their subject once and then say "the company"; a fact that
    keeps "the company" teaches the model something about no company in
    particular, and a question naming the company cannot reach it.
    """
    words = topic.split()
    if len(words) < 2:
        return sentence
    head = words[-1].lower()
    full = topic[4:] if topic.lower().startswith("the ") else topic

    def name(m: re.Match[str]) -> str:
        return f"{m.group(1)} {full}"
    return re.sub(rf"\b([Tt]he) {re.escape(head)}\b(?!\s+[A-Z])", name, sentence)


def mentions_topic(sentence: str, topic: str) -> bool:
    return bool(content_words(topic) & content_words(sentence))


def _needs_previous(sentence: str, prev: str, topic: str) -> bool:
    """'Its orbit…' after a sentence about a comet; 'The mirror was cast…' after the one naming the telescope."""
    if not prev:
        return False
    if re.match(r"^(It|Its)\b", sentence):
        return not _about(prev, topic)
    m = re.match(r"^The ([a-z]+)\b", sentence)
    return bool(m) and not mentions_topic(sentence, topic) and m.group(1) in prev.lower()


def facts_from_chunks(chunks: Sequence[Any]) -> list[Fact]:
    """One Fact per informative sentence (≥ 6 words), de-duplicated.

    A sentence that only makes sense after the one before ("Its orbit brings
    it back…" after a sentence about a comet; "The mirror was cast…" after the
    one naming the telescope) keeps that sentence as its context, so the fact
    stays true on its own.
    """
    firsts: dict[str, str] = {}
    for c in chunks:
        firsts.setdefault(c.source, c.text)
    seen: set[str] = set()
    facts = []
    for c in chunks:
        topic = topic_of(c.source, firsts[c.source])
        for para in c.text.split("\n"):
            previous = ""
            for sentence in split_sentences(para.strip()):
                sentence = resolve_topic_noun(sentence.strip().lstrip("-*• ").strip(), topic)
                prev, previous = previous, sentence
                if not _informative(sentence) or sentence in seen:
                    continue
                seen.add(sentence)
                if _needs_previous(sentence, prev, topic):
                    facts.append(Fact(topic, f"{prev} {sentence}", c.source, c.index, context=prev))
                else:
                    facts.append(Fact(topic, resolve_pronoun(sentence, topic), c.source, c.index))
    return facts


def _informative(sentence: str) -> bool:
    """A whole sentence of six words or more, or a shorter one that names something ('Its chairwoman is Odile Brannagh.')."""
    if sentence[-1:] not in ".!?":
        return False
    n = len(sentence.split())
    return n >= 6 or (n >= 4 and bool(re.search(r"\d|(?<!^)\b[A-Z][a-z]", sentence)))


def _about(sentence: str, topic: str) -> bool:
    """Whether the sentence's subject is the topic ("It…", "The observatory…"), not merely mentions it."""
    head = sentence.lower()
    name = topic.lower().removeprefix("the ")
    return bool(re.match(r"^(it|its)\b", head)) or head.removeprefix("the ").startswith(name)


def _parse_questions(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        q = re.sub(r"^\s*(\d+[.)]|[-*•])\s*", "", line).strip()
        if q.endswith("?") and 3 <= len(q.split()) <= 30:
            out.append(q)
    return out


def key_terms(fact: str, question: str) -> list[str]:
    """Names and numbers the fact has and the question does not: what a right answer must say."""
    asked = set(_words(question))
    numbers = [n for n in re.findall(r"\d[\d.,]*\d|\d", fact) if n not in asked]
    names = [m for m in re.findall(r"(?:[A-Z][a-z\-']+)(?:\s+[A-Z][a-z\-']+)*", fact)
             if not set(_words(m)) & asked and m.lower() not in STOPWORDS]
    return [k.rstrip(".,") for k in numbers + names]


def grounded(question: str, fact: Fact) -> tuple[bool, str]:
    """Keep a question only if its fact really answers it."""
    q_words = content_words(question) - content_words(fact.topic)
    f_words = content_words(fact.sentence)
    if not q_words:
        return False, "asks nothing beyond the topic"
    missing = q_words - f_words
    if len(missing) * 2 >= len(q_words):
        return False, f"mostly about words not in the fact: {', '.join(sorted(missing))}"
    ql = question.lower()
    for cue, kind in WH_TYPES.items():
        if re.search(rf"\b{cue}\b", ql):
            if kind == "year" and not re.search(r"\b1\d{3}\b|\b20\d{2}\b", fact.sentence):
                return False, "asks for a year the fact does not give"
            if kind == "number" and not re.search(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twice|once)\b", fact.sentence.lower()):
                return False, "asks for a number the fact does not give"
            if kind == "name" and not re.search(r"(?<!^)\b[A-Z][a-z]+", fact.sentence):
                return False, "asks for a name the fact does not give"
            break
    if not key_terms(fact.sentence, question) and not missing:
        # The question already contains everything the fact says: nothing to learn.
        return False, "the question already holds the answer"
    return True, ""


def question_prompt(fact: Fact) -> list[dict[str, str]]:
    return FEW_SHOT + [{"role": "user", "content": f"Topic: {fact.topic}\nFact: {fact.sentence}\nWrite three different "
                                                    "questions about the topic that this fact answers. Name the topic "
                                                    "in each question."}]


def make_pairs(facts: Sequence[Fact], generate: Callable[[list[list[dict[str, str]]]], list[str]],
               should_stop: Callable[[], bool] = never_stop) -> tuple[list[QAPair], dict[str, int]]:
    """Ask `generate` for questions about each fact; keep the grounded ones, de-duplicated."""
    replies = generate([question_prompt(f) for f in facts])
    pairs: list[QAPair] = []
    stats = {"facts": len(facts), "generated": 0, "kept": 0, "ungrounded": 0, "duplicates": 0}
    seen: set[str] = set()
    for fact, reply in zip(facts, replies):
        for q in _parse_questions(reply):
            stats["generated"] += 1
            key = " ".join(_words(q))
            if key in seen:
                stats["duplicates"] += 1
                continue
            ok, _why = grounded(q, fact)
            if not ok:
                stats["ungrounded"] += 1
                continue
            seen.add(key)
            pairs.append(QAPair(q, fact.sentence, fact.source, fact.chunk, key_terms(fact.sentence, q)))
            stats["kept"] += 1
    return pairs, stats


# --- Questions by rule -------------------------------------------------------------------
# Measured here: the demo model's own questions were mostly generic ("What is
# the <topic>?") and 11 of 81 survived the grounding check. Questions made by
# turning a fact's names and numbers into question words are grounded by
# construction and ask for exactly what the fact states.

_SPAN = re.compile(
    r"(?P<year>\b(?:1[5-9]|20)\d{2}\b)"
    r"|(?P<number>\b\d[\d.,]*(?:\s+(?:[a-z]+))?)"
    r"|(?P<name>(?<![.!?]\s)(?<!^)\b[A-Z][a-z']+(?:-[A-Z]?[a-z']+)*(?:\s+(?:of\s+|de\s+)?[A-Z][a-z']+(?:-[A-Z]?[a-z']+)*)*)"
)


def _wh(kind: str, span: str, before: str) -> tuple[str, str]:
    """(text to remove before the span, question phrase)."""
    prev = before.rstrip().rsplit(" ", 1)[-1].lower() if before.strip() else ""
    if kind == "year":
        return ("in", "in which year") if prev == "in" else ("", "which year")
    if kind == "number":
        parts = span.split()
        unit = parts[1] if len(parts) > 1 else ""
        return "", f"how many {unit}".strip()
    if prev == "by":
        return "by", "by whom"
    return "", "what"


AUXILIARIES = {"is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would"}
PREPOSITIONS = {"in", "on", "at", "from", "to", "by", "of", "for", "with", "down", "near", "into", "through", "across"}


def fronted(before: str, phrase: str, after: str, kind: str = "year") -> list[str]:
    """Echo question → the word order people use, when the sentence has an auxiliary verb.

    'X was opened in' + 'in which year' + 'by Y' → 'In which year was X opened by Y?' and the short
    'In which year was X opened?'. Sentences without one ('X stands on what') keep only the echo form:
    moving a plain verb needs do-support and its base form, which a rule gets wrong too often.
    """
    words = before.split()
    idx = next((i for i, w in enumerate(words) if w.lower() in AUXILIARIES), None)
    if idx is None or idx == 0 or "," in before:
        return []
    subject, aux, middle = " ".join(words[:idx]), words[idx].lower(), words[idx + 1:]
    if middle and middle[-1].lower() in ("the", "a", "an"):
        middle = middle[:-1]
    if middle and middle[-1].lower() in ("and", "or"):
        return []
    if kind == "name" and middle and middle[-1].lower() not in PREPOSITIONS | {"called", "named"} | AUXILIARIES:
        return []  # 'the engineer Rupert Castellane': the name stands beside a noun, 'what' cannot replace it
    if kind == "name" and after.split() and after.split()[0].isalpha() and after.split()[0].islower() \
            and after.split()[0] not in PREPOSITIONS | {"and", "or", "who", "which", "whose"}:
        return []  # 'on Thursday evenings': the name qualifies the noun after it
    lead = phrase
    if middle and middle[-1].lower() in PREPOSITIONS and not phrase.startswith(middle[-1].lower()):
        lead, middle = f"{middle[-1].lower()} {phrase}", middle[:-1]
    if subject.split()[0] in ("The", "A", "An") or len(subject.split()) == 1:
        subject = subject[0].lower() + subject[1:]
    tail = re.split(r",| and | who | which | whose ", after)[0].strip()
    forms = [f"{lead} {aux} {subject} {' '.join(middle)} {tail}", f"{lead} {aux} {subject} {' '.join(middle)}"]
    out = []
    for form in forms:
        form = re.sub(r"\s+", " ", form).strip().rstrip(" ,;")
        form = form[0].upper() + form[1:] + "?"
        if form not in out:
            out.append(form)
    return out


def cloze_questions(fact: Fact, limit: int = 3) -> list[tuple[str, list[str]]]:
    """Questions for up to `limit` names and numbers of a fact, each with its key (what the answer must say).

    Every span gets the echo form ('The observatory was opened in which year by Beatrix Molnar?') and,
    where fronted() can, the natural ones ('In which year was the observatory opened?'), so the fact is
    learned from several wordings, not one.
    """
    context = fact.context.rstrip(". ")
    sentence = fact.sentence[len(fact.context):].strip().rstrip(".!? ")
    if not context and not mentions_topic(sentence, fact.topic):
        # "A tour costs 12 francs": the question names whose tour, or it teaches a fact about nothing.
        context = f"About {_with_the(fact.topic)}:"
    topic_words = set(_words(fact.topic))
    out: list[tuple[str, list[str]]] = []
    spans = 0
    for m in _SPAN.finditer(sentence):
        kind = m.lastgroup or "name"
        span = m.group(0).strip()
        if kind == "name" and _names_only_topic(span, topic_words):
            continue  # asking "what" for the topic itself gives nothing to learn
        before, after = sentence[: m.start()], sentence[m.end():]
        drop, phrase = _wh(kind, span, before)
        if drop and before.rstrip().lower().endswith(drop):
            before = before.rstrip()[: -len(drop)]
        if kind == "number":  # 'how many' + the rest of its noun: 'how many farming families'
            rest = after.split()
            noun = []
            while rest and len(noun) < 2 and rest[0].isalpha() and rest[0].islower() and rest[0] not in PREPOSITIONS:
                noun.append(rest.pop(0))
            phrase_full, after_full = " ".join([phrase, *noun]), " ".join(rest)
        else:
            phrase_full, after_full = phrase, after
        echo = f"{before.rstrip()} {phrase} {after.lstrip()}".strip()
        echo = re.sub(r"\s+", " ", echo).replace(" ,", ",").rstrip(" ,;") + "?"
        forms = [echo[0].upper() + echo[1:], *fronted(before, phrase_full, after_full, kind)]
        key = span.split()[0] if kind == "number" else span
        for question in forms:
            if context.endswith(":"):
                question = f"{context} {question[0].lower() + question[1:]}"
            elif context:  # "Its orbit…": the question needs the sentence that says whose
                question = f"{context}. {question}"
            out.append((question, [key]))
        spans += 1
        if spans >= limit:
            break
    return out


def rule_pairs(facts: Sequence[Fact]) -> list[QAPair]:
    pairs = []
    for fact in facts:
        for question, keys in cloze_questions(fact):
            pairs.append(QAPair(question, fact.sentence, fact.source, fact.chunk, keys))
    return pairs


CALENDAR_WORDS = set("""monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december""".split())


def entity_pairs(facts: Sequence[Fact], max_sentences: int = 4) -> list[QAPair]:
    """'Tell me about the Silver Heron.' → every fact that names it, in document order.

    People ask about the things a document names (a locomotive, a telescope, a
    fair), not only about its topic; the sentence-shaped questions all start
    from the topic. A profile per named thing ties its facts to its name.
    Grounded by construction: the answer is the facts' own sentences.
    """
    mentions: dict[str, list[Fact]] = {}
    article: dict[str, str] = {}
    for fact in facts:
        topic_words = set(_words(fact.topic))
        for m in _SPAN.finditer(fact.sentence):
            name = m.group(0).strip()
            if (m.lastgroup != "name" or _names_only_topic(name, topic_words) or len(name) < 3
                    or name.lower() in CALENDAR_WORDS):
                continue
            if fact not in mentions.setdefault(name, []):
                mentions[name].append(fact)
            for after in re.findall(rf"\bthe {re.escape(name)}\b\s*(\w*)", fact.sentence):
                # 'the Silver Heron, built…' names a thing; 'the Dunmore straight' does not name Dunmore
                if not after[:1].islower() or after in PREPOSITIONS | AUXILIARIES | {"and", "or", "set"}:
                    article[name] = "the "
    pairs = []
    for name, group in mentions.items():
        answer = " ".join(f.sentence for f in group[:max_sentences])
        first = group[0]
        for question in (f"Tell me about {article.get(name, '')}{name}.", f"What do you know about {article.get(name, '')}{name}?"):
            pairs.append(QAPair(question, answer, first.source, first.chunk, []))
    return pairs


def split_heldout(pairs: Sequence[QAPair], seed: int, per_doc: int = 10) -> tuple[list[QAPair], list[QAPair]]:
    """Hold out one wording of some asked-for details, never a detail's only one.

    The held-out wording (the natural, last one: how people ask) is never trained on, so answering
    it shows the fact was learned, not a seen question recalled. The detail's other wordings stay in
    training. Until session 4 every wording of a held-out detail stayed out, so the report measured
    details learned from passages alone; but that withheld ~16 of the documents' details from the
    user's model (3 of the 7 details the recall benchmark's run F missed), a high price for a
    stricter report. The report now measures recall under a new wording, which is what chat asks.
    """
    import random

    rng = random.Random(seed)
    by_fact: dict[str, dict[str, list[QAPair]]] = {}
    for p in pairs:
        by_fact.setdefault(p.answer, {}).setdefault("|".join(p.keys), []).append(p)
    train: list[QAPair] = []
    heldout: list[QAPair] = []
    taken: dict[str, int] = {}
    facts = list(by_fact.values())
    rng.shuffle(facts)
    for by_key in facts:
        groups = [g for k, g in by_key.items() if k and len(g) >= 2]
        src = next(iter(by_key.values()))[0].source
        held = None
        if groups and taken.get(src, 0) < per_doc:
            held = groups[rng.randrange(len(groups))][-1]
            heldout.append(held)
            taken[src] = taken.get(src, 0) + 1
        train.extend(p for g in by_key.values() for p in g if p is not held)
    return train, heldout


def question_key(question: str) -> frozenset[str]:
    """Two wordings with the same content words ask the same thing: a rewrite of a trained question
    whose key is a held-out question's must not be trained on."""
    return frozenset(content_words(question))


def write_heldout(path: Any, pairs: Sequence[QAPair]) -> None:
    import json

    from core.store import atomic_write_text

    atomic_write_text(path, "".join(json.dumps({"q": p.question, "a": p.keys, "doc": p.source, "fact": p.answer},
                                               ensure_ascii=False) + "\n" for p in pairs))


# --- Natural wordings --------------------------------------------------------------------
# Echo questions keep the fact's word order; people ask "When was X opened?".
# The model rewrites each echo question (an easier task than writing questions
# from scratch); a rewrite is kept only if it still asks about the same fact:
# most of its content words come from the echo question and it does not give
# away the answer.

REWRITE_SHOT = [
    {"role": "user", "content": "Rewrite this as a short, natural question:\nHarbor Lane Bakery was founded in which "
                                "year by Marta Okonkwo?"},
    {"role": "assistant", "content": "When was Harbor Lane Bakery founded?"},
    {"role": "user", "content": "Rewrite this as a short, natural question:\nThe bakery's signature loaf is called what?"},
    {"role": "assistant", "content": "What is the name of the bakery's signature loaf?"},
]


def rewrite_prompt(question: str) -> list[dict[str, str]]:
    return REWRITE_SHOT + [{"role": "user", "content": f"Rewrite this as a short, natural question:\n{question}"}]


def natural_rewrite_ok(rewrite: str, pair: QAPair) -> bool:
    rewrite = rewrite.strip().splitlines()[0].strip() if rewrite.strip() else ""
    if not rewrite.endswith("?") or not 3 <= len(rewrite.split()) <= 25:
        return False
    if any(k.lower() in rewrite.lower() for k in pair.keys):
        return False  # gives the answer away
    words = content_words(rewrite)
    if not words:
        return False
    if set(re.findall(r"\d+", rewrite)) - set(re.findall(r"\d+", pair.question)):
        return False  # a number the echo question never had is an invented detail
    if '"' in rewrite or re.search(r"\bwhat\W*\?$", rewrite.lower()):
        return False  # the echo's "what" copied in, not a question
    echo_words = set(_words(pair.question))
    names = re.findall(r"(?<!^)(?<![.?!] )\b[A-Z][A-Za-z\-']+", rewrite)
    if any(n.lower() not in echo_words for n in names):
        return False  # a misspelt or invented name ("Tessalier") would be learned as a fact
    echo_names = {n.lower() for n in re.findall(r"(?<!^)\b[A-Z][A-Za-z\-']+", pair.question)}
    if echo_names and not echo_names & {n.lower() for n in names}:
        return False  # dropped whose fact it is ("the company's headquarters": which company?)
    return len(words - content_words(pair.question)) * 3 <= len(words)  # ≥ 2/3 from the echo question


def natural_pairs(pairs: Sequence[QAPair], generate: Callable[[list[list[dict[str, str]]]], list[str]]) -> list[QAPair]:
    replies = generate([rewrite_prompt(p.question) for p in pairs])
    out = []
    for pair, reply in zip(pairs, replies):
        text = reply.strip().splitlines()[0].strip() if reply.strip() else ""
        if natural_rewrite_ok(text, pair):
            out.append(QAPair(text, pair.answer, pair.source, pair.chunk, pair.keys))
    return out
