"""Issue #4: grounded Q&A, replay mix, the "did it learn?" report, answers with sources."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SAMPLE_DOCS, quick_config

from core.chat.batch import generate_batch
from core.dataset.qa import (Fact, cloze_questions, content_words, facts_from_chunks, grounded, natural_pairs,
                             rule_pairs, split_heldout, topic_of)
from core.documents import ingest
from core.pipeline import prepare_run
from core.store import RunDir

FACT = Fact("Orrin Valley Observatory",
            "The Orrin Valley Observatory was opened in 1968 by the astronomer Beatrix Molnar.", "obs.md", 0)


def test_rule_questions_ask_for_what_the_fact_states():
    questions = dict(cloze_questions(FACT))
    assert any("which year" in q for q in questions)
    # the echo wording and the one people use, for the same detail
    assert questions["In which year was the Orrin Valley Observatory opened?"] == ["1968"]
    for q, keys in cloze_questions(FACT):
        assert q.endswith("?")
        for key in keys:
            assert key in FACT.sentence  # the answer is in the fact…
            assert key not in q  # …and not given away by the question


def test_a_question_its_fact_does_not_answer_is_dropped():
    ok, _ = grounded("Who opened the Orrin Valley Observatory?", FACT)
    assert ok
    for off_target in ("How many people work at the Orrin Valley Observatory?",
                       "What is the Orrin Valley Observatory?",
                       "In which country is the Orrin Valley Observatory located?"):
        ok, why = grounded(off_target, FACT)
        assert not ok and why, off_target
    ok, why = grounded("When was the Orrin Valley Observatory renovated?",
                       Fact("Orrin Valley Observatory", "The observatory was renovated by the Lindqvist family.", "o", 0))
    assert not ok and "year" in why


def test_rewordings_that_change_the_fact_or_leak_the_answer_are_dropped():
    pair = rule_pairs([FACT])[0]
    rewrites = {
        "When was the Orrin Valley Observatory opened?": True,
        "Who plays football at the stadium?": False,  # off-target
        f"Was the Orrin Valley Observatory opened in {pair.keys[0]}?": False,  # gives the answer away
        "no question here": False,
    }
    for text, expected in rewrites.items():
        kept = natural_pairs([pair], lambda convs, t=text: [t] * len(convs))
        assert bool(kept) is expected, text
        for p in kept:
            assert p.answer == FACT.sentence


def test_real_model_rewordings_stay_grounded(base_chat):
    chunks = ingest([SAMPLE_DOCS]).chunks
    pairs = rule_pairs(facts_from_chunks(chunks))[:6]
    kept = natural_pairs(pairs, lambda convs: generate_batch(base_chat.model, base_chat.tokenizer, convs,
                                                             max_new_tokens=32))
    chunk_words = {(c.source, c.index): content_words(c.text) for c in chunks}
    assert kept
    for p in kept:
        assert p.question.endswith("?")
        assert not any(k.lower() in p.question.lower() for k in p.keys)
        # every answer is its own chunk's sentence ("the bakery" named in full): nothing invented
        assert content_words(p.answer) <= chunk_words[(p.source, p.chunk)] | content_words(topic_of(p.source, chunks[0].text)), p.answer


def test_heldout_questions_are_never_trained_on_and_every_detail_stays_taught():
    pairs = rule_pairs(facts_from_chunks(ingest([SAMPLE_DOCS]).chunks))
    train, heldout = split_heldout(pairs, seed=1)
    assert heldout
    train_q = {p.question for p in train}
    assert not train_q & {p.question for p in heldout}
    assert len(train) + len(heldout) == len(pairs)  # one wording out per held-out detail, nothing else lost
    # the held-out detail itself is still taught, in another wording: the user's model learns every detail
    for held in heldout:
        assert any(p.answer == held.answer and p.keys == held.keys and p.question != held.question for p in train)


def test_training_file_mixes_passages_grounded_qa_and_replay(tmp_path: Path, demo_model_dir: Path):
    out = tmp_path / "run"
    prepare_run([SAMPLE_DOCS], out, quick_config())
    rows = [json.loads(l) for l in (RunDir(out).dataset / "train.jsonl").read_text().splitlines()]
    kinds = {r["kind"] for r in rows}
    assert kinds == {"passage", "qa", "replay"}
    replay = [r for r in rows if r["kind"] == "replay"]
    assert len(replay) >= 10 and all(r["messages"][-1]["content"] for r in replay)
    heldout = [json.loads(l) for l in (RunDir(out).dataset / "heldout.jsonl").read_text().splitlines()]
    assert heldout and all(h["a"] and h["doc"] for h in heldout)
    trained_questions = {r["messages"][0]["content"] for r in rows}
    assert not trained_questions & {h["q"] for h in heldout}


def test_report_has_per_document_figures(trained_run: Path):
    from core.evaluation.report import evaluate_run, format_report

    report = evaluate_run(trained_run)
    per_doc = report["facts"]["per_document"]
    assert set(per_doc) == {p.name for p in SAMPLE_DOCS.iterdir()}
    for figures in per_doc.values():
        assert figures["questions"] >= 1 and 0 <= figures["base"] <= 1 and 0 <= figures["tuned"] <= 1
    assert report["general"]["questions"] >= 5
    assert json.loads(RunDir(trained_run).report.read_text())["facts"] == report["facts"]
    text = format_report(report)
    assert "Facts recalled" in text and "General knowledge" in text


def test_sources_find_the_passage_that_holds_the_answer(trained_run: Path):
    from core.chat import ChatSession, load_chat_model
    from core.chat.routing import Router
    from core.retrieval import PassageIndex

    index = PassageIndex.for_run(trained_run)
    top = index.search("How long does the Quillfeather battery last?")
    assert top[0].source == "quillfeather_guide.html" and "nine weeks" in top[0].text
    assert (trained_run / "retrieval.npz").is_file()
    session = ChatSession(load_chat_model(trained_run), router=Router.for_run(trained_run, index))
    answer = "".join(session.send("Who founded Harbor Lane Bakery?"))
    assert session.last_sources[0].source == "harbor_lane_bakery_handbook.md"
    assert "Okonkwo" in answer
    assert session.history[0]["content"] == "Who founded Harbor Lane Bakery?"  # history keeps the plain question


def test_facts_name_their_subject_and_keep_the_sentence_they_depend_on():
    """'The observatory's café' teaches nothing about *which* observatory; 'The mirror was cast in Jena'
    means nothing without the telescope named the sentence before."""
    from core.documents.ingest import Chunk

    text = ("# Orrin Valley Observatory\nThe observatory's café is called The Red Shift and serves plum cake.\n"
            "The main instrument is the Lindqvist Telescope, with a mirror 2.3 metres across. "
            "The mirror was cast in Jena and took eleven months to polish.\n"
            "A tour costs 12 francs, and children under ten go free.")
    facts = facts_from_chunks([Chunk("orrin.md", 0, text, 60)])
    assert facts[0].sentence.startswith("The Orrin Valley Observatory's café is called The Red Shift")
    mirror = next(f for f in facts if "Jena" in f.sentence)
    assert mirror.context.startswith("The main instrument is the Lindqvist Telescope") and "Lindqvist" in mirror.sentence
    questions = [q for q, _ in cloze_questions(mirror)]
    assert questions and all("Lindqvist Telescope" in q for q in questions)
    tour = next(f for f in facts if "francs" in f.sentence)
    assert all(q.startswith("About the Orrin Valley Observatory:") for q, _ in cloze_questions(tour))


def test_named_things_get_profiles_made_of_their_own_sentences():
    from core.dataset.qa import entity_pairs
    from core.documents.ingest import Chunk

    text = ("# Tessaly Rail Company\nThe company's most famous locomotive was the Silver Heron, built in 1936 at the "
            "Ashgate works. The Silver Heron set a speed record on the Dunmore straight in 1938. "
            "Its chairwoman is Odile Brannagh.")
    facts = facts_from_chunks([Chunk("rail.txt", 0, text, 60)])
    assert any("Odile Brannagh" in f.sentence for f in facts)  # short, but it names someone
    profiles = {p.question: p.answer for p in entity_pairs(facts)}
    heron = profiles["Tell me about the Silver Heron."]
    assert "built in 1936" in heron and "speed record" in heron  # both of its facts, in document order
    assert "Tell me about Dunmore." in profiles and "Tell me about the Dunmore." not in profiles
    for question, answer in profiles.items():
        if question.startswith("Tell me about "):
            name = question.removeprefix("Tell me about ").removeprefix("the ").rstrip(".")
            assert answer == " ".join(f.sentence for f in facts if name in f.sentence)  # nothing but its facts


def test_replay_never_teaches_the_questions_that_check_it():
    """The report's general check (and the recall benchmark's) must measure kept knowledge, not replayed answers."""
    from core.dataset.replay import replay_prompts
    from core.paths import resources_dir

    checks = [json.loads(l)["q"] for l in (resources_dir() / "general_check.jsonl").read_text().splitlines() if l.strip()]
    bench = Path(__file__).resolve().parents[1] / "bench" / "data" / "general_questions.jsonl"
    checks += [json.loads(l)["q"] for l in bench.read_text().splitlines() if l.strip()]
    normal = lambda q: " ".join(q.lower().split())  # noqa: E731
    assert not {normal(q) for q in replay_prompts()} & {normal(q) for q in checks}
