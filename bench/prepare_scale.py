"""Documents → adapter cost at about 2, 10 and 50 pages: preparation time, dataset size, the estimate, and
(with --train) the measured training time of a preset.

Real documents, not invented ones: the licence texts every Debian machine carries
(/usr/share/common-licenses: numbered sections, definitions, long sentences), cut to ~250 words a
page. Preparation is everything before the first training step: reading, elements, questions,
passages, the dataset files and the pre-flight estimate (replay answers are cached once per model:
the first run of a fresh install also writes them; --cold clears that cache first to time it).
Reference: the old method reworded every generated question with the model during preparation
(issue #14 measured 2,458 rewordings for a one-step run on 30 PDFs); this prints the time the
preparation takes now beside the estimate of the training that follows.

    python bench/prepare_scale.py [--pages 2 10 50] [--preset quick] [--train 10] [--source DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORDS_PER_PAGE = 250


def make_pages(source: Path, pages: int, out: Path) -> int:
    """Text files from `source` (whole paragraphs, in name order) until about `pages` pages of words."""
    out.mkdir(parents=True, exist_ok=True)
    want, have = pages * WORDS_PER_PAGE, 0
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        paragraphs, kept = path.read_text(encoding="utf-8", errors="replace").split("\n\n"), []
        for para in paragraphs:
            if have >= want:
                break
            kept.append(para)
            have += len(para.split())
        if kept:
            (out / f"{path.name}.txt").write_text("\n\n".join(kept), encoding="utf-8")
        if have >= want:
            break
    return have


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, nargs="+", default=[2, 10, 50])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--train", type=int, nargs="*", default=[], help="also train at these page counts")
    parser.add_argument("--source", default="/usr/share/common-licenses")
    parser.add_argument("--cold", action="store_true", help="clear the replay cache first (a fresh install)")
    args = parser.parse_args()

    from core.quiet import quiet_libraries

    quiet_libraries()
    from core.pipeline import prepare_run
    from core.training.config import preset_config
    from core.training.loop import train_run

    source = Path(args.source)
    if not source.is_dir():
        print(f"No documents at {source}: pass --source DIR with text files.")
        return 1
    if args.cold:
        from core.paths import models_dir

        shutil.rmtree(models_dir() / "replay-cache", ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="scale-"))
    try:
        print(f"{'pages':>5s} {'words':>6s} {'prepare':>8s} {'examples':>8s} {'facts':>6s} {'steps':>6s} "
              f"{'estimate':>9s} {'trained':>8s}")
        for pages in args.pages:
            docs = work / f"docs-{pages}"
            words = make_pages(source, pages, docs)
            out = work / f"run-{pages}"
            config = preset_config(args.preset)
            started = time.perf_counter()
            _, info = prepare_run([docs], out, config)
            prepare_s = time.perf_counter() - started
            meta = json.loads((out / "run.json").read_text())
            est = meta.get("estimate", {})
            trained = ""
            if pages in args.train:
                started = time.perf_counter()
                result = train_run(out)
                trained = f"{(time.perf_counter() - started) / 60:.1f} min"
                steps = result.step
            else:
                steps = est.get("total_steps", "?")
            print(f"{pages:5d} {words:6d} {prepare_s:7.1f}s {info.train:8d} {meta['qa_stats'].get('facts', 0):6d} "
                  f"{steps!s:>6s} {est.get('total_seconds', 0) / 60:7.1f}m {trained:>8s}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
