"""Self-distillation on the replay questions: the tuned model keeps the base model's whole answer distribution.

Replay rows (core/dataset/replay.py) already teach the base model's own greedy answers, and the tuned
weights alone still lost a third of their general knowledge on bench/recall.py (70.8% → 44-56%): a greedy
answer says which token the base model chose, not how sure it was or what else it would have said. Here
those rows learn the base model's full next-token distribution instead (the KL divergence to it, what
distillation does), so every answer token carries the base model's whole view of the vocabulary.

The targets cost no second model: the base model is this model with its adapter switched off, and its
weights never change, so its last hidden states at the answer tokens are computed once, before training
(a few seconds for 60 short rows), and kept (~5 MB for the demo model). The loss turns them into
probabilities with the frozen head, a piece of rows at a time (core/training/loss.py), so no
(tokens × vocabulary) table is stored.

The documents' rows can be held too (TrainConfig.anchor, off by default), each answer token's target a
mixture w·q + (1 − w)·its word, but only where the base model already says that word: there the word costs
nothing to keep, while a CE target of 1.0 goes on sharpening the model away from the original's view.
At every answer token instead, the pull fights the new facts themselves (dev, seed 1234: w 0.5 learned
3.3% of the questions closed-book against 42.6%); and the weight at the words it already says is decided
here, from the base model's greedy word, once.

Only the states a loss reads are kept: a document row's at the words it already says (about half of them on
the realistic dev set), so what the anchor stores is what the pre-flight estimate counts (teacher_tokens, an
upper bound).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from core.training.data import Encoded, answer_positions, collate
from core.training.loss import autocast_for, whole_model_reason


def distil_weight(kind: str, config: Any) -> float:
    """How much of an example's answer target is the base model's distribution (Encoded.distil): replay rows
    learn it whole (replay_distribution), the documents' rows by the anchor (TrainConfig)."""
    if kind == "replay":
        return 1.0 if config.replay_distribution else 0.0
    return float(config.anchor)


def teacher_tokens(data: Sequence[Encoded]) -> int:
    """Answer tokens whose states attach_teachers may keep: every one of a replay row, and at most every one of
    a document row (only those the base model already says are kept). The pre-flight memory estimate's count."""
    return sum(e.answer_tokens for e in data if e.distil)


TEACHER_BATCH_TOKENS = 4096
"""Padded tokens per forward pass while recording the states: on the realistic dev set at anchor 1 (563 rows),
batches took 50 s against 72 s one row at a time (session 31); a budget in tokens keeps a long-context model's
passes the size of a few training batches."""


def _batches(rows: list[int], lengths: list[int]) -> list[list[int]]:
    """`rows`, sorted shortest first (so little padding, and each row is its batch's longest yet), cut into
    batches of at most TEACHER_BATCH_TOKENS padded tokens."""
    batches: list[list[int]] = []
    for i in rows:
        if batches and (len(batches[-1]) + 1) * lengths[i] <= TEACHER_BATCH_TOKENS:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def attach_teachers(model: Any, data: list[Encoded], device: str, precision: str) -> list[Encoded]:
    """`data` with the base model's hidden states on every `distil` example, at the answer tokens its `soft`
    weight is above 0 (Encoded.teacher; collate puts them back in place).

    Unchanged when nothing is to be distilled, or when the model's loss needs its own forward (Gemma 2's
    logit soft-capping: loss.whole_model_reason): those rows then learn the greedy answer, as before."""
    import torch

    if not any(e.distil for e in data):
        return data
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if whole_model_reason(base) is not None or not hasattr(model, "disable_adapter"):
        return data
    decoder, head = base.get_decoder(), base.get_output_embeddings()
    was_training = model.training
    model.eval()
    out = list(data)
    lengths = [len(e.input_ids) for e in data]
    rows = sorted((i for i, e in enumerate(data) if e.distil), key=lambda i: lengths[i])
    # Adapter off: the base model's states, also when a resumed run's adapter has already learned. Rows are
    # padded on the right, so under the causal mask a row's states are its own (the padding comes after them).
    with model.disable_adapter(), torch.no_grad(), autocast_for(precision, device):
        for batch in _batches(rows, lengths):
            padded = collate([data[i] for i in batch], pad_id=0)  # the pad id is never read under the mask
            hidden = decoder(input_ids=padded["input_ids"].to(device), use_cache=False,
                             attention_mask=padded["attention_mask"].to(device)).last_hidden_state[:, :-1]
            for r, i in enumerate(batch):
                e = data[i]
                labels = padded["labels"][r].to(device)
                keep = answer_positions(labels)  # never at the padding: its labels are ignored
                states = hidden[r][keep]
                weights = torch.full((len(states),), float(e.distil))
                if e.said_only:  # a document row: held only where the original already says the word
                    weights *= (head(states).argmax(-1) == labels[1:][keep]).float().cpu()
                held = weights > 0
                out[i] = dataclasses.replace(e, teacher=states[held.to(states.device)].detach().to("cpu"),
                                             soft=weights)
    model.train(was_training)
    return out

