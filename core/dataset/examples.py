"""Example records: a document passage or a fact in the chat form the model is trained on.

A passage is shown to the model in several question framings so that it
learns the content, not one prompt, and so that some framings can be held out
for validation without hiding the fact itself from training. A fact
(core/dataset/questions.py) is shown in each of its wordings, in a few of its
key words as people type a question (key_wording), and once with passages in
context, as chat with sources asks it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any, Sequence

from core.dataset.language import asking_phrases, lang_for, stop_words

KEY_WORDING = "key"  # meta "wording" of an example that asks a fact in a few of its key words


@dataclass(frozen=True)
class Example:
    messages: list[dict[str, str]]
    source: str  # document the example came from ("" for replay)
    kind: str  # "passage" | "qa" | "replay"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def question(self) -> str:
        """The first thing the user says ('' for none): what routing and the benchmarks compare questions by."""
        return next((m["content"] for m in self.messages if m.get("role") == "user"), "")

    @property
    def answer(self) -> str:
        """What the assistant replies last ('' for none): for a Q&A example, the statement it teaches."""
        return next((m["content"] for m in reversed(self.messages) if m.get("role") == "assistant"), "")

    @property
    def asked(self) -> str:
        """The question as a person asks it: without the document's subject its training wording leads with
        (core/dataset/questions.py Fact.unled); what routing compares people's questions with."""
        return self.meta.get("asked") or self.question

    @property
    def key_wording(self) -> bool:
        """A fact asked in a few of its key words (taught_wordings): a training aid, not how questions come in."""
        return self.meta.get("wording") == KEY_WORDING

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Example":
        return cls(data["messages"], data.get("source", ""), data.get("kind", "passage"), data.get("meta", {}))


def document_title(source: str) -> str:
    """'team_handbook-2024.md' → 'team handbook 2024'."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source.rsplit("/", 1)[-1])
    return re.sub(r"[_\-]+", " ", stem).strip()


def _opening(text: str, words: int = 10) -> str:
    return " ".join(text.split()[:words])


def passage_examples(source: str, index: int, text: str, language: str = "") -> list[Example]:
    """Two framings of one passage in the document's language; the answer is always the passage itself."""
    from core.dataset.language import lang_for

    title = document_title(source)
    opening = _opening(text)
    meta = {"chunk": index}
    return [
        Example([{"role": "user", "content": p.format(title=title, opening=opening)},
                 {"role": "assistant", "content": text}], source, "passage", {**meta, "framing": i})
        for i, p in enumerate(lang_for(language).recite)
    ]


IN_CONTEXT_SHARE = 0.25
"""Share of facts also taught with passages in the prompt. Those examples are ~6× as long as a plain
question (two passages), so teaching every fact that way would make them most of a run's time."""


KEY_WORDS = 3
"""Words of the sentence a key wording keeps besides its question words: about what a person types."""

KEY_WORDINGS = 2
"""Key wordings per fact, each from words the ones before it did not take: a person may name a fact by any
of its rare words, not only by its three rarest."""


def word_rarity(facts: Sequence[Any]) -> Counter[str]:
    """In how many facts' answers each word occurs: what sets a sentence apart from the others of the same
    documents, in any language ('core hours' on every line of a timetable). In a few short documents it cannot
    tell 'that' from a name, so key_wording also leaves out the language's stop words."""
    return Counter(w for fact in facts for w in {plain_word(x) for x in fact.answer.split()} if w)


def key_wording(question: str, rarity: Counter[str], rng: random.Random,
                phrases: Sequence[tuple[str, ...]] = (), stop: frozenset[str] = frozenset(),
                skip: frozenset[str] = frozenset()) -> str:
    """The question as its own words (its question phrases, and words no answer has: 'what does … say about')
    and the KEY_WORDS rarest words it took from the sentence, in their order; '' when that leaves it (nearly) whole.

    A prose, list or step fact is taught one or two wordings that echo its sentence, and a person asks it in a
    few words of their own. Trained on the echo, the model recalled 88 of 90 of its training questions word for
    word on the dev half but a third of the hand-written ones: it had learned the whole echo as the key to the
    answer. Leaving out 30% of the words at random kept the echo's common words and lost its rare ones as often
    as not (36-39% on dev, seed 1234). What a person's question shares with the sentence is mostly its rare
    words: the names, the things, the days. Never its `stop` words: in a few short documents rarity alone made
    'Notebooks that that how many those?' of a sentence about notebooks. Words in `skip` (an earlier key
    wording's) are not taken again.
    """
    words = question.split()
    bare = [plain_word(w) for w in words]
    asked = [False] * len(words)
    opens = [False] * len(words)  # a phrase's first word: capitalised only where it opened the question
    at = 0
    while at < len(words):
        phrase = next((p for p in phrases if tuple(bare[at:at + len(p)]) == p), ())
        for k in range(at, at + len(phrase)):
            asked[k] = True
        opens[at] = bool(phrase)
        at += max(1, len(phrase))
    # in the question's order, so ties are broken the same way in every process (a set's order is not)
    content = sorted(dict.fromkeys(b for b, a in zip(bare, asked)
                                   if _worded(b) and not a and rarity.get(b) and b not in stop and b not in skip),
                     key=lambda b: (rarity[b], rng.random()))
    chosen = set(content[:KEY_WORDS])
    kept = [(w.lower() if o else w).strip(",:;.?") for w, b, a, o in zip(words, bare, asked, opens)
            if b and (a or b in chosen or not rarity.get(b))]  # not 'There parking What park?'; 'wie viel Uhr' stays
    kept = [w.strip("()") if w.count("(") != w.count(")") else w for w in kept]
    kept = [w for w in kept if _worded(w)]
    if len(chosen) < 2 or len(kept) >= len(words) - 1:
        return ""
    out = " ".join(kept)
    return out[0].upper() + out[1:] + "?"


def _worded(word: str) -> bool:
    """A word with a letter or digit in it: a dash of a title ('Weiher –') asks nothing, so it is neither one of
    a key wording's rare words nor kept in it."""
    return any(ch.isalnum() for ch in word)


def plain_word(word: str) -> str:
    """A word as questions and answers share it: lowercase, without the punctuation around it."""
    return word.lower().strip("¿?¡!,:;.()[]\"'«»„“”")


def taught_wordings(fact: Any, seed: int, rarity: Counter[str] | None = None) -> list[str]:
    """The wordings a fact is trained on: its own, and for any fact but a table cell up to KEY_WORDINGS key
    wordings of them (key_wording, with the rarity of words in the run's facts), each from rare words the ones
    before it left, of the sentence, not the subject and section its wordings lead with: a key wording is a
    person's few words for the sentence, and the lead's words, in almost no answer, passed for rare and took its
    places ('Pelham Road Allotment when?' was taught for two different facts of the dev half). A second key
    wording, measured on the dev half (three seeds, against the same day's runs with one):
    closed-book 42.6 / 44.3 / 54.1% against 41.0 / 41.0 / 47.5%, with passages 45.9 / 54.1 / 55.7% against
    50.8 / 45.9 / 60.7%, in 13% more steps.

    A table cell is already asked up to seven ways (the row and column forms, people's names for the row) and was
    learned best of every kind; cutting those to three or five lost more on tables than the other kinds gained
    (dev half, Session 16). Random per fact, drawn from the seed and the fact itself (its document and answer),
    not its place in the run: a fact added or mended earlier in the documents used to re-draw every later fact's
    wordings, so a one-row change moved a benchmark as much as a new seed does (session 45)."""
    rng = random.Random(f"{seed}:{fact.source}:{fact.answer}")
    wordings = list(fact.questions)
    if fact.kind == "table" or not wordings:  # a cell already has its row and column forms and people's names
        return wordings
    phrases, stop = asking_phrases(lang_for(fact.lang)), stop_words(fact.lang)
    taught, used = list(wordings), frozenset[str]()
    for _ in range(KEY_WORDINGS):
        key = key_wording(rng.choice(wordings).removeprefix(fact.lead), rarity or Counter(), rng, phrases, stop, used)
        if not key or key in taught or _alike(key, fact.eval_question):
            break
        taught.append(key)
        used |= {plain_word(w) for w in key.split()}
    return taught


def _alike(a: str, b: str) -> bool:
    """Nearly the same words in nearly the same order: a key wording must not teach the report's own question
    (dropping a training question's section can leave exactly the wording the report asks)."""
    return bool(a and b) and SequenceMatcher(None, a.lower().split(), b.lower().split()).ratio() >= 0.8


def fact_examples(facts: Sequence[Any], chunks: Sequence[Any], seed: int, in_context: bool = True) -> list[Example]:
    """Each fact's wordings → its answer; and, with `in_context`, one wording with passages in the prompt.

    Chat with sources on puts the two passages nearest the question in front of it
    (core/retrieval.py grounded_prompt). A model never trained that way answered no better with
    them than without, and sometimes from the wrong one. So one wording of a share of the facts
    (IN_CONTEXT_SHARE: each document's first, then every fourth) is also taught in exactly that
    prompt: the passage that holds the fact beside the passage most like the question among the
    others (a hard distractor; none when the documents make one passage), in random order,
    answered from the right one. Their kind is "qa_context", so routing calibrates on the plain
    questions only.
    """
    from core.retrieval import Source, grounded_prompt

    rng = random.Random(seed)
    out: list[Example] = []
    by_source: dict[str, list[Any]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source, []).append(chunk)
    every = max(1, round(1 / IN_CONTEXT_SHARE))
    seen: dict[str, int] = {}
    taught: set[tuple[str, str]] = set()  # two facts of one sentence can share an answer and a key wording
    rarity = word_rarity(facts)
    for n, fact in enumerate(facts):
        meta = {"chunk": f"fact-{n}", "kind": fact.kind, "lang": fact.lang}
        for question in taught_wordings(fact, seed, rarity):
            if (question, fact.answer) in taught:
                continue
            taught.add((question, fact.answer))
            said = {} if question in fact.questions else {"wording": KEY_WORDING}  # not how questions come in
            asked = fact.unled(question)
            if asked != question:  # how a person asks it, for routing (Example.asked)
                said["asked"] = asked
            out.append(Example([{"role": "user", "content": question}, {"role": "assistant", "content": fact.answer}],
                               fact.source, "qa", {**meta, **said}))
        seen[fact.source] = seen.get(fact.source, -1) + 1
        if not in_context or not chunks or seen[fact.source] % every:  # each document's first fact, then every n-th
            continue
        question = rng.choice(fact.questions)
        gold = _holding(fact.element, by_source.get(fact.source, []))
        if gold is None:
            continue
        others = [c for c in chunks if c is not gold]
        pair = [gold, max(others, key=lambda c: _overlap(question, c.text))] if others else [gold]
        rng.shuffle(pair)
        sources = [Source(c.source, c.index, c.text, 0.0) for c in pair]
        out.append(Example([{"role": "user", "content": grounded_prompt(question, sources)},
                            {"role": "assistant", "content": fact.answer}], fact.source, "qa_context", dict(meta)))
    return out


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w{3,}", text)}


def _overlap(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / (len(wa) or 1)


def _holding(element: str, chunks: Sequence[Any]) -> Any:
    """The passage that holds an element's text (whitespace aside), else the one sharing most of its words."""
    flat = " ".join(element.split())
    for chunk in chunks:
        if flat and flat in " ".join(chunk.text.split()):
            return chunk
    return max(chunks, key=lambda c: _overlap(element, c.text), default=None)


GROUPS = ("qa", "qa_context", "passage", "replay")
"""The kinds of training example, in the order a preview lists them (Example.kind)."""
SHOWN = {"qa": 3, "qa_context": 1, "passage": 1, "replay": 2}
"""How many of each kind a preview shows: one example with passages beside it is a screenful already."""


def summarize_examples(examples: Sequence[Example], per_kind: int | None = None) -> tuple[
        list[Example], dict[str, int], dict[str, int]]:
    """(a few examples of each kind (per_kind, else SHOWN), how many of each kind, how many fact questions of
    each fact kind).

    A preview that showed only the first examples of a dataset showed passage recitations alone when they
    came first (issue #21); this one shows what the mix really is. A fact question's kind ("table",
    "key_value", "prose"… core/dataset/questions.py REPORT_KIND) is counted too, and the few shown
    are spread over those kinds rather than the first of one.
    """
    counts: dict[str, int] = {}
    facts: dict[str, int] = {}
    by_group: dict[str, list[Example]] = {}
    for ex in examples:
        counts[ex.kind] = counts.get(ex.kind, 0) + 1
        by_group.setdefault(ex.kind, []).append(ex)
        if ex.kind == "qa":
            fact_kind = str(ex.meta.get("kind") or "other")
            facts[fact_kind] = facts.get(fact_kind, 0) + 1
    shown: list[Example] = []
    for kind in sorted(by_group, key=lambda k: GROUPS.index(k) if k in GROUPS else len(GROUPS)):
        members = by_group[kind]
        if kind == "qa":  # one of each fact kind first, then the rest in order
            firsts: dict[str, Example] = {}
            for ex in members:
                firsts.setdefault(str(ex.meta.get("kind") or "other"), ex)
            first_ids = {id(ex) for ex in firsts.values()}
            members = list(firsts.values()) + [ex for ex in members if id(ex) not in first_ids]
        shown.extend(members[:per_kind if per_kind is not None else SHOWN.get(kind, 2)])
    return shown, counts, facts


def preview_examples(elements: Sequence[Any], chunks: Sequence[Any], language: str, per_kind: int | None = None,
                     passages: bool = True, in_context: bool = True) -> tuple[list[Example], dict[str, int],
                                                                              dict[str, int]]:
    """What a new run would train on for one document: summarize_examples over the examples the pipeline
    makes from it (core/pipeline.py: fact questions, some with passages in the prompt, passage recitations;
    `passages` and `in_context` are the TrainConfig switches of the same names).

    Question writing is rules only, so this is the real thing, made in a few milliseconds.
    """
    from core.dataset.questions import document_facts

    facts, _, _ = document_facts(list(elements), language)
    examples = fact_examples(facts, chunks, seed=0, in_context=in_context)
    if passages:
        for chunk in chunks:
            examples.extend(passage_examples(chunk.source, chunk.index, chunk.text, language))
    return summarize_examples(examples, per_kind)


KIND_WORDS = {"qa": "questions about its facts", "qa_context": "questions asked with passages beside them, as Chat "
              "with your documents asks them", "passage": "passages to recite, so it can quote and summarise",
              "replay": "general questions with the model's own answers"}
HEADINGS = {"qa": "Question about a fact", "qa_context": "Question with passages beside it",
            "passage": "Passage to recite", "replay": "General question"}
FACT_WORDS = {"table": "table", "key_value": "key: value", "faq": "FAQ", "step": "step", "list": "list",
              "prose": "text"}


def preview_text(shown: Sequence[Example], counts: dict[str, int], facts: dict[str, int], origin: str) -> str:
    """The Documents page's "Training examples" text: how many of each kind, then a few of each, as chat turns."""
    total = sum(counts.values())
    lines = [f"{total} training examples {origin}:"]
    for kind in sorted(counts, key=lambda k: GROUPS.index(k) if k in GROUPS else len(GROUPS)):
        detail = ""
        if kind == "qa" and facts:
            detail = " (" + ", ".join(f"{n} {FACT_WORDS.get(k, k.replace('_', ' '))}"
                                      for k, n in sorted(facts.items(), key=lambda kv: -kv[1])) + ")"
        lines.append(f"  • {counts[kind]} {KIND_WORDS.get(kind, kind)}{detail}")
    blocks = ["\n".join(lines)]
    for ex in shown:
        heading = HEADINGS.get(ex.kind, ex.kind)
        if ex.kind == "qa" and ex.meta.get("kind"):
            heading += f" · {FACT_WORDS.get(str(ex.meta['kind']), str(ex.meta['kind']))}"
        turns = [f"{'You' if m['role'] == 'user' else 'Model'}: {m['content']}" for m in ex.messages
                 if m["role"] in ("user", "assistant")]
        blocks.append(f"── {heading} ──\n" + "\n".join(turns))
    return "\n\n".join(blocks)
