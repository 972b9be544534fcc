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
