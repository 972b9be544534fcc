"""Does the tuned model know the documents' facts, and keep what it knew?

Invented documents (bench/data/recall_docs: facts no base model can know) and
62 hand-written questions with substring answers: one for nearly every fact in
them, and a second wording for eight (at 29 questions, one answer moved the
figure by 3.4 points). One run prints:
  open-book recall   base model with the document pasted in its context (the ceiling)
  closed-book recall base model alone (should be ~0), then the tuned model alone
  general accuracy   everyday questions, base vs tuned
  training time      documents → dataset → trained adapter
"Tuned" is the app's chat: each question routed (core/chat/routing.py) to the tuned weights
when it is about the documents, to the original weights otherwise; still closed-book. The
tuned weights alone, on every question, are printed too.
Target (issue #4): tuned closed-book ≥ 85% of open-book; general not lower than base; training < 15 min.

    python bench/recall.py [--preset standard] [--no-qa] [--no-replay] [--no-passages] [--set key=value ...]
    python bench/recall.py --run RUN_FOLDER     # score a run trained before (kept with --out), no training
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(__file__).resolve().parent / "data"


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="standard")
    parser.add_argument("--no-qa", action="store_true")
    parser.add_argument("--no-replay", action="store_true")
    parser.add_argument("--no-passages", action="store_true")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, e.g. epochs=4 learning_rate=5e-4")
    parser.add_argument("--out", help="keep the run folder here")
    parser.add_argument("--skip-base", action="store_true", help="skip the base-model measurements")
    parser.add_argument("--run", help="score this existing run folder instead of training one")
    args = parser.parse_args()

    from core.quiet import quiet_libraries

    quiet_libraries()
    from core.chat import load_chat_model
    from core.documents import ingest
    from core.evaluation.scoring import accuracy, ask_all, by_doc
    from core.pipeline import train
    from core.training.config import TrainConfig, preset_config

    questions = load_jsonl(DATA / "recall_questions.jsonl")
    general = load_jsonl(DATA / "general_questions.jsonl")
    docs: dict[str, list[str]] = {}
    for chunk in ingest([DATA / "recall_docs"]).chunks:
        docs.setdefault(chunk.source, []).append(chunk.text)
    doc_text = {k: "\n\n".join(v) for k, v in docs.items()}

    rows: dict[str, float] = {}
    if not args.skip_base:
        base = load_chat_model(model="demo")
        ob = ask_all(base, questions, context=lambda it: doc_text[it["doc"]])
        rows["open-book (base + document in context)"] = accuracy(ob)
        rows["closed-book base"] = accuracy(ask_all(base, questions))
        rows["general base"] = accuracy(ask_all(base, general))
        del base

    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        field_type = type(getattr(TrainConfig(), key))
        overrides[key] = value.lower() in ("1", "true", "yes") if field_type is bool else field_type(value)
    config = preset_config(args.preset, qa_pairs=not args.no_qa, replay=not args.no_replay,
                           passages=not args.no_passages, **overrides)
    result = None
    if args.run:
        out = Path(args.run)
        config = TrainConfig.from_dict(json.loads((out / "run.json").read_text())["config"])
    else:
        out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="recall-run-")) / "run"
        started = time.perf_counter()
        result = train([DATA / "recall_docs"], out, config)
        train_minutes = (time.perf_counter() - started) / 60

    from core.chat.routing import Router

    tuned = load_chat_model(out, switchable=True)
    router = Router.for_run(out)
    cb = ask_all(tuned, questions, router=router)
    rows["closed-book tuned"] = accuracy(cb)
    general_tuned = ask_all(tuned, general, router=router)
    rows["general tuned"] = accuracy(general_tuned)
    rows["closed-book, tuned weights alone"] = accuracy(ask_all(tuned, questions))
    rows["general, tuned weights alone"] = accuracy(ask_all(tuned, general))

    print(f"\nconfig: {json.dumps({k: v for k, v in config.to_dict().items() if k != 'extras'})}")
    print(f"dataset: {json.loads((out / 'run.json').read_text())['dataset_summary']}")
    if result is not None:
        print(f"training: {result.step} steps, {train_minutes:.1f} min (documents → adapter), "
              f"final train loss {result.train_loss:.3f}, validation loss {result.val_loss}")
    else:
        print(f"training: not timed (scored the existing run {out})")
    for name, value in rows.items():
        print(f"{name:42s} {value:6.1%}")
    if "open-book (base + document in context)" in rows:
        ceiling = rows["open-book (base + document in context)"]
        print(f"{'tuned closed-book / open-book':42s} {rows['closed-book tuned'] / ceiling:6.1%}   (target ≥ 85%)")
        print(f"{'general tuned - base':42s} {rows['general tuned'] - rows['general base']:+6.1%}   (target ≥ 0)")
    print(f"routing: threshold {router.threshold:.2f}; {sum(g.tuned for g in cb)}/{len(cb)} document questions "
          f"to the tuned weights, {sum(not g.tuned for g in general_tuned)}/{len(general_tuned)} general ones "
          "to the original weights")
    print("per document (tuned closed-book):", {k: f"{v:.0%}" for k, v in by_doc(cb).items()})
    for g in [*cb, *general_tuned]:
        if not g.correct:
            print(f"  miss ({'tuned' if g.tuned else 'original'}): {g.question}  →  {g.answer[:110]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
