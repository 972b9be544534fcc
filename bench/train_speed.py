"""Training throughput: our loop vs the way peers write it, on the same data, model and adapter.

    python bench/train_speed.py [--steps 12] [--warmup 2] [--threads 1] [--batch-size 4] [--rank 16]

Ours is the app's own training worker (`main.py --worker train RUN`: bf16 autocast
where the CPU has it, length-grouped batches, loss and logits on answer tokens
only, and the CPU kernels of core/training: attention, fused head loss, LoRA
linear, RMSNorm). It is measured against two references, both transformers Trainer +
peft LoRA with the same LoRA (rank, alpha, dropout, all-linear), batch size, learning
rate and schedule, seed, thread count, steps and warm-up steps, on the same run folder
(resources/sample_docs) encoded the same way (core.training.data.encode):

* **The fp32 reference** (kept from issue #6, so old figures stay comparable) is what a
  user would write knowing nothing of the device: fp32, Trainer's random sampler,
  padding to the longest in each batch. It gets exactly the examples our first
  `--steps` batches hold, shuffled by its sampler, so both see the same effective
  (non-padding) tokens over the run.

* **The fair reference** (issue #20) is Trainer + peft as a competent peer configures it
  on this device with standard options only: base weights loaded in bf16
  (`dtype=torch.bfloat16`, as peft's and TRL's LoRA recipes do; peft keeps the adapter in
  fp32, as ours does) and `bf16=True` (accelerate's bf16 autocast) where the device has
  bf16 (`core.device.detect().bf16`; fp32 otherwise), and
  `train_sampling_strategy="group_by_length"` (transformers 5's name; it was
  `group_by_length=True` in 4.x), which gives Trainer's LengthGroupedSampler. It trains on
  the whole training set, as a peer would, for the same `--steps`: the sampler groups
  within mega-batches of up to 50 batches, and given only our first batches' examples
  (48 by default of 75) its mega-batches shrink to 3 batches and it pads ~30% instead of
  ~23% (measured on this data, seeds 0–2) — a handicap no peer has. So its examples are
  not ours and its effective tokens differ by a few per cent; the rate is per effective
  token, and each side's effective tokens and padding share are printed. Dataloader:
  `dataloader_num_workers=0`, since collating a padded batch takes microseconds against
  a step of seconds and a worker process would take CPU from the thread being measured;
  pinned memory is a CUDA matter (Trainer switches it off on a CPU). No `torch_compile`:
  the headline compares eager with eager (our loop compiles only runs of 150+ steps, and
  the compiled line below is labelled as such); Trainer's `torch_compile=True` compiles
  the whole peft model through inductor, which a peer would not try for a LoRA run on a
  CPU without measuring it, and it is not measured here. No gradient checkpointing on
  either side (ours has it off by default too). Neither reference gets our tricks: both
  apply the LM head to every position (the full 49k-vocabulary logits, cross-entropy in
  fp32 as transformers computes it), use transformers' SDPA attention, peft's LoRA
  layers and RMSNorm as they are, and Trainer's default optimiser (fused AdamW), with
  gradient clipping at 1.0 as ours.

Each side runs in its own process, so each peak memory (VmHWM: the process's
own peak RSS, see core.training.memory.process_peak_rss_gb) is its own, loading
included. Rates are effective tokens per second over the steps after the
warm-up, timed the same way on each reference (Trainer's step-end callback) and from
our metrics.jsonl. The reference processes check what they ran with and the summary says
it: whether bf16 autocast was on in the model's forward, the base weights' dtype, and
each side's padding share. MFU is our model FLOPs per second (forward + input-gradient backward
through the frozen base, LoRA weight gradients, causal attention, the head on
answer tokens; padding not counted, nor the chat template's prompt that a CPU batch's
examples share and ours computes once, core.training.data.shared_prefix) over the best
bf16 / fp32 matmul rate measured in this run with the same thread count. Effective tokens
count every example's own, that prompt included: what the references compute too.

Ours runs twice when a C++ compiler is installed: eager, and with its layers compiled
(torch.compile, `compile=on`; the app does it for runs of 150+ steps). The compile
happens in the first step, which the warm-up leaves out; its time is printed.

On a machine with a GPU (CUDA, or Apple's MPS) all sides train there (the worker picks
it as the app does; the references' Trainer is told), the matmul peak is measured on it,
and on CUDA peak memory is torch's allocated peak (what run.json records there) for all.

Output: the table's lines are those of issue #6 (ours vs the fp32 reference), then the fair
reference's own lines, and last a line `vs fair reference: X.XX×` (our eager effective
tokens/s over the fair reference's), which scripts read.

Targets: issue #6, ≥ 2× the fp32 reference's tokens/s at ≤ its peak memory; MFU ≥ 50%;
issue #20, ≥ 1.5× the fair reference's tokens/s at ≤ its peak memory.
One thread by default: on a shared 2-core machine two threads measure the neighbours.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE_DOCS = ROOT / "resources" / "sample_docs"


def matmul_peak(threads: int, device: str) -> dict[str, float]:
    """Best GFLOP/s of a plain matmul, per dtype, at shapes like the model's and a large square one."""
    import torch

    torch.set_num_threads(threads)
    sync = {"cuda": torch.cuda.synchronize, "mps": torch.mps.synchronize}.get(device, lambda: None)
    shapes = [(1024, 576, 1536), (1024, 1536, 576), (2048, 2048, 2048)]
    if device == "cuda":
        shapes.append((8192, 8192, 8192))  # a GPU needs far larger problems to reach its peak
    best: dict[str, float] = {}
    for dtype, name in ((torch.bfloat16, "bf16"), (torch.float32, "fp32")):
        for m, k, n in shapes:
            a, b = torch.randn(m, k, dtype=dtype, device=device), torch.randn(k, n, dtype=dtype, device=device)
            for _ in range(2):
                a @ b
            sync()
            reps, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 1.0:
                a @ b
                reps += 1
                sync()
            rate = 2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9
            best[name] = max(best.get(name, 0.0), rate)
    return best


def step_plan(run: Path, steps: int, device: str) -> tuple[list[list[int]], list[tuple[int, int, int]], list[int]]:
    """The batches our loop takes in its first `steps` steps (grad_accum 1), per example
    (tokens, answer tokens, index) — the same encode and batch_order as core.training.loop — and per batch
    the prompt tokens its packed row computes once (core.training.data.packed `share`, on a CPU)."""
    from core.dataset.build import load_examples
    from core.models import load_tokenizer, resolve_model
    from core.store import RunDir
    from core.training.config import TrainConfig
    from core.training.data import IGNORE, batch_order, encode

    config = TrainConfig.from_dict(RunDir(run).read_run()["config"])
    tokenizer = load_tokenizer(resolve_model(config.model))
    encoded = [encode(tokenizer, ex.messages, config.max_seq_len) for ex in load_examples(RunDir(run).train_file)]
    encoded = [e for e in encoded if any(l != IGNORE for l in e.labels[1:])]
    lengths = [len(e.input_ids) for e in encoded]
    per_epoch = len(batch_order(lengths, config.batch_size, config.seed, 0))
    batches = []
    for micro in range(steps):
        epoch, pos = divmod(micro, per_epoch)
        batches.append(batch_order(lengths, config.batch_size, config.seed, epoch)[pos])
    stats = [(len(e.input_ids), sum(l != IGNORE for l in e.labels[1:]), i) for i, e in enumerate(encoded)]
    from transformers import AutoConfig

    from core.training.eta import batch_shared
    from core.training.loss import planned_prompt_rows

    prompts = planned_prompt_rows(device == "cpu", AutoConfig.from_pretrained(str(resolve_model(config.model))), encoded)
    return batches, stats, [batch_shared(b, prompts) for b in batches]


def model_flops(batches: list[list[int]], stats: list[tuple[int, int, int]], run: Path, shared: list[int]) -> float:
    """Model FLOPs of these batches, padding excluded (see the module docstring), a batch's shared prompt
    counted once: the work the model does, not the work the examples would take one by one."""
    from core.models import model_shape, resolve_model
    from core.store import RunDir
    from core.training.config import TrainConfig
    from core.training.estimate import lora_params

    config = TrainConfig.from_dict(RunDir(run).read_run()["config"])
    shape = model_shape(resolve_model(config.model))
    per_token = 4 * shape.linear_params + 6 * lora_params(shape, config)
    total = 0.0
    for batch, prefix in zip(batches, shared):
        for k, i in enumerate(batch):
            tokens, answers, _ = stats[i]
            skip = prefix if k else 0  # a later example's queries attend to the one prefix as they would to theirs
            total += (tokens - skip) * per_token + 6 * shape.layers * shape.q_dim * (tokens**2 - skip**2)  # causal QKᵀ and AV, ×3 for backward
            total += answers * 4 * shape.vocab * shape.hidden
    return total


# --- the two sides, each in a process of its own ------------------------------------------------------

def run_ours(run: Path, env: dict[str, str], warmup: int) -> dict[str, float]:
    from core.store import RunDir
    from core.worker import worker_command

    done = subprocess.run(worker_command(run), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"our worker failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    meta = RunDir(run).read_run()
    steps = [m for m in RunDir(run).read_metrics() if m["type"] == "step"]
    seen = [m["tokens_per_second"] * m["elapsed_s"] for m in steps]  # cumulative effective tokens
    a, b = steps[warmup - 1], steps[-1]
    return {"tokens": seen[-1] - seen[warmup - 1], "seconds": b["elapsed_s"] - a["elapsed_s"],
            "peak_gb": meta["peak_memory_gb"], "precision": meta["precision"], "steps": len(steps),
            "first_step_s": steps[0]["elapsed_s"]}


def reference_main(run: Path, indices_file: Path, warmup: int, out: Path, device: str, kind: str) -> None:
    """transformers Trainer + peft LoRA, padded to the longest in batch, full-vocabulary logits.

    kind "fp32": fp32, Trainer's random sampler over exactly the examples our batches hold.
    kind "fair": as a competent peer would run it here (see the module docstring): bf16 base
    weights and bf16 autocast where the device has bf16, Trainer's length-grouped sampler over
    the whole training set; the same number of steps."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments

    from core.dataset.build import load_examples
    from core.device import detect
    from core.models import load_tokenizer, resolve_model
    from core.quiet import quiet_libraries
    from core.store import RunDir
    from core.training.config import TrainConfig
    from core.training.data import IGNORE, encode
    from core.training.memory import process_peak_rss_gb

    quiet_libraries()
    config = TrainConfig.from_dict(RunDir(run).read_run()["config"])
    folder = resolve_model(config.model)
    tokenizer = load_tokenizer(folder)
    encoded = [encode(tokenizer, ex.messages, config.max_seq_len) for ex in load_examples(RunDir(run).train_file)]
    encoded = [e for e in encoded if any(l != IGNORE for l in e.labels[1:])]
    chosen = json.loads(indices_file.read_text())
    steps = len(chosen) // config.batch_size
    fair = kind == "fair"
    if fair:
        chosen = list(range(len(encoded)))  # the whole training set; the sampler picks and groups
    rows = [{"input_ids": encoded[i].input_ids, "attention_mask": [1] * len(encoded[i].input_ids),
             "labels": encoded[i].labels} for i in chosen]
    bf16 = fair and detect().bf16

    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.bfloat16 if bf16 else torch.float32)
    torch.manual_seed(config.seed)
    model = get_peft_model(model, LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                             target_modules="all-linear", task_type="CAUSAL_LM", bias="none"))
    pad = DataCollatorForSeq2Seq(tokenizer, padding="longest", label_pad_token_id=IGNORE)
    batch_tokens: list[int] = []
    batch_computed: list[int] = []  # padded positions included
    widths: list[int] = []
    step_ends: list[float] = []
    autocast_seen: list[bool] = []

    def collate(features):
        batch = pad(features)
        batch_tokens.append(int(batch["attention_mask"].sum()))
        batch_computed.append(batch["input_ids"].numel())
        widths.append(batch["input_ids"].shape[1])
        return batch

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            step_ends.append(time.perf_counter())

    # What the forward really ran under: proves bf16=True reached the model as autocast.
    autocast_device = "cuda" if device == "cuda" else device
    model.get_base_model().model.register_forward_pre_hook(
        lambda module, inputs: autocast_seen.append(torch.is_autocast_enabled(autocast_device)) if not autocast_seen else None)

    with tempfile.TemporaryDirectory() as tmp:
        options = {"bf16": True, "train_sampling_strategy": "group_by_length",
                   "dataloader_num_workers": 0} if fair else {"dataloader_num_workers": 0}
        if fair and not bf16:
            options.pop("bf16")
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=config.batch_size, max_steps=steps,
                                 learning_rate=config.learning_rate, lr_scheduler_type="cosine", warmup_steps=int(steps * config.warmup_ratio),
                                 weight_decay=config.weight_decay, logging_strategy="no", save_strategy="no", report_to=[],
                                 use_cpu=device == "cpu", seed=config.seed, disable_tqdm=True, **options)
        trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collate)
        trainer.add_callback(Clock())
        trainer.train()
    base_dtype = str(next(p for n, p in model.named_parameters() if "lora_" not in n).dtype).removeprefix("torch.")
    result = {"tokens": sum(batch_tokens[warmup:steps]), "seconds": step_ends[steps - 1] - step_ends[warmup - 1],
              "peak_gb": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else process_peak_rss_gb(),
              "steps": len(step_ends), "all_tokens": sum(batch_tokens[:steps]),
              "padding": 1 - sum(batch_tokens[:steps]) / sum(batch_computed[:steps]),
              "autocast": bool(autocast_seen and autocast_seen[0]), "base_dtype": base_dtype,
              "attention": model.config._attn_implementation,
              "step_s": [b - a for a, b in zip(step_ends, step_ends[1:])], "widths": widths[:steps],
              "sampler": args.train_sampling_strategy, "optim": getattr(args.optim, "value", str(args.optim))}
    out.write_text(json.dumps(result))


def run_reference(run: Path, indices: list[int], warmup: int, env: dict[str, str], tmp: Path,
                  device: str, kind: str = "fp32") -> dict[str, float]:
    (tmp / "indices.json").write_text(json.dumps(indices))
    out = tmp / f"reference-{kind}.json"
    done = subprocess.run([sys.executable, __file__, "--reference", str(run), str(tmp / "indices.json"), str(warmup),
                           str(out), device, kind],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {kind} reference failed:\n{done.stderr[-3000:]}")
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12, help="optimiser steps per side")
    parser.add_argument("--warmup", type=int, default=2, help="first steps left out of the rates")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-seq-len", type=int, default=384)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--keep", help="keep the run folder here")
    parser.add_argument("--reference", nargs=6, help=argparse.SUPPRESS)  # internal: a reference's own process
    args = parser.parse_args()
    if args.reference:
        run, indices, warmup, out, device, kind = args.reference
        reference_main(Path(run), Path(indices), int(warmup), Path(out), device, kind)
        return 0
    if not 1 <= args.warmup < args.steps:
        parser.error("--warmup must be at least 1 and less than --steps")

    from core.pipeline import prepare_run
    from core.quiet import quiet_libraries
    from core.training.config import preset_config

    quiet_libraries()
    from core.device import detect

    device = detect().kind  # the worker picks the same; the reference is told
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    tmp = Path(tempfile.mkdtemp(prefix="train-speed-"))
    run = Path(args.keep) if args.keep else tmp / "run"
    config = preset_config("standard", max_steps=args.steps, epochs=100.0, eval_every=0, save_every=0,
                           replay=False, batch_size=args.batch_size,
                           max_seq_len=args.max_seq_len, lora_r=args.rank, lora_alpha=2 * args.rank)
    prepare_run([SAMPLE_DOCS], run, config)
    batches, stats, shared = step_plan(run, args.steps, device)
    load = [os.getloadavg()[0]]

    from core.store import RunDir
    from core.training.model import should_compile

    compiled_run = tmp / "compiled"
    shutil.copytree(run, compiled_run)
    RunDir(compiled_run).update_run(config={**RunDir(run).read_run()["config"], "compile": "on"})
    RunDir(run).update_run(config={**RunDir(run).read_run()["config"], "compile": "off"})
    peak = matmul_peak(args.threads, device)
    ours = run_ours(run, env, args.warmup)
    compiled = None
    if should_compile(dataclasses.replace(config, compile="on"), device, args.steps):
        compiled = run_ours(compiled_run, env, args.warmup)
    load.append(os.getloadavg()[0])
    ref = run_reference(run, [i for b in batches for i in b], args.warmup, env, tmp, device)
    load.append(os.getloadavg()[0])
    fair = run_reference(run, [i for b in batches for i in b], args.warmup, env, tmp, device, "fair")
    load.append(os.getloadavg()[0])

    ours_rate, ref_rate = ours["tokens"] / ours["seconds"], ref["tokens"] / ref["seconds"]
    fair_rate = fair["tokens"] / fair["seconds"]
    work = model_flops(batches[args.warmup:], stats, run, shared[args.warmup:])
    flops = work / ours["seconds"]
    cflops = work / compiled["seconds"] if compiled else 0.0
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    precision = "bf16" if ours["precision"] in ("bf16", "nf4") else "fp32"
    all_tokens = sum(stats[i][0] for b in batches for i in b)
    from core.training.eta import computed_tokens

    padded = sum(computed_tokens([stats[i][0] for i in b], device == "cpu") for b in batches)  # packed on a CPU
    computed = sum(computed_tokens([stats[i][0] for i in b], device == "cpu", n) for b, n in zip(batches, shared))
    print(f"\ntrain_speed on {device}: demo model, LoRA r={args.rank} all-linear, batch {args.batch_size}, ≤{args.max_seq_len} tokens, "
          f"{args.steps} steps each ({args.warmup} warm-up left out), {args.threads} thread(s), "
          f"load average {min(load):.2f}–{max(load):.2f}")
    print(f"  effective tokens in all {args.steps} steps: {all_tokens} (ours and the fp32 reference); our padding "
          f"{1 - all_tokens / padded:.0%} of what was computed, the fp32 reference's {ref['padding']:.0%}")
    print(f"  computed by ours: {computed} tokens, the prompt a batch's examples share computed once "
          f"({padded - computed} fewer, {1 - computed / padded:.0%})")
    print(f"  {'':28s} {'ours (' + ours['precision'] + ')':>14s} {'reference (fp32)':>17s} {'ratio':>8s}")
    print(f"  {'effective tokens/s':28s} {ours_rate:14.0f} {ref_rate:17.0f} {ours_rate / ref_rate:7.2f}×   (target ≥ 2×)")
    print(f"  {'tokens / seconds measured':28s} {ours['tokens']:8.0f}/{ours['seconds']:5.1f} "
          f"{ref['tokens']:11.0f}/{ref['seconds']:5.1f}")
    memory = "peak memory (CUDA alloc.), GB" if device == "cuda" else "peak memory (VmHWM), GB"
    print(f"  {memory:28s} {ours['peak_gb']:14.2f} {ref['peak_gb']:17.2f} "
          f"{ours['peak_gb'] / ref['peak_gb']:7.2f}×   (target ≤ 1×)")
    print(f"  matmul peak measured now: bf16 {peak['bf16']:.0f} GFLOP/s, fp32 {peak['fp32']:.0f} GFLOP/s")
    print(f"  our model FLOP/s {flops / 1e9:.0f} G = MFU {flops / 1e9 / peak[precision]:.0%} of the {precision} peak "
          f"(target ≥ 50%)")
    if compiled is not None:
        rate = compiled["tokens"] / compiled["seconds"]
        print(f"  compiled layers (compile=on): {rate:.0f} effective tokens/s = {rate / ref_rate:.2f}× the reference, "
              f"{rate / ours_rate:.2f}× eager; peak {compiled['peak_gb']:.2f} GB; MFU {cflops / 1e9 / peak[precision]:.0%}; "
              f"first step {compiled['first_step_s']:.0f} s (compiling) vs {ours['first_step_s']:.0f} s eager")
    else:
        print("  compiled layers: not measured " + ("(no C++ compiler on PATH)" if device == "cpu" else
                                                 f"(the app compiles layers on CPUs only, not on {device})"))
    setup = (f"{'bf16 autocast' if fair['autocast'] else 'no autocast'}, {fair['base_dtype']} base weights, "
             f"{fair['sampler']}, {fair['attention']} attention, {fair['optim']}")
    print(f"  fair reference (Trainer + peft: {setup}; the whole training set, issue #20):")
    print(f"    {fair_rate:.0f} effective tokens/s ({fair['tokens']:.0f}/{fair['seconds']:.1f} s measured; "
          f"{fair['all_tokens']} effective tokens in all {args.steps} steps, padding {fair['padding']:.0%}); "
          f"peak memory {fair['peak_gb']:.2f} GB, ours {ours['peak_gb'] / fair['peak_gb']:.2f}× it (target ≤ 1×)")
    print(f"    ours {ours_rate / fair_rate:.2f}× it (target ≥ 1.5×); the fp32 reference {ref_rate / fair_rate:.2f}× it"
          + (f"; compiled layers {compiled['tokens'] / compiled['seconds'] / fair_rate:.2f}× it" if compiled else ""))
    print(f"vs fair reference: {ours_rate / fair_rate:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
