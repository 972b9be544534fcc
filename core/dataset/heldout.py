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

    Only facts with a key and an eval wording that no other fact shares qualify. A chosen fact stays in
    training in its other wordings, so the user's model still learns it; its eval wording (people's names
    for things, no section before it) is never a training question.
    """
    rng = random.Random(seed)
    keys_of: dict[str, set[str]] = {}
    for f in facts:
        keys_of.setdefault(f.eval_question, set()).update(f.keys[:1])
    by_doc: dict[str, dict[str, list[Fact]]] = {}
    for f in facts:
        others = ([q for q in f.questions if not q.endswith(f.eval_question) and q not in f.spoken]
                  if f.eval_question else [])
        ambiguous = len(keys_of.get(f.eval_question, ())) > 1  # 'general swim' on weekdays and at weekends
        if f.keys and f.keys[0] and f.eval_question and others and not ambiguous:
            by_doc.setdefault(f.source, {}).setdefault(f"{f.kind}/{f.lang}", []).append(f)
    held: list[Fact] = []
    for doc in sorted(by_doc):
        kinds = by_doc[doc]
        for group in kinds.values():
            rng.shuffle(group)
        for name, n in _shares({k: len(v) for k, v in kinds.items()}, per_doc).items():
            for fact in kinds[name][:n]:
                # Its eval wording, also where a training wording only put a section or context before it.
                fact.questions = [q for q in fact.questions
                                  if not q.endswith(fact.eval_question) and q not in fact.spoken]
                held.append(fact)
    return held


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
    from core.store import write_jsonl

    write_jsonl(path, ({"q": f.eval_question, "a": f.keys, "doc": f.source, "kind": f.kind, "lang": f.lang,
                        "fact": f.answer} for f in facts))
