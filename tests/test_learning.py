"""Issues #4 and #14: the training mix, the "did it learn?" report per document and kind, answers with sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_DOCS, quick_config

from core.pipeline import prepare_run
from core.store import RunDir


def test_training_file_mixes_passages_qa_and_replay(tmp_path: Path, demo_model_dir: Path):
    out = tmp_path / "run"
    prepare_run([SAMPLE_DOCS], out, quick_config())
    rows = [json.loads(l) for l in (RunDir(out).dataset / "train.jsonl").read_text().splitlines()]
    kinds = {r["kind"] for r in rows}
    assert kinds == {"passage", "qa", "replay"}  # no passages in the prompt unless asked (passages_in_context)
    replay = [r for r in rows if r["kind"] == "replay"]
    assert len(replay) >= 10 and all(r["messages"][-1]["content"] for r in replay)
    heldout = [json.loads(l) for l in (RunDir(out).dataset / "heldout.jsonl").read_text().splitlines()]
    assert heldout and all(h["a"] and h["doc"] and h["kind"] for h in heldout)
    trained_questions = {r["messages"][0]["content"] for r in rows}
    assert not trained_questions & {h["q"] for h in heldout}
    # every held-out fact is still taught, in its other wordings: the user's model learns it
    answers = {r["messages"][1]["content"] for r in rows if r["kind"] == "qa"}
    assert all(h["fact"] in answers for h in heldout)


CODENAME_DOC = "# Harrowgate weather balloon\n\nThe Harrowgate weather balloon is code-named Quillmoss.\n"
"""One invented fact: no model can know the name before training on it."""


def test_closed_book_recall_rises_after_a_short_training(tmp_path: Path, base_chat):
    """The tuned model, asked in words it was not trained on and with no passage in the prompt (greedy),
    answers what only the document says; the base model, asked the same way, does not."""
    from core.chat import load_chat_model
    from core.pipeline import train

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harrowgate.md").write_text(CODENAME_DOC)
    run = tmp_path / "run"
    train([docs], run, quick_config(max_steps=12, learning_rate=3e-3, save_every=0, eval_every=0, replay=False,
                                    val_fraction=0.0, max_seq_len=192))
    question = "What is the code name of the Harrowgate weather balloon?"
    trained = [json.loads(l)["messages"][0]["content"] for l in (RunDir(run).dataset / "train.jsonl").open()]
    assert question not in trained  # recall, not a trained prompt played back

    before = base_chat.ask(question)
    after = load_chat_model(run).ask(question)
    print(f"\nbase: {before!r}\ntuned: {after!r}")
    assert "quillmoss" not in before.lower()
    assert "quillmoss" in after.lower(), after  # measured: "The Harrowgate weather balloon is code name Quillmoss."


def test_report_has_per_document_figures(trained_run: Path):
    from core.evaluation.report import evaluate_run, format_report

    report = evaluate_run(trained_run)
    per_doc = report["facts"]["per_document"]
    assert set(per_doc) == {p.name for p in SAMPLE_DOCS.iterdir()}
    facts = report["answers"][: report["facts"]["questions"]]  # the held-out facts, then the general checks
    for doc, figures in per_doc.items():  # each document's figures are its own answers, graded
        mine = [a for a in facts if a["doc"] == doc]
        assert figures["questions"] == len(mine) >= 1
        assert figures["base"] == pytest.approx(sum(a["base_correct"] for a in mine) / len(mine))
        assert figures["tuned"] == pytest.approx(sum(a["tuned_correct"] for a in mine) / len(mine))
    assert report["general"]["questions"] >= 5
    per_kind = report["facts"]["per_kind"]
    assert sum(k["questions"] for k in per_kind.values()) == report["facts"]["questions"]
    assert report["facts"]["coverage"] and all(c["covered"] >= 1 for c in report["facts"]["coverage"].values())
    assert json.loads(RunDir(trained_run).report.read_text())["facts"] == report["facts"]
    text = format_report(report)
    assert "Facts recalled" in text and "General knowledge" in text and "By kind" in text and "Coverage" in text

    # Recall across the text weighs each asked kind by the words the documents hold of that kind: the run
    # must carry each document's words per kind, counted here from the document itself. (The formula is
    # checked below: this 10-step run recalls nothing, so any weighing of its zeros gives zero.)
    from core.dataset.questions import words_by_kind
    from core.documents import ingest

    for doc, cover in report["facts"]["coverage"].items():
        assert cover["words"] == words_by_kind(ingest([SAMPLE_DOCS / doc]).elements), doc
    assert report["facts"]["text_weighted"]["tuned"] is not None and "Across your text" in text


def test_recall_across_the_text_weighs_each_asked_kind_by_its_words():
    from core.evaluation.weighting import text_weighted

    # Tables learned, prose not; prose is three times the words; FAQ pairs were never asked: left out.
    assert text_weighted({"table": 1.0, "prose": 0.0}, {"table": 100, "prose": 300, "faq": 50}) == 0.25
    assert text_weighted({"table": 0.5}, {"prose": 10}) is None  # nothing asked has words: no figure


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


def test_replay_never_teaches_the_questions_that_check_it():
    """The report's general check (and the recall benchmark's) must measure kept knowledge, not replayed answers."""
    from core.dataset.replay import replay_prompts
    from core.paths import resources_dir

    checks = [json.loads(l)["q"] for l in (resources_dir() / "general_check.jsonl").read_text().splitlines() if l.strip()]
    bench = Path(__file__).resolve().parents[1] / "bench" / "data"
    dev, test = ([json.loads(l)["q"] for l in (bench / name).read_text().splitlines() if l.strip()]
                 for name in ("general_questions.jsonl", "general_questions_test.jsonl"))
    normal = lambda qs: {" ".join(q.lower().split()) for q in qs}  # noqa: E731
    assert not normal(replay_prompts()) & normal(checks + dev + test)
    # The held-out set reports what the others were not used to choose: none of its questions is among them.
    assert len(normal(test)) == len(test) >= 48 and not normal(test) & normal(checks + dev)
