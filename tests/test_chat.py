"""Chat on the real demo model: answers, streaming, stop, history."""

from __future__ import annotations

from decode_check import assert_decodes_like_transformers, transformers_decode

from core.chat import ChatSession, SamplingSettings
from core.events import AnsweredBy, AnswerDone, AnswerPiece, AnswerSources


def test_base_model_answers_a_general_question(base_chat):
    assert "Paris" in base_chat.ask("What is the capital of France?")


def test_stream_arrives_in_pieces_and_matches_the_reply(base_chat):
    messages = [{"role": "user", "content": "Name three colours."}]
    pieces = list(base_chat.stream(messages, SamplingSettings(max_new_tokens=24)))
    assert len(pieces) > 3
    assert "".join(pieces).strip() == base_chat.reply(messages, SamplingSettings(max_new_tokens=24))


def test_greedy_is_reproducible_and_sampling_follows_its_seed(base_chat):
    q = [{"role": "user", "content": "Write one sentence about the sea."}]
    greedy = SamplingSettings(max_new_tokens=16)
    assert base_chat.reply(q, greedy) == base_chat.reply(q, greedy)
    hot = SamplingSettings(max_new_tokens=16, temperature=1.0, seed=7)
    assert base_chat.reply(q, hot) == base_chat.reply(q, hot)


def test_stop_ends_the_reply_and_history_keeps_what_was_said(base_chat):
    session = ChatSession(base_chat)
    seen: list[str] = []
    for piece in session.send("Tell me a long story about a dragon.", SamplingSettings(max_new_tokens=200),
                              should_stop=lambda: len(seen) >= 5):
        seen.append(piece)
    assert len(seen) == 5
    assert session.history[-1]["role"] == "assistant"
    assert session.history[-1]["content"] == "".join(seen).strip()
    session.reset()
    assert session.history == []


def test_answer_events_say_who_answered_with_what_then_the_text(base_chat):
    session = ChatSession(base_chat)
    events: list = []
    for event in session.answer("Tell me a long story about a dragon.", SamplingSettings(max_new_tokens=200),
                                should_stop=lambda: sum(isinstance(e, AnswerPiece) for e in events) >= 5):
        events.append(event)
    kinds = [type(e) for e in events]
    assert kinds == [AnsweredBy, AnswerSources] + [AnswerPiece] * 5 + [AnswerDone], kinds
    assert events[0].weights == "original" and events[1].passages == ()  # the base model, no router: no sources
    assert events[-1].stopped and events[-1].text == "".join(e.text for e in events[2:-1]).strip()
    assert session.history[-1] == {"role": "assistant", "content": events[-1].text}


def test_history_is_sent_with_the_next_turn(base_chat):
    session = ChatSession(base_chat)
    list(session.send("My name is Zoltan.", SamplingSettings(max_new_tokens=12)))
    reply = "".join(session.send("What is my name?", SamplingSettings(max_new_tokens=16)))
    assert "Zoltan" in reply
    assert len(session.history) == 4


def test_lean_forward_decodes_as_closely_as_transformers_agrees_with_itself(base_chat):
    """core/chat/lean.py is the default CPU path. It reads a prompt exactly as transformers does;
    each decoded token's attention runs in fp32 (faster on a CPU than bf16 here), so its logits
    may differ from transformers' step-by-step decode, but by no more than that decode differs
    from transformers' own full-sequence forward over the same tokens: bf16 noise, not a change.
    Compared on each step's 40 likeliest tokens, the ones a reply is picked from: the head scores
    those exactly and only estimates the rest (see the next test)."""
    import torch

    assert base_chat.lean is not None  # the demo model is a Llama: the lean path is the one in use
    for question in ("Who wrote Romeo and Juliet?", "Tell me a story about a cat."):
        ids = base_chat.prompt_ids([{"role": "user", "content": question}])
        answer = base_chat.tokenizer(base_chat.ask(question, SamplingSettings(max_new_tokens=40)),
                                     add_special_tokens=False).input_ids
        stepwise, whole = transformers_decode(base_chat.model, ids, answer)
        with torch.inference_mode():
            cache = base_chat.lean.new_cache(len(ids) + len(answer))
            lean = torch.stack([base_chat.lean.forward(ids, cache)] + [base_chat.lean.forward([t], cache)
                                                                       for t in answer]).float()
        assert_decodes_like_transformers(lean, stepwise, whole)


def test_shortlist_head_scores_the_likely_tokens_exactly(base_chat):
    """The int4 head only ranks; the int8 head's own values replace its estimates for the 256
    rows it ranks highest, so every likely token's logit is the int8 head's, bit for bit."""
    import torch

    from core.chat.lean import SHORTLIST, _kernel

    exact = _kernel(base_chat.model.lm_head)
    ids = base_chat.prompt_ids([{"role": "user", "content": "Write a poem about the sea, then list five fruits."}])
    with torch.inference_mode():
        hidden = base_chat.model.model(input_ids=torch.tensor([ids])).last_hidden_state[0]
        rows = base_chat.model.model.norm(hidden)
        for row in rows:
            full, fast = exact(row[None], True)[0], base_chat.lean.head(row[None], True)[0]
            likely = full.topk(40).indices
            assert torch.equal(fast[likely], full[likely])
            assert int(fast.argmax()) == int(full.argmax())
            assert (fast != full).sum() <= full.numel() - SHORTLIST  # the rest: estimates, never fewer exact


def test_lean_cache_reads_a_prompt_in_parts_as_transformers_does(base_chat):
    """A prompt read in two parts (several new rows after cached ones: the masked case) gives exactly
    transformers' logits for the same split (on the likely tokens), and the cache grows past its first capacity."""
    import torch

    ids = base_chat.prompt_ids([{"role": "user", "content": "Name three colours of the rainbow and your favourite."}])
    with torch.inference_mode():
        for cut in (9, 20):  # the int8 row kernel for the first part, then the prompt GEMM
            first = base_chat.model(input_ids=torch.tensor([ids[:cut]]), use_cache=True)
            reference = base_chat.model(input_ids=torch.tensor([ids[cut:]]), past_key_values=first.past_key_values,
                                        logits_to_keep=1).logits[0, -1]
            cache = base_chat.lean.new_cache(8)
            base_chat.lean.forward(ids[:cut], cache)
            likely = reference.topk(40).indices  # scored exactly by the shortlist head (see above)
            assert torch.equal(base_chat.lean.forward(ids[cut:], cache)[likely], reference[likely])
            assert cache.length == len(ids) and cache.capacity >= len(ids)


def test_lean_path_holds_no_second_copy_of_the_weights(base_chat):
    """q/k/v and gate/up are stacked for one kernel call each, and the modules re-pointed into the
    stacks; no kernel may keep the old tensors alive beside them (70 MB of the demo model's 135 MB
    did, until this test)."""
    import torch

    in_model = {b.untyped_storage().data_ptr() for b in base_chat.model.buffers() if b.dtype == torch.int8}
    held, seen, todo = set(), set(), [k for layer in base_chat.lean.layers for k in layer if callable(k)]
    while todo:  # every tensor reachable from the decoder's kernels, through their closures
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for cell in getattr(fn, "__closure__", None) or ():
            value = cell.cell_contents
            if isinstance(value, torch.Tensor) and value.dtype == torch.int8:
                held.add(value.untyped_storage().data_ptr())
            elif callable(value) and not isinstance(value, torch.nn.Module):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(v for v in value if callable(v))
    assert held and held <= in_model
