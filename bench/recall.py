"""Does the tuned model know the documents' facts, and keep what it knew?

Two sets of invented documents (facts no base model can know), each with hand-written questions
whose answers are graded as substrings:
  tidy        bench/data/recall_docs: three documents in declarative prose, 62 questions (the set
              the method was first built on)
  realistic   bench/data/realistic/{dev,test}: a Word handbook with a table, a PDF manual with a
              specifications table, steps and codes, Markdown meeting notes, an HTML FAQ with a table,
              and a German newsletter, with questions tagged by kind (table, list, key_value, faq,
              step, prose) and language. Written before the element-based method (issue #14); the
              dev half is for working on the method, the test half is scored only to report.

One run prints, per kind and overall:
  base closed-book               the base model alone (should be ~0)
  base + retrieved passages      the base model reading the passages the app's search finds: what retrieval alone gives
  base quoting statements        the chat's pipeline with sources on, the original weights ranking the run's
                                 statements (core/chat/grounding.py): what the tuning adds to that pipeline
  open-book                      the base model with the whole document in its context
  tuned closed-book              the app's chat without sources: routed (core/chat/routing.py), no passages
  tuned + passages               the app's chat with sources on (the default): the run's statement a found passage
                                 holds, quoted, or the passages read when they hold none
  tuned weights alone            every question to the tuned weights, closed-book (what an export would answer)
  its own training questions     60 of the run's fact questions as trained, to the tuned weights: recalled word
                                 for word, the facts are in the weights and the gap is the wording people use
and the general questions (base, tuned routed, tuned weights alone), the training time, and the run's own
"did it learn?" report recall next to the hand-written recall.

General questions come in two sets too, neither of them among the replay prompts the training learns from
(resources/replay_prompts.txt): bench/data/general_questions.jsonl (48) is the one methods have been judged
on since 23 November 2026; bench/data/general_questions_test.jsonl (50) was written on 5 December 2026, before any
further change aimed at the tuned weights keeping what they knew (issue #16), and is scored only to report:
with --set test, or --general-test on a run whose method is already fixed. Its misses are never printed.

    python bench/recall.py [--set tidy|dev|test] [--seeds 1234 7] [--preset standard] [--set-config key=value ...]
    python bench/recall.py --set dev --run RUN_FOLDER     # score a run trained before, no training
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(__file__).resolve().parent / "data"
SETS = {
    "tidy": (DATA / "recall_docs", DATA / "recall_questions.jsonl"),
    "dev": (DATA / "realistic" / "dev" / "docs", DATA / "realistic" / "dev" / "questions.jsonl"),
    "test": (DATA / "realistic" / "test" / "docs", DATA / "realistic" / "test" / "questions.jsonl"),
}


def per_kind(graded: list, questions: list[dict]) -> dict[str, float]:
    from core.evaluation.scoring import accuracy, by_field

    return {"all": accuracy(graded), **by_field(graded, questions, "kind")}


def training_questions(run: Path, count: int = 60, seed: int = 0) -> list[dict]:
    """A fixed sample of the run's own fact questions, each graded by the start of its trained answer.

    Recalled word for word, they say the facts are in the weights: a gap between this row and the
    hand-written rows is the wording people use, not the model's capacity or the training length."""
    from core.dataset.build import load_examples
    from core.store import RunDir

    facts = [ex for ex in load_examples(RunDir(run).train_file) if ex.kind == "qa"]
    facts = random.Random(seed).sample(facts, min(count, len(facts)))
    return [{"q": ex.question, "a": [ex.messages[-1]["content"][:60].strip()],
             "kind": ex.meta.get("kind", "prose")} for ex in facts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="which", choices=sorted(SETS), default="dev")
    parser.add_argument("--preset", default="standard")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1234])
    parser.add_argument("--set-config", nargs="*", default=[], help="config overrides, e.g. epochs=4 learning_rate=5e-4")
    parser.add_argument("--out", help="keep the run folders under this folder")
    parser.add_argument("--run", help="score this existing run folder instead of training one")
    parser.add_argument("--skip-base", action="store_true", help="skip the base-model rows")
    parser.add_argument("--no-report", action="store_true", help="skip the run's own 'did it learn?' report")
    parser.add_argument("--quick", action="store_true", help="while working: tuned closed-book and + passages only")
    parser.add_argument("--general-test", action="store_true",
                        help="also score the held-out general questions (implied by --set test): only to report")
    args = parser.parse_args()

    from core.quiet import quiet_libraries

    quiet_libraries()
    from core.chat import load_chat_model
    from core.chat.routing import Router
    from core.documents import ingest
    from core.evaluation.report import evaluate_run
    from core.evaluation.scoring import accuracy, ask_all
    from core.pipeline import train
    from core.store import read_jsonl
    from core.training.config import TrainConfig, preset_config

    docs_dir, questions_path = SETS[args.which]
    questions = [{"kind": "prose", **q} for q in read_jsonl(questions_path)]
    general = read_jsonl(DATA / "general_questions.jsonl")
    general_test = read_jsonl(DATA / "general_questions_test.jsonl") if args.general_test or args.which == "test" else []
    doc_text: dict[str, str] = {}
    for chunk in ingest([docs_dir]).chunks:
        doc_text[chunk.source] = (doc_text.get(chunk.source, "") + "\n\n" + chunk.text).strip()

    overrides = {}
    for item in args.set_config:
        key, _, value = item.partition("=")
        field_type = type(getattr(TrainConfig(), key))
        overrides[key] = value.lower() in ("1", "true", "yes") if field_type is bool else field_type(value)

    base_rows: dict[str, dict[str, float]] = {}
    if not args.skip_base:
        base = load_chat_model(model="demo")
        base_rows["open-book"] = per_kind(ask_all(base, questions, context=lambda it: doc_text[it["doc"]]), questions)
        base_rows["base closed-book"] = per_kind(ask_all(base, questions), questions)
        base_rows["general base"] = {"all": accuracy(ask_all(base, general))}
        if general_test:
            base_rows["general held-out, base"] = {"all": accuracy(ask_all(base, general_test))}
    else:
        base = None

    keep = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="recall-"))
    seeds = [None] if args.run else args.seeds
    for seed in seeds:
        rows = dict(base_rows)
        train_minutes = None
        if args.run:
            out = Path(args.run)
            config = TrainConfig.from_dict(json.loads((out / "run.json").read_text())["config"])
        else:
            config = preset_config(args.preset, seed=seed, **overrides)
            out = keep / f"run-{args.which}-{seed}"
            if out.exists():
                shutil.rmtree(out)
            started = time.perf_counter()
            result = train([docs_dir], out, config)
            train_minutes = (time.perf_counter() - started) / 60

        router = Router.for_run(out)
        if base is not None:
            # every question gets the search's passages; the base model reads them, as a peer's retrieval does
            reading = dataclasses.replace(router, everything=True, statements=())
            rows["base + retrieved passages"] = per_kind(ask_all(base, questions, router=reading, passages=True),
                                                         questions)
            # the chat's own pipeline with the original weights ranking the statements: what tuning adds to it
            quoting = dataclasses.replace(router, everything=True)
            rows["base quoting statements"] = per_kind(ask_all(base, questions, router=quoting, passages=True),
                                                       questions)
        tuned = load_chat_model(out, switchable=True)
        closed = ask_all(tuned, questions, router=router)
        rows["tuned closed-book"] = per_kind(closed, questions)
        with_passages = ask_all(tuned, questions, router=router, passages=True)
        rows["tuned + passages"] = per_kind(with_passages, questions)
        general_tuned = []
        if not args.quick:
            rows["tuned weights alone"] = per_kind(ask_all(tuned, questions), questions)
            general_tuned = ask_all(tuned, general, router=router)
            rows["general tuned (routed)"] = {"all": accuracy(general_tuned)}
            rows["general, tuned weights alone"] = {"all": accuracy(ask_all(tuned, general))}
            if general_test:
                rows["general held-out, routed"] = {"all": accuracy(ask_all(tuned, general_test, router=router))}
                rows["general held-out, weights alone"] = {"all": accuracy(ask_all(tuned, general_test))}
            trained = training_questions(out)
            rows["its own training questions"] = per_kind(ask_all(tuned, trained), trained)
        del tuned

        meta = json.loads((out / "run.json").read_text())
        print(f"\n=== set {args.which}, seed {config.seed} ===")
        print(f"config: {json.dumps({k: v for k, v in config.to_dict().items() if k != 'extras'})}")
        print(f"dataset: {meta['dataset_summary']}")
        coverage = meta.get("qa_stats", {}).get("coverage", {})
        if coverage:
            elements = sum(c["elements"] for c in coverage.values())
            print(f"coverage: {sum(c['covered'] for c in coverage.values())} of {elements} informative elements "
                  "got training questions")
        if train_minutes is not None:
            words = sum(len(t.split()) for t in doc_text.values())
            print(f"training: {result.step} steps, {train_minutes:.1f} min documents → adapter for ~{words} words "
                  f"({train_minutes / max(words, 1) * 2000:.1f} min per 2,000 words)")
            print(f"  example passes rested (the model already said them): {meta.get('rested_passes', 0)} of "
                  f"{result.step * config.batch_size * config.grad_accum}")
        kinds = sorted({q["kind"] for q in questions})
        counts = {k: sum(q["kind"] == k for q in questions) for k in kinds}
        print(f"{'':32s} {'all':>6s} " + " ".join(f"{k[:9]:>9s}" for k in kinds))
        print(f"{'(questions)':32s} {len(questions):6d} " + " ".join(f"{counts[k]:9d}" for k in kinds))
        for name, figures in rows.items():
            cells = " ".join(f"{figures[k]:9.0%}" if k in figures else f"{'':9s}" for k in kinds)
            print(f"{name:32s} {figures['all']:6.1%} {cells if len(figures) > 1 else ''}")
        print(f"routing: threshold {router.threshold:.2f}; {sum(g.tuned for g in closed)}/{len(closed)} document "
              f"questions to the tuned weights, {sum(not g.tuned for g in general_tuned)}/{len(general_tuned)} "
              "general ones to the original weights")
        if not (args.no_report or args.quick):
            report = evaluate_run(out, general=False)
            print(f"report recall (its own held-out questions): {report['facts']['tuned']:.1%} of "
                  f"{report['facts']['questions']}; hand-written closed-book {rows['tuned closed-book']['all']:.1%}; "
                  f"by kind: { {k: round(v['tuned'], 2) for k, v in report['facts']['per_kind'].items()} }")
            weighted = report["facts"].get("text_weighted", {}).get("tuned")
            if weighted is not None:
                print(f"report recall weighed by each kind's share of the words: {weighted:.1%} "
                      f"(hand-written closed-book {rows['tuned closed-book']['all']:.1%})")
        if args.which != "test":  # the test half's misses stay unread: it is scored only to report
            for g, q in zip(closed, questions):
                if not g.correct:
                    print(f"  miss [{q['kind']}] ({'tuned' if g.tuned else 'original'}): {g.question}  →  "
                          f"{g.answer[:100]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
