"""The report's questions: which facts the "did it learn?" report asks, and in which words.

A held-out question must be worded unlike any training question and asked the way people ask, or
the report measures how well the model remembers the generator's phrasing (session 6: the report
said 69% where people's questions got 33%). So each fact carries an eval wording that names things
as people do (core/dataset/questions.py spoken_name) and leads with no section; a chosen fact loses
its wordings that name it that way from training; and the facts asked follow what a document holds.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

from core.dataset.questions import Fact


def split_heldout(facts: Sequence[Fact], seed: int, per_doc: int = 12) -> list[Fact]:
    """Choose the facts the report asks, at most `per_doc` a document, each kind and language in proportion
    to how much of the document it is (every kind at least once).

    A fact qualifies in one of two ways, and either way the user's model still learns it:
      * it has a key, an eval wording no other fact shares, and other training wordings: it stays in
        training in those (table rows, key-value lines, English sentences with a natural question);
      * its statement is also the answer of another fact (a sentence asked about several of its parts, a
        step, an FAQ answer): all its own questions leave training, and it is asked in one of them, never
        trained, while the statement is still taught through the other part's questions.
    Before the second way, prose, steps and FAQ pairs, whose facts mostly have a single wording, could not
    be held out: the report asked tables two times in three where the documents' words are a quarter
    tables, and read 57-67% against 33-44% on people's questions.
    """
    rng = random.Random(seed)
    keys_of: dict[str, set[str]] = {}
    for f in facts:
        keys_of.setdefault(f.eval_question or (f.questions[0] if f.questions else ""), set()).update(f.keys[:1])
    taught: dict[tuple[str, str], int] = {}  # (document, statement) → facts still teaching it
    for f in facts:
        if f.questions:
            taught[(f.source, f.answer)] = taught.get((f.source, f.answer), 0) + 1
    by_doc: dict[str, dict[str, list[Fact]]] = {}
    for f in facts:
        if not (f.keys and f.keys[0]):
            continue
        ask = f.eval_question or (f.questions[0] if f.questions else "")
        if not ask or len(keys_of.get(ask, ())) > 1:  # 'general swim' on weekdays and at weekends
            continue
        if _other_wordings(f) or taught.get((f.source, f.answer), 0) > 1:
            by_doc.setdefault(f.source, {}).setdefault(f"{f.kind}/{f.lang}", []).append(f)
    held: list[Fact] = []
    for doc in sorted(by_doc):
        kinds = by_doc[doc]
        for group in kinds.values():
            rng.shuffle(group)
        for name, n in _shares({k: len(v) for k, v in kinds.items()}, per_doc).items():
            for fact in kinds[name]:
                if n == 0:
                    break
                others = _other_wordings(fact)
                if not others:
                    if taught[(fact.source, fact.answer)] < 2:  # its statement's last teacher: keep it
                        continue
                    taught[(fact.source, fact.answer)] -= 1
                    fact.eval_question = fact.eval_question or fact.questions[0]
                # Its eval wording, also where a training wording only put a section or context before it.
                fact.questions = others
                held.append(fact)
                n -= 1
    return held


def _other_wordings(fact: Fact) -> list[str]:
    """A fact's training wordings that are not its eval wording (with or without a lead before it)."""
    if not fact.eval_question:
        return []
    return [q for q in fact.questions if not q.endswith(fact.eval_question) and q not in fact.spoken]


def _shares(sizes: dict[str, int], total: int) -> dict[str, int]:
    """`total` picks over groups in proportion to their sizes, each group at least one while picks last.

    A person asks about what a document says, so a document that is mostly prose is asked mostly about
    prose: round-robin over kinds would ask its one table as often as all its paragraphs, and overstate
    recall when tables are learned better than prose."""
    names = sorted(sizes, key=lambda k: (-sizes[k], k))
    out = {k: 0 for k in names}
    left = min(total, sum(sizes.values()))
    for k in names:  # one each first, largest groups first
        if left and sizes[k]:
            out[k], left = 1, left - 1
    while left:
        k = max(names, key=lambda k: (sizes[k] / (out[k] + 1) if out[k] < sizes[k] else -1, -names.index(k)))
        out[k], left = out[k] + 1, left - 1
    return out


def write_heldout(path: Any, facts: Sequence[Fact]) -> None:
    """The report's questions: each held-out fact's eval wording, with its key, kind and language."""
    import json

    from core.store import atomic_write_text

    atomic_write_text(path, "".join(json.dumps({"q": f.eval_question, "a": f.keys, "doc": f.source, "kind": f.kind,
                                                "lang": f.lang, "fact": f.answer}, ensure_ascii=False) + "\n"
                                    for f in facts))
