"""Examples → token ids with loss only on answer tokens, and length-grouped batches.

Loss is taken only on the assistant's reply: the prompt is given, not learned.
Batches group examples of similar length so padding stays small without the
cross-example attention leaks of naive packing; the order is a pure function of
(seed, epoch), which is what makes `--resume` continue with the same data.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]  # IGNORE on prompt tokens
    distil: float = 0.0
    """How much of the answer tokens' target is the base model's distribution there rather than the tokens
    (core/training/distil.py): 1 for replay rows, TrainConfig.anchor for the documents' rows, 0 for none."""
    said_only: bool = False
    """`distil` holds only at the tokens the base model already says (a document row: its new words stay words)."""
    teacher: Any = field(default=None, compare=False, repr=False)
    """(held tokens, hidden size): the base model's last hidden states at the answer tokens whose `soft` weight
    is above 0, in order, once distil.attach_teachers ran (collate puts them back in place)."""
    soft: Any = field(default=None, compare=False, repr=False)
    """(answer tokens,): how much of each answer token's target is that distribution (distil.attach_teachers)."""

    @property
    def answer_tokens(self) -> int:
        """Positions that carry a loss (answer_positions)."""
        return sum(1 for label in self.labels[1:] if label != IGNORE)


def answer_positions(labels: Any) -> Any:
    """Where a loss is taken, in a tensor of labels (one row or a batch): each position predicts the next token,
    and counts when that token is a label. The one rule for the loss (core/training/loss.py), the base model's
    states kept for it (distil.py), collate's layout of those states and the token counts that weigh a mean."""
    return labels[..., 1:] != IGNORE


def _ids(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=True)
    if hasattr(out, "keys"):  # transformers 5 returns a BatchEncoding
        out = out["input_ids"]
    return list(out)


def encode(tokenizer: Any, messages: list[dict[str, str]], max_len: int) -> Encoded:
    """Tokenise with the model's own chat template (the same one chat uses)."""
    prompt = _ids(tokenizer, messages[:-1], add_generation_prompt=True)
    full = _ids(tokenizer, messages, add_generation_prompt=False)
    if full[: len(prompt)] != prompt:  # template not prefix-stable: fall back to masking nothing in prompt detection
        prompt_len = 0
        for a, b in zip(prompt, full):
            if a != b:
                break
            prompt_len += 1
    else:
        prompt_len = len(prompt)
    # Everything after the prompt is learned: the reply and its end-of-turn
    # token, so the tuned model knows where to stop.
    full = full[:max_len]
    labels = [IGNORE] * min(prompt_len, len(full)) + full[prompt_len:]
    return Encoded(full, labels[: len(full)])


def batch_order(lengths: Sequence[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffle, then sort within windows of 8 batches by length, then shuffle batches."""
    rng = random.Random(seed * 1000 + epoch)
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    window = batch_size * 8
    batches: list[list[int]] = []
    for start in range(0, len(idx), window):
        part = sorted(idx[start : start + window], key=lambda i: lengths[i])
        batches.extend(part[j : j + batch_size] for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def samples_before(micro: int, lengths: Sequence[int], batch_size: int, seed: int) -> int:
    """Examples the first `micro` global micro-batches hold: the data position a checkpoint stores.

    In samples rather than steps, so the position means the same whatever split trained it: each global
    batch is shared out over the processes (core/training/distributed.py Ranks.shard), and a run stopped on
    2 processes continues on 1 or 8 from the same example."""
    per_epoch = math.ceil(len(lengths) / batch_size)
    epoch, pos = divmod(micro, per_epoch)
    return epoch * len(lengths) + sum(len(b) for b in batch_order(lengths, batch_size, seed, epoch)[:pos])


def micro_at(samples: int, lengths: Sequence[int], batch_size: int, seed: int) -> int | None:
    """The global micro-batch that starts after `samples` examples (samples_before's inverse); None when
    `samples` falls inside a batch: the checkpoint was made with other data or another batch size."""
    epoch, offset = divmod(samples, len(lengths))
    done = 0
    for pos, batch in enumerate(batch_order(lengths, batch_size, seed, epoch)):
        if done == offset:
            return epoch * math.ceil(len(lengths) / batch_size) + pos
        done += len(batch)
    return None


def collate(encoded: Sequence[Encoded], pad_id: int) -> dict[str, Any]:
    """Right-padded ids, labels and mask; with "teacher" (answer tokens, hidden) and "soft" (answer tokens,: each
    token's weight from distil.attach_teachers, 0 in examples without a teacher) when an example has a teacher,
    in the order core/training/loss.py picks answer positions (row by row)."""
    import torch

    width = max(len(e.input_ids) for e in encoded)
    ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, e in enumerate(encoded):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    batch = {"input_ids": ids, "labels": labels, "attention_mask": mask}
    teachers = [e.teacher for e in encoded if e.teacher is not None]
    if teachers:
        like = teachers[0]
        parts = []
        for e in encoded:
            part = like.new_zeros(e.answer_tokens, like.shape[-1])
            if e.teacher is not None:
                part[e.soft > 0] = e.teacher  # kept only where a loss reads them
            parts.append(part)
        batch["teacher"] = torch.cat(parts)
        batch["soft"] = torch.cat([e.soft if e.teacher is not None else torch.zeros(e.answer_tokens)
                                   for e in encoded])
    return batch


def shared_prefix(rows: Sequence[tuple[Sequence[int], Sequence[int]]]) -> int:
    """Tokens every (input_ids, labels) row begins with, as prompt: what a packed batch computes once.

    A chat template puts the same preamble before every example (SmolLM2's default system prompt and the user
    turn's opening are 24 of a realistic run's ~85 tokens per example: in batches of 4, 21% of the tokens a
    pass computes on the realistic dev set). It is never learned and,
    being the same tokens at the same positions, its states are the same in every row, so a packed row holds
    it once and each example attends to that copy (core/training/attention.py): the same attention, the same
    gradients (the copy receives the sum the rows' copies would), fewer tokens through every layer.
    The prefix stops before any row's first label and before its last token: each example keeps its own
    first token, a prompt token, where its segment of the packed row begins."""
    if len(rows) < 2:
        return 0
    first_ids = rows[0][0]
    limit = min(len(ids) - 1 for ids, _ in rows)
    for ids, labels in rows:
        limit = min(limit, next((i for i, y in enumerate(labels) if y != IGNORE), len(labels)) - 1)
    n = 0
    while n < limit and all(ids[n] == first_ids[n] for ids, _ in rows):
        n += 1
    return n


def packed(batch: dict[str, Any], share: bool = False, multiple: int = 1) -> dict[str, Any]:
    """The batch's rows end to end in one row, without their padding, and "position_ids" restarting at 0 for
    each: what a model attends within each example only (core/training/attention.py), so padding costs
    nothing. Nothing else changes: the loss positions (each example's first token is a prompt token, never
    a label, so no example learns the one before it) and the teacher rows keep collate's row-major order.

    `share`: the rows' shared_prefix is kept once, at the start; every later example follows without it, its
    positions continuing from the prefix's end (not 0), which is how the attention knows to show it the prefix.
    Only for attention that does (loss.shares_prefix).

    `multiple`: the row is made up to a multiple of this many tokens by one more example that no label
    reads (loss.ROW_MULTIPLE says why)."""
    import torch

    mask = batch["attention_mask"].bool()
    lengths = mask.sum(1).tolist()
    ids, all_labels = batch["input_ids"], batch["labels"]
    prefix = shared_prefix([(ids[r, :n].tolist(), all_labels[r, :n].tolist()) for r, n in enumerate(lengths)]) \
        if share else 0
    keep = mask.clone()
    keep[1:, :prefix] = False  # the later rows' copies of the prefix
    labels = all_labels[keep]
    sizes = [lengths[0]] + [n - prefix for n in lengths[1:]]
    starts = torch.tensor([0, *sizes[:-1]]).cumsum(0)
    labels[starts] = IGNORE  # already a prompt token's; said here so it cannot depend on the template
    positions = [torch.arange(lengths[0])] + [torch.arange(prefix, n) for n in lengths[1:]]
    row = ids[keep]
    filler = -len(labels) % multiple
    if filler:  # its positions restart like any later example's, so it attends to itself (and the prefix)
        row = torch.cat([row, row.new_full((filler,), int(row[0]))])  # any token: no label reads its outputs
        labels = torch.cat([labels, labels.new_full((filler,), IGNORE)])
        positions.append(torch.arange(prefix, prefix + filler))
    return {**batch, "input_ids": row[None], "labels": labels[None],
            "attention_mask": torch.ones(1, len(labels), dtype=batch["attention_mask"].dtype),
            "position_ids": torch.cat(positions)[None]}
