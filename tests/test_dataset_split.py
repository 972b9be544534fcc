"""The train/validation split: held-out wordings drawn from what the examples say, never their position.

A user who adds a row to a table, or a release that words one question better, should see that fact's rows
move and no other's: the rest of the training file and the validation loss stay comparable. Drawn by
position (a shuffled list of groups), one changed fact re-drew the whole split.
"""

from __future__ import annotations

import json
import random

from core.dataset.build import split_examples
from core.dataset.examples import Example


def _fact(source: str, n: int, wordings: int = 3) -> list[Example]:
    answer = f"Item {n} of {source} costs {n * 7} euros."
    return [Example([{"role": "user", "content": f"wording {w} of the price of item {n}?"},
                     {"role": "assistant", "content": answer}], source, "qa", {"chunk": f"fact-{n}", "kind": "table"})
            for w in range(wordings)]


def _replay(n: int) -> Example:
    return Example([{"role": "user", "content": f"general question {n}?"},
                    {"role": "assistant", "content": f"general answer {n}."}], "", "replay", {})


def _corpus() -> list[Example]:
    examples: list[Example] = []
    for source in ("a.md", "b.docx"):
        for n in range(40):
            examples.extend(_fact(source, n, wordings=2 + n % 3))
    return examples + [_replay(n) for n in range(20)]


def _keys(examples: list[Example]) -> set[str]:
    return {json.dumps(e.to_json(), sort_keys=True) for e in examples}


def test_the_split_keeps_every_fact_in_training_and_holds_out_the_share_asked() -> None:
    examples = _corpus()
    train, val = split_examples(examples, 0.1, seed=1234)
    assert len(val) == round(len(examples) * 0.1)
    assert _keys(train) | _keys(val) == _keys(examples) and not _keys(train) & _keys(val)
    trained_answers = {(e.source, e.answer) for e in train}
    assert all((e.source, e.answer) in trained_answers for e in val), "a fact was held out in every wording"
    assert not any(e.kind == "replay" for e in val), "a one-example group was held out"


def test_the_split_does_not_depend_on_the_order_examples_come_in() -> None:
    examples = _corpus()
    shuffled = examples[:]
    random.Random(5).shuffle(shuffled)
    train, val = split_examples(examples, 0.1, seed=7)
    train2, val2 = split_examples(shuffled, 0.1, seed=7)
    assert _keys(val) == _keys(val2)
    assert [e.to_json() for e in train] == [e.to_json() for e in train2]
    assert _keys(split_examples(examples, 0.1, seed=8)[1]) != _keys(val), "the seed draws another split"


def test_a_new_fact_or_a_reworded_one_moves_its_own_rows_and_no_other_fact_s() -> None:
    examples = _corpus()
    _, val = split_examples(examples, 0.1, seed=1234)
    before = _keys(val)

    # A document gains a table row (inserted mid-list, as a new row would be): at most one other group's
    # held-out wording leaves validation (the new group may rank inside the share) or joins it (the share grows).
    added = examples[:30] + _fact("a.md", 99) + examples[30:]
    _, val_added = split_examples(added, 0.1, seed=1234)
    new = _keys(_fact("a.md", 99))
    moved = (before - _keys(val_added)) | (_keys(val_added) - before - new)
    assert len(moved) <= 1, f"{len(moved)} rows of other facts moved"

    # One question of one fact is reworded: only that fact's rows may change side.
    changed = examples[:]
    old = changed[10]
    changed[10] = Example([{"role": "user", "content": "a better wording?"}, old.messages[1]], old.source, old.kind,
                          old.meta)
    _, val_changed = split_examples(changed, 0.1, seed=1234)
    same_fact = {json.dumps(e.to_json(), sort_keys=True) for e in examples + changed if e.answer == old.answer}
    assert (before ^ _keys(val_changed)) <= same_fact
