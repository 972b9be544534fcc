"""Pre-flight estimate accuracy: predicted vs measured peak memory and seconds per step.

    python bench/estimate.py [--steps 3] [--only NAME ...]

For each configuration (LoRA rank, sequence length, batch, precision — NF4
included) a run of the demo model on resources/sample_docs is prepared, which
saves core.training.estimate's prediction in run.json, and then trained for a
few steps by the app's own worker (`main.py --worker train RUN`) in a fresh
process with one BLAS thread; run.json's peak_memory_gb is that process's own
peak RSS (VmHWM). The examples are passages cut at max_seq_len, so every batch
is the longest one; the last configuration is what the app trains (the standard
preset's questions, passages in context and replay: mixed lengths). Seconds per
step leave out the first step (warm-up) and are compared with the estimate for
as many cores as BLAS threads (--threads, default 1).

Target (issue #6): peak-memory prediction within 20%. Time is printed with the
load average: a busy machine slows a run, never speeds it up.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE_DOCS = ROOT / "resources" / "sample_docs"

CONFIGS = {
    "bf16 r16 4×128": dict(precision="bf16", lora_r=16, batch_size=4, max_seq_len=128),
    "bf16 r16 4×256": dict(precision="bf16", lora_r=16, batch_size=4, max_seq_len=256),
    "bf16 r16 8×256": dict(precision="bf16", lora_r=16, batch_size=8, max_seq_len=256),
    "bf16 r64 4×256": dict(precision="bf16", lora_r=64, batch_size=4, max_seq_len=256),
    "bf16 r16 4×384": dict(precision="bf16", lora_r=16, batch_size=4, max_seq_len=384),  # the default
    "bf16 r16 2×512": dict(precision="bf16", lora_r=16, batch_size=2, max_seq_len=512),
    "fp32 r16 4×256": dict(precision="fp32", lora_r=16, batch_size=4, max_seq_len=256),
    "nf4  r16 4×256": dict(precision="nf4", lora_r=16, batch_size=4, max_seq_len=256),
    # What the app trains: the preset's own questions, passages in context and replay, lengths mixed.
    # 40 steps at least: the estimate's peak is the run's longest batch, which a few steps may not reach.
    "standard (app)": dict(preset="standard", qa_pairs=True, replay=True, min_run_steps=40),
}


def measure(name: str, settings: dict, steps: int, tmp: Path, threads: int) -> dict:
    from core.device import detect
    from core.models import model_shape, resolve_model
    from core.pipeline import prepare_run
    from core.store import RunDir
    from core.training.config import preset_config
    from core.training.estimate import estimate
    from core.worker import worker_command

    run = tmp / name.replace(" ", "_").replace("×", "x")
    settings = dict(settings)
    preset = settings.pop("preset", "quick")
    steps = max(steps, settings.pop("min_run_steps", 0))
    plain = dict(qa_pairs=False, replay=False, lora_alpha=2 * settings["lora_r"]) if "lora_r" in settings else {}
    config = preset_config(preset, max_steps=steps, epochs=100.0, save_every=0, eval_every=0, report=False,
                           **{**plain, **settings})
    prepare_run([SAMPLE_DOCS], run, config)
    predicted = RunDir(run).read_run()["estimate"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    done = subprocess.run(worker_command(run), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"name": name, "error": (done.stdout + done.stderr).strip().splitlines()[-1][:200]}
    meta = RunDir(run).read_run()
    metrics = [m for m in RunDir(run).read_metrics() if m["type"] == "step"]
    shutil.rmtree(run, ignore_errors=True)  # checkpoints with optimiser state: hundreds of MB per config
    per_step = (metrics[-1]["elapsed_s"] - metrics[0]["elapsed_s"]) / max(1, len(metrics) - 1)
    here = estimate(config, model_shape(resolve_model(config.model)), dataclasses.replace(detect(), cpu_cores=threads),
                    predicted["train_examples"], predicted["mean_tokens"], predicted["longest_tokens"],
                    predicted.get("computed_tokens"), predicted.get("attention_span"))
    return {"name": name, "precision": meta["precision"], "mem_pred": predicted["peak_memory_gb"],
            "mem_meas": meta["peak_memory_gb"], "s_pred": here.seconds_per_step, "s_meas": per_step,
            "load": os.getloadavg()[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3, help="training steps per configuration (≥ 2)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads, and the cores the estimate assumes")
    parser.add_argument("--only", nargs="*", help="names of configurations to run (default: all)")
    args = parser.parse_args()
    from core.quiet import quiet_libraries

    quiet_libraries()
    names = [n for n in CONFIGS if not args.only or any(o in n for o in args.only)]
    tmp = Path(tempfile.mkdtemp(prefix="estimate-bench-"))
    rows = []
    for name in names:
        rows.append(measure(name, CONFIGS[name], max(2, args.steps), tmp, args.threads))
        print(f"  measured {name}", file=sys.stderr, flush=True)

    print(f"\nestimate: demo model, {args.steps} steps per configuration, {args.threads} thread(s)")
    print(f"  {'config':16s} {'ran as':6s} {'peak GB pred':>12s} {'measured':>9s} {'error':>7s}   "
          f"{'s/step pred':>11s} {'measured':>9s} {'error':>7s} {'load':>5s}")
    worst = 0.0
    for r in rows:
        if "error" in r:
            print(f"  {r['name']:16s} failed: {r['error']}")
            continue
        mem_err = r["mem_pred"] / r["mem_meas"] - 1
        worst = max(worst, abs(mem_err))
        print(f"  {r['name']:16s} {r['precision']:6s} {r['mem_pred']:12.2f} {r['mem_meas']:9.2f} {mem_err:+7.0%}   "
              f"{r['s_pred']:11.2f} {r['s_meas']:9.2f} {r['s_pred'] / r['s_meas'] - 1:+7.0%} {r['load']:5.1f}")
    print(f"  worst peak-memory error {worst:.0%}   (target ≤ 20%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
