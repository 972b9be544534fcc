"""Chat on the real demo model: answers, streaming, stop, history."""

from __future__ import annotations

from core.chat import ChatSession, SamplingSettings


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


def test_history_is_sent_with_the_next_turn(base_chat):
    session = ChatSession(base_chat)
    list(session.send("My name is Zoltan.", SamplingSettings(max_new_tokens=12)))
    reply = "".join(session.send("What is my name?", SamplingSettings(max_new_tokens=16)))
    assert "Zoltan" in reply
    assert len(session.history) == 4


def test_lean_forward_answers_exactly_as_transformers_does(base_chat):
    """core/chat/lean.py is the default CPU path: it must change the speed, never the answer."""
    import dataclasses

    assert base_chat.lean is not None  # the demo model is a Llama: the lean path is the one in use
    reference = dataclasses.replace(base_chat, lean=None)  # same weights, transformers' forward
    settings = SamplingSettings(max_new_tokens=40)
    for question in ("Who wrote Romeo and Juliet?", "Explain what a CPU does in two sentences."):
        assert base_chat.ask(question, settings) == reference.ask(question, settings)


def test_lean_cache_reads_a_prompt_in_parts_as_transformers_does(base_chat):
    """A prompt read in two parts (several new rows after cached ones: the masked case) gives exactly
    transformers' logits for the same split, and the cache grows past its first capacity."""
    import torch

    ids = base_chat.prompt_ids([{"role": "user", "content": "Name three colours of the rainbow and your favourite."}])
    with torch.inference_mode():
        for cut in (9, 20):  # the int8 row kernel for the first part, then the prompt GEMM
            first = base_chat.model(input_ids=torch.tensor([ids[:cut]]), use_cache=True)
            reference = base_chat.model(input_ids=torch.tensor([ids[cut:]]), past_key_values=first.past_key_values,
                                        logits_to_keep=1).logits[0, -1]
            cache = base_chat.lean.new_cache(8)
            base_chat.lean.forward(ids[:cut], cache)
            assert torch.equal(base_chat.lean.forward(ids[cut:], cache), reference)
            assert cache.length == len(ids) and cache.capacity >= len(ids)
