"""Batched greedy generation, for building datasets rather than chatting.

Decoding on a CPU is memory-bound: one pass over the weights per step costs
about the same for 1 or 16 sequences, so generating questions for many facts
at once is several times faster than one by one.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from core.events import never_stop


def generate_batch(model: Any, tokenizer: Any, conversations: Sequence[list[dict[str, str]]], max_new_tokens: int = 64,
                   batch_size: int = 16, should_stop: Callable[[], bool] = never_stop,
                   on_batch: Callable[[int, int], None] | None = None) -> list[str]:
    """Greedy replies to each conversation, in order; `on_batch(done, total)` after each batch (a progress bar)."""
    import torch

    from core.errors import Cancelled

    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # generation continues from the right edge
    texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in conversations]
    out: list[str] = []
    device = next(model.parameters()).device
    try:
        for i in range(0, len(texts), batch_size):
            if should_stop():
                raise Cancelled()
            enc = tokenizer(texts[i : i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            with torch.inference_mode():
                ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=1.1,
                                     pad_token_id=tokenizer.pad_token_id)
            new = ids[:, enc["input_ids"].shape[1]:]
            out.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
            if on_batch is not None:
                on_batch(len(out), len(texts))
    finally:
        tokenizer.padding_side = side
    return [o.strip() for o in out]


def greedy_replies(load: Callable[[], Any], max_new_tokens: int = 80, batch_size: int = 12,
                   should_stop: Callable[[], bool] = never_stop,
                   on_batch: Callable[[int, int], None] | None = None) -> Callable[[list[str]], list[str]]:
    """prompts → greedy one-turn replies, loading the model (`load()` → ChatModel) only when first called:
    core/dataset/replay.py's `generate`, whose cache usually makes the load unnecessary."""
    def generate(prompts: list[str]) -> list[str]:
        chat = load()
        return generate_batch(chat.model, chat.tokenizer, [[{"role": "user", "content": p}] for p in prompts],
                              max_new_tokens=max_new_tokens, batch_size=batch_size, should_stop=should_stop,
                              on_batch=on_batch)
    return generate
