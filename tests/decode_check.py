"""The lean chat decoder against transformers: one yardstick for the demo model (test_chat.py) and for a tiny
model of each family (test_model_families.py).

Each decoded token's attention runs in fp32 in the lean pass, so its logits may differ from transformers'
step-by-step decode, but by no more than that decode differs from transformers' own full-sequence forward
over the same tokens. Compared on each step's 40 likeliest tokens: the demo's shortlist head scores those
exactly and only estimates the rest.
"""

from __future__ import annotations

from typing import Any


def transformers_decode(model: Any, prompt: list[int], answer: list[int]) -> tuple[Any, Any]:
    """(step-by-step logits with a KV cache, full-sequence logits) over the prompt's last position and the answer."""
    import torch

    with torch.inference_mode():
        out = model(input_ids=torch.tensor([prompt]), use_cache=True, logits_to_keep=1)
        steps = [out.logits[0, -1]]
        for token in answer:
            out = model(input_ids=torch.tensor([[token]]), past_key_values=out.past_key_values, use_cache=True)
            steps.append(out.logits[0, -1])
        stepwise = torch.stack(steps).float()
        whole = model(input_ids=torch.tensor([prompt + answer])).logits[0, len(prompt) - 1:].float()
    return stepwise, whole


def assert_decodes_like_transformers(ours: Any, stepwise: Any, whole: Any) -> None:
    import torch

    likely = stepwise.topk(40, dim=-1).indices
    stepwise, whole, ours = (t.gather(1, likely) for t in (stepwise, whole, ours))
    assert torch.equal(ours[0], stepwise[0])  # the prompt: exactly transformers' logits
    own_noise = (stepwise - whole).abs().mean()
    assert (ours - stepwise).abs().mean() <= 1.25 * own_noise
    agree = (ours.argmax(-1) == stepwise.argmax(-1)).float().mean()
    assert agree >= (whole.argmax(-1) == stepwise.argmax(-1)).float().mean()
