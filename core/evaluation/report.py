"""The "did it learn?" report: held-out fact recall per document and per kind, and a general check, base vs tuned.

Held-out questions ask facts of every kind the documents hold (table, list,
key-value, step, FAQ, prose; each language) in a wording from a template family
that no training question uses (core/dataset/heldout.py split_heldout); the
fact itself is trained in its other wordings. So a tuned answer that contains
the fact's key shows the fact was learned, not one wording remembered. The
report also says how many of the documents' informative elements got training
questions at all (coverage). The general check shows what the model kept. The person's own
questions (core/evaluation/own_questions.py), when the run has them, are asked the same way and
reported apart ("own"): generated questions are easier than people's. Base and tuned are evaluated
one after the other so only one model is in memory at a time.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from core.errors import Cancelled, RunError
from core.evaluation.own_questions import carry_project_questions, read_own_questions
from core.evaluation.scoring import Graded, accuracy, ask_all, by_doc, by_field
from core.evaluation.weighting import text_weighted, words_of
from core.events import OnEvent, Progress, ShouldStop, Stage, ignore_event, never_stop
from core.paths import resources_dir
from core.store import RunDir, read_jsonl, write_json


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path) if path.is_file() else []


def general_questions() -> list[dict[str, Any]]:
    return _jsonl(resources_dir() / "general_check.jsonl")


def evaluate_run(run_path: Path | str, on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop,
                 general: bool = True) -> dict[str, Any]:
    from core.chat import load_chat_model

    run = RunDir(run_path)
    meta = run.read_run()
    heldout = _jsonl(run.heldout_file)
    checks = general_questions() if general else []
    carry_project_questions(run.root)  # a run with none of its own asks its project's, written before or after it
    own = [q.as_item() for q in read_own_questions(run.root)]  # read first: a damaged file stops before minutes of work
    if not heldout and not checks and not own:
        raise RunError("This run has no held-out questions to check.", "Train with question–answer pairs switched on.")
    from core.chat.routing import Router

    # One load answers as both: the original weights are kept beside the tuned ones (core/chat/switch.py).
    # The tuned side answers as the app's chat does: routed, so general questions go to the original weights.
    on_event(Progress(Stage.EVALUATE, "Loading the base and tuned weights…"))
    model = load_chat_model(run.root, switchable=True)
    base_model = None if model.switch is not None else load_chat_model(run.root, base=True)
    router = Router.for_run(run.root)
    results: dict[str, dict[str, list[Graded]]] = {}

    # Every answer is counted: base and tuned each answer all questions, the tuned weights alone the general ones.
    total, done, phase = 2 * (len(heldout) + len(checks) + len(own)) + len(checks), [0], [""]

    def answered() -> None:
        done[0] += 1
        on_event(Progress(Stage.EVALUATE, f"{phase[0]} {done[0]}/{total}", done[0], total, tick=True))

    def ask_both(chat: Any, route: Any = None) -> dict[str, list[Graded]]:
        return {k: ask_all(chat, items, should_stop=should_stop, router=route, on_answer=answered)
                for k, items in (("facts", heldout), ("general", checks), ("own", own))}

    phase[0] = "Asking the original model"
    asked = len(heldout) + len(checks) + len(own)
    on_event(Progress(Stage.EVALUATE, f"Asking the base model {asked} questions…", 0, total))
    if base_model is not None:
        results["base"] = ask_both(base_model)
    else:
        with model.adapter(False):
            results["base"] = ask_both(model)
    phase[0] = "Asking the trained model"
    on_event(Progress(Stage.EVALUATE, f"Asking the tuned model {asked} questions…", done[0], total))
    results["tuned"] = ask_both(model, router)
    # the tuned weights alone: what routing saves
    always_tuned = ask_all(model, checks, should_stop=should_stop, on_answer=answered)
    del model, base_model
    if should_stop():  # the answers stop short: a partial report would read as a verdict
        raise Cancelled()
    base_docs, tuned_docs = by_doc(results["base"]["facts"]), by_doc(results["tuned"]["facts"])
    counts: dict[str, int] = {}
    for item in heldout:
        counts[item["doc"]] = counts.get(item["doc"], 0) + 1
    base_kinds, tuned_kinds = by_field(results["base"]["facts"], heldout, "kind"), by_field(results["tuned"]["facts"], heldout, "kind")
    kind_counts: dict[str, int] = {}
    for item in heldout:
        kind_counts[item.get("kind", "")] = kind_counts.get(item.get("kind", ""), 0) + 1
    tuned_langs = by_field(results["tuned"]["facts"], heldout, "lang")
    coverage = meta.get("qa_stats", {}).get("coverage", {})
    words = words_of(coverage)
    report = {
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "model": meta.get("config", {}).get("model"),
        "facts": {
            "questions": len(heldout),
            "base": accuracy(results["base"]["facts"]),
            "tuned": accuracy(results["tuned"]["facts"]),
            "per_document": {d: {"questions": counts.get(d, 0), "base": base_docs.get(d, 0.0), "tuned": tuned_docs[d]}
                             for d in tuned_docs},
            "per_kind": {k: {"questions": kind_counts.get(k, 0), "base": base_kinds.get(k, 0.0), "tuned": v}
                         for k, v in tuned_kinds.items()},
            "per_language": tuned_langs,
            "coverage": coverage,
            "text_weighted": {"base": text_weighted(base_kinds, words), "tuned": text_weighted(tuned_kinds, words)},
        },
        "own": {"questions": len(own), "base": accuracy(results["base"]["own"]), "tuned": accuracy(results["tuned"]["own"]),
                "answered_by_original": sum(not g.tuned for g in results["tuned"]["own"])},
        "general": {"questions": len(checks), "base": accuracy(results["base"]["general"]),
                    "tuned": accuracy(results["tuned"]["general"]),
                    "tuned_weights_alone": accuracy(always_tuned),
                    "answered_by_original": sum(not g.tuned for g in results["tuned"]["general"])},
        "answers": [
            {"q": b.question, "expected": b.accepted, "doc": b.doc, "kind": item.get("kind", "general"),
             "base": b.answer, "base_correct": b.correct,
             "tuned": t.answer, "tuned_correct": t.correct, "answered_by": "tuned" if t.tuned else "original"}
            for b, t, item in zip(results["base"]["facts"] + results["base"]["general"] + results["base"]["own"],
                                  results["tuned"]["facts"] + results["tuned"]["general"] + results["tuned"]["own"],
                                  heldout + checks + own)
        ],
    }
    write_json(run.report, report)
    return report


def format_report(report: dict[str, Any]) -> str:
    f, g = report["facts"], report["general"]
    o = report.get("own") or {}
    lines = ["Did it learn?"]
    if o.get("questions"):  # the figure to trust first: questions in a person's own words
        lines.append(f"  Your own questions: base {o['base']:.0%} → tuned {o['tuned']:.0%}  ({o['questions']} questions, "
                     "asked as Chat asks them without your documents in view)")
    lines.append(f"  Facts recalled:   base {f['base']:.0%} → tuned {f['tuned']:.0%}  ({f['questions']} questions made "
                 "from your documents' wording, held out of training; a person's own wording is harder)")
    for doc, d in f["per_document"].items():
        lines.append(f"    {doc}: {d['base']:.0%} → {d['tuned']:.0%} ({d['questions']})")
    if f.get("per_kind"):
        lines.append("  By kind: " + ", ".join(f"{k} {d['tuned']:.0%} ({d['questions']})" for k, d in f["per_kind"].items()))
    weighted = f.get("text_weighted") or {}
    if weighted.get("tuned") is not None:
        lines.append(f"  Across your text (each kind weighed by its share of the words): base {weighted['base']:.0%} → "
                     f"tuned {weighted['tuned']:.0%}")
    coverage = f.get("coverage") or {}
    if coverage:
        elements = sum(c["elements"] for c in coverage.values())
        covered = sum(c["covered"] for c in coverage.values())
        lines.append(f"  Coverage: {covered} of {elements} informative elements got training questions"
                     f" ({covered / elements:.0%})" if elements else "  Coverage: no informative elements")
    if g["questions"]:
        verdict = "kept" if g["tuned"] >= g["base"] else "some lost"
        lines.append(f"  General knowledge: base {g['base']:.0%} → tuned {g['tuned']:.0%}  ({verdict})")
        if "tuned_weights_alone" in g:
            lines.append(f"    {g.get('answered_by_original', 0)} of {g['questions']} general questions were not about "
                         f"your documents and went to the original weights; the tuned weights alone score "
                         f"{g['tuned_weights_alone']:.0%}.")
    return "\n".join(lines)
