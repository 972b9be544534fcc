"""Issue #4, general knowledge kept: questions about the documents go to the tuned weights,
the rest to the original ones, switched inside one loaded model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.chat import SamplingSettings

SHORT = SamplingSettings(max_new_tokens=24)


@pytest.fixture(scope="module")
def switchable(trained_run: Path):
    from core.chat import load_chat_model

    return load_chat_model(trained_run, switchable=True)


@pytest.fixture(scope="module")
def router(trained_run: Path):
    from core.chat.routing import Router

    return Router.for_run(trained_run)


def test_names_are_words_the_documents_only_use_as_names():
    from core.chat.routing import document_names, named_in
    from core.retrieval import Encoder

    vocabulary = Encoder().tokenizer.get_vocab()
    text = ("The observatory was opened in 1968 by Beatrix Molnar. Tours start at the Visitor Centre in Marlbeck. "
            "Molnar chose the ridge. Wickerby holds the grain store, and the centre is open daily.")
    names = document_names([text], common=["Tours of the city"], vocabulary=vocabulary)
    assert {"beatrix", "molnar", "marlbeck"} <= names
    assert "wickerby" not in names  # only ever first in its sentence: it could be any capitalised word there
    assert "centre" not in names  # also written in lower case in the documents
    assert "visitor" not in names  # an ordinary word (in the encoder's vocabulary) that starts a name
    assert named_in("who is beatrix molnar?", names) == ["beatrix", "molnar"]  # typed in lower case too
    assert named_in("What is the capital of France?", names) == []


def test_calibrated_threshold_separates_document_questions_from_general_ones(trained_run: Path, router):
    from core.dataset.replay import replay_prompts

    figures = json.loads((trained_run / "routing.json").read_text())
    assert figures["calibrated"] and figures["document_questions"] > 0 and figures["threshold"] == router.threshold
    # Between the two sets it calibrated on: above most general prompts' best passage score, below most
    # document questions' (a threshold stuck at an end of its clamp, or the sets swapped, fails here).
    doc_scores = (router.about_vectors @ router.index.vectors.T).max(dim=1).values
    general_scores = (router.general_vectors @ router.index.vectors.T).max(dim=1).values
    assert float(general_scores.median()) < router.threshold <= float(doc_scores.median()), (router.threshold, figures)
    assert figures["document_misrouted"] <= 0.1 and figures["general_misrouted"] <= 0.05, figures
    heldout = [json.loads(l)["q"] for l in (trained_run / "dataset" / "heldout.jsonl").read_text().splitlines() if l]
    about = [router.route(q).about_documents for q in heldout]
    general = [router.route(q).about_documents for q in replay_prompts()]
    assert sum(about) / len(about) >= 0.9, [q for q, a in zip(heldout, about) if not a]
    assert sum(general) / len(general) <= 0.05, [q for q, a in zip(replay_prompts(), general) if a]


def test_a_follow_up_stays_with_the_documents(router):
    # Alone, a question that only points back goes to the original weights; after a question about the
    # documents it stays with them. (Since issue #14's training questions ask the bakery's opening time in
    # many wordings, a bare "When does it open?" is close enough to them to count as about the documents.)
    assert not router.route("Who painted it?").about_documents
    assert router.route("Who painted it?", previous="Tell me about Harbor Lane Bakery.").about_documents
    assert router.route("When does it open?", previous="Tell me about Harbor Lane Bakery.").about_documents


def test_the_switch_gives_exactly_the_original_and_the_tuned_model(trained_run: Path, switchable, base_chat):
    from core.chat import load_chat_model

    question = "Who founded Harbor Lane Bakery?"
    with switchable.adapter(False):
        assert switchable.ask(question, SHORT) == base_chat.ask(question, SHORT)
    merged = load_chat_model(trained_run)  # the tuned model as loaded without a switch
    assert switchable.ask(question, SHORT) == merged.ask(question, SHORT)
    assert switchable.switch.layers == sum(1 for n, _ in merged.model.named_modules() if n.endswith("q_proj")) * 7


def test_chat_routes_each_question_and_cites_only_for_the_documents(switchable, router):
    from core.chat import ChatSession

    session = ChatSession(switchable, router=router)
    answer = "".join(session.send("Who founded Harbor Lane Bakery?", SHORT))
    assert session.answered_by == "tuned" and "Okonkwo" in answer
    assert session.last_sources[0].source == "harbor_lane_bakery_handbook.md"
    answer = "".join(session.send("What is the capital of France?", SHORT))
    assert session.answered_by == "original" and "Paris" in answer
    assert session.last_sources == []  # nothing from the documents to cite
    closed = ChatSession(switchable, router=router, passages=False)
    "".join(closed.send("Who founded Harbor Lane Bakery?", SHORT))
    assert closed.answered_by == "tuned" and closed.last_sources == []  # sources off: the tuned model alone


def test_the_switch_is_per_thread(switchable):
    """Chat and Compare may share one cached model on two worker threads."""
    import threading

    seen: list[bool] = []
    with switchable.adapter(False):
        worker = threading.Thread(target=lambda: seen.append(switchable.switch.on))
        worker.start()
        worker.join()
        assert switchable.switch.on is False
    assert seen == [True] and switchable.switch.on is True


# Written for this test, not taken from resources/replay_prompts.txt (which the threshold is calibrated on).
GENERAL_UNSEEN = [
    "Who wrote the novel Pride and Prejudice?",
    "How fast does light travel in a vacuum?",
    "What is the largest desert in the world?",
    "Which musical instrument has 88 keys?",
    "In which year did the Second World War end?",
    "How do I make a cup of tea?",
    "What causes the seasons on Earth?",
    "What is the difference between weather and climate?",
    "How many players are in a football team?",
]
# General questions on a topic the documents touch (an island with a volcano, a bakery).
GENERAL_NEAR_THE_DOCUMENTS = [
    "Why do volcanoes erupt?",
    "Which is the largest island in the world?",
    "What is yeast used for in bread?",
]
# About the sample documents, in ordinary words only: no name of theirs for the router's name check to catch.
DOCUMENT_PLAIN_WORDS = [
    "What colour are the aprons that bakers wear?",
    "How long does each loaf prove before it is baked?",
    "Where does the unsold bread go every evening?",
    "How many days in advance must holiday requests be made?",
    "How long does the e-reader battery last?",
    "What colour is the charging light when the battery is full?",
    "How do I take a screenshot on the e-reader?",
    "How many species of lichen did the botanist describe on the island?",
]


def test_general_questions_it_was_not_calibrated_on_go_to_the_original_weights(router):
    from core.dataset.replay import replay_prompts

    assert not set(GENERAL_UNSEEN + GENERAL_NEAR_THE_DOCUMENTS) & set(replay_prompts())
    about = [q for q in GENERAL_UNSEEN if router.route(q).about_documents]
    assert about == []


@pytest.mark.xfail(strict=True, reason="Known limit: on the test run, 2 of these 3 score just above the calibrated "
                   "threshold (0.26) and go to the tuned weights. Passes (and must be unmarked) once routing tells them apart.")
def test_general_questions_near_the_documents_topic_go_to_the_original_weights(router):
    about = [q for q in GENERAL_NEAR_THE_DOCUMENTS if router.route(q).about_documents]
    assert about == []


def test_document_questions_without_names_go_to_the_tuned_weights(router):
    from core.chat.routing import named_in

    assert [q for q in DOCUMENT_PLAIN_WORDS if named_in(q, router.names)] == []  # similarity alone decides
    general = [q for q in DOCUMENT_PLAIN_WORDS if not router.route(q).about_documents]
    assert len(general) <= 1, general  # on the test run: only the holiday-request rule (0.24) falls short
