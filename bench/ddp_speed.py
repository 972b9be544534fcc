"""One process against N under torchrun (DDP) on the same prepared run: seconds per step, tokens/s, startup.

The reference is the app's own loop on one process (`tunedesk train --run`, no launcher); then the same
folder, copied, under `torchrun --nproc_per_node=N`. Every process gets --threads BLAS threads (1 by
default: on a 2-core machine two ranks of one thread use what one process of two would). Reports the
median step time after the first step, effective (non-pad) tokens/s over all ranks, the wall time from
launch to exit minus training (imports, model load, process group), and whether the two adapters agree
(the share of the learned LoRA weights that differs: bf16 rounding of half-width batches).

    python bench/ddp_speed.py [--procs 2] [--steps 12] [--batch-size 8] [--max-seq-len 128] [--threads 1] [--one-threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _train(args: list[str], run: Path, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    steps = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in steps if m["type"] == "step"]
    times = [b["elapsed_s"] - a["elapsed_s"] for a, b in zip(steps, steps[1:])]
    meta = json.loads((run / "run.json").read_text())
    return {"s_per_step": statistics.median(times), "tokens_per_s": steps[-1]["tokens_per_second"],
            "startup_s": wall - meta["train_seconds"], "wall_s": wall, "loss": steps[-1]["loss"]}


def _learned_gap(a: Path, b: Path) -> float:
    from safetensors.torch import load_file

    x, y = (load_file(str(p / "adapter" / "adapter_model.safetensors")) for p in (a, b))
    keys = [k for k in x if "lora_B" in k]
    num = sum(float(((x[k].float() - y[k].float()) ** 2).sum()) for k in keys) ** 0.5
    return num / sum(float((x[k].float() ** 2).sum()) for k in keys) ** 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--one-threads", type=int,
                        help="threads of the one-process reference (default --threads; --procs × --threads gives it "
                             "the cores the N processes use, the fair comparison on a small machine)")
    args = parser.parse_args()

    from core.pipeline import prepare_run
    from core.training.config import preset_config

    work = Path(tempfile.mkdtemp(prefix="tunedesk-ddp-bench-"))
    try:
        config = preset_config("quick", max_steps=args.steps, save_every=0, eval_every=0, batch_size=args.batch_size,
                               max_seq_len=args.max_seq_len, replay=False)
        prepared = work / "prepared"
        prepare_run([ROOT / "resources" / "sample_docs"], prepared, config)
        one, many = work / "one", work / "many"
        shutil.copytree(prepared, one)
        shutil.copytree(prepared, many)
        tunedesk = [sys.executable, "-m", "core.cli", "train", "--no-eval", "--run"]
        print(f"load average before: {os.getloadavg()}")
        a = _train([*tunedesk, str(one)], one, args.one_threads or args.threads)
        b = _train([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={args.procs}", "--no-python",
                    "--", *tunedesk, str(many)], many, args.threads)
        print(f"load average after:  {os.getloadavg()}")
        print(f"{args.steps} steps of {args.batch_size} examples (≤{args.max_seq_len} tokens), {args.threads} thread(s) "
              f"a DDP process, {args.one_threads or args.threads} for the one process")
        for name, r in (("1 process (app loop)", a), (f"{args.procs} processes (DDP, gloo)", b)):
            print(f"  {name:26s} {r['s_per_step']:.3f} s/step · {r['tokens_per_s']:.0f} tok/s · startup {r['startup_s']:.1f} s "
                  f"· wall {r['wall_s']:.1f} s · last loss {r['loss']:.4f}")
        print(f"  speed-up {a['s_per_step'] / b['s_per_step']:.2f}× per step "
              f"(efficiency {a['s_per_step'] / b['s_per_step'] / args.procs:.0%}); "
              f"adapters differ by {_learned_gap(one, many):.3f} of the learned weights")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
