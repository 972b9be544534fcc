"""The training loop: LoRA / QLoRA on a run folder's dataset, resumable.

A plain loop rather than transformers.Trainer: we need answer-only loss with
selective logits (see loss.py), exact resume of the data position, events at
every step, atomic checkpoints and a stop that answers within one step — each
of which the Trainer makes indirect. It reads top to bottom:
  1. load model + tokenizer, add LoRA   2. encode data, plan steps
  3. optimizer + schedule (+ restore)   4. step / log / eval / save until done
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.dataset.build import load_examples
from core.device import DeviceInfo, choose_precision, detect
from core.errors import Cancelled, DiskError, OutOfMemory, RunError, TuneDeskError
from core.events import (CheckpointSaved, EvalMetrics, Finished, OnEvent, Progress, ShouldStop, StepMetrics,
                         Warning, ignore_event, never_stop)
from core.locks import run_lock
from core.models import count_params, load_model, load_tokenizer, resolve_model
from core.store import RunDir
from core.training.attention import use_for_training
from core.training.checkpoints import as_disk_error, latest_checkpoint, load_latest, restore_rng, save_checkpoint
from core.training.config import TrainConfig
from core.training.data import Encoded, batch_order, collate, encode
from core.training.lora_linear import fuse_lora_layers
from core.training.loss import answer_loss, autocast_for
from core.training.rms_norm import fuse_rms_norms


@dataclass(frozen=True)
class TrainResult:
    status: str  # "finished" | "stopped"
    step: int
    total_steps: int
    train_loss: float
    val_loss: float | None
    seconds: float
    tokens: int
    peak_memory_gb: float
    adapter_path: str


def lr_at(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def peak_memory_gb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return process_peak_rss_gb()


def process_peak_rss_gb() -> float:
    """This process's own peak resident memory.

    Not getrusage's ru_maxrss on Linux: the kernel carries it across exec, so a
    worker started from a large parent (the GUI with a chat model loaded, or
    pytest) would report the parent's size. VmHWM belongs to the process's
    own address space. Windows has no `resource` module; psutil gives its
    peak working set there.
    """
    if sys.platform.startswith("linux"):
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20  # kB
        except (OSError, ValueError, IndexError):
            pass
    if sys.platform == "win32":
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**30
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
    return rss / (2**30 if sys.platform == "darwin" else 2**20)


def _is_oom(exc: BaseException) -> bool:
    """MemoryError, CUDA OOM, or torch's CPU allocator failing — here or anywhere in the cause chain.

    The chain matters: model loading wraps whatever failed in a ModelError.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError) or type(current).__name__ == "OutOfMemoryError":
            return True
        text = str(current).lower()
        if isinstance(current, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                                  or "failed to allocate" in text):
            return True
        # oneDNN (CPU bf16 kernels) reports a failed allocation only as this; it can also
        # mean an unsupported shape, so it counts as out of memory only when memory is short.
        if isinstance(current, RuntimeError) and "could not create a primitive" in text and _memory_is_short():
            return True
        current = current.__cause__ or current.__context__
    return False


def _memory_is_short() -> bool:
    """Near this process's address-space limit (RLIMIT_AS), or the machine nearly out of RAM."""
    try:
        import resource  # not on Windows: the psutil check below still applies

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as f:
                size = int(f.read().split()[0]) * resource.getpagesize()
            if size > 0.9 * soft:
                return True
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    try:
        import psutil

        return psutil.virtual_memory().available < 256 * 2**20
    except Exception:
        return False


def _oom_error(config: TrainConfig, where: str, checkpoint_step: int | None) -> OutOfMemory:
    kept = (f"The last checkpoint (step {checkpoint_step}) is kept." if checkpoint_step
            else "No checkpoint had been saved yet; nothing else was lost.")
    smaller = []
    if config.preset.split()[0] != "quick":
        smaller.append("the 'quick' preset")
    if config.batch_size > 1:
        smaller.append(f"a smaller batch (--batch-size {max(1, config.batch_size // 2)})")
    if config.max_seq_len > 128:
        smaller.append(f"shorter chunks (--max-seq-len {max(128, config.max_seq_len // 2)})")
    if config.precision != "nf4":
        smaller.append("4-bit precision (--precision nf4)")
    smaller.append("a smaller model")
    return OutOfMemory(
        f"Out of memory {where}. {kept}",
        "Close other programs and continue with --resume, or start the run again with "
        + ", ".join(smaller[:-1]) + (" or " if len(smaller) > 1 else "") + smaller[-1] + ".",
    )


def _checkpoint_step(run: RunDir) -> int | None:
    path = latest_checkpoint(run.checkpoints)
    return int(path.name.split("-", 1)[1]) if path else None


def _mark(run: RunDir, **fields: Any) -> None:
    """Record a failure in run.json if the disk lets us; never hide the original error behind this one."""
    try:
        if run.run_json.is_file():
            run.update_run(**fields)
    except (TuneDeskError, OSError):
        pass


def add_lora(model: Any, config: TrainConfig, precision: str) -> Any:
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if precision == "nf4":
        # Casts norms/embeddings to fp32 for stable 4-bit training (QLoRA recipe);
        # gradient checkpointing stays off: small models are faster without it.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=bool(config.extras.get("gradient_checkpointing")))
    targets: Any = config.target_modules
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    torch.manual_seed(config.seed)  # identical LoRA init for identical configs
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=targets, task_type="CAUSAL_LM", bias="none")
    return get_peft_model(model, lora)


COMPILE_MIN_STEPS = 150
"""At ~2.6 s/step and 8% faster than the eager CPU kernels, a warm-cache ~10 s compile pays back after
~50 steps, a cold ~40 s one after ~190: 150 sits between (the default preset's runs are 300+ steps)."""


def should_compile(config: TrainConfig, device: str, steps_left: int) -> bool:
    """torch.compile's CPU code needs a C++ compiler (gcc/clang, or MSVC's cl on Windows) and Python's
    own headers, which an installed app (a PyInstaller bundle) does not carry; CUDA and MPS are not
    measured yet, so they keep eager mode."""
    import shutil
    import sys

    if config.compile == "off" or device != "cpu" or getattr(sys, "frozen", False):
        return False
    has_compiler = any(shutil.which(c) for c in ("g++", "c++", "clang++", "cl"))
    if config.compile == "on":
        return has_compiler
    return has_compiler and steps_left >= COMPILE_MIN_STEPS


def compile_layers(model: Any) -> None:
    """Compile each decoder layer in place (state-dict keys unchanged, so checkpoints and adapters
    are the same files). bench/train_speed.py on the demo model here, bf16 LoRA r16, with the CPU
    attention and head loss: 195 (eager CPU kernels) → 211 effective tokens/s (1.08×), peak memory
    1.93 → 1.74 GB, after a first step of ~12 s with torch's compile cache warm (~40 s cold). Inductor
    fuses peft's LoRA and the norms itself, so their eager kernels stay off. Layers share one compiled
    graph; shapes are dynamic so each batch length does not recompile. If compiling fails at the first
    step (no working compiler after all), torch falls back to eager mode for that layer."""
    import torch

    torch._dynamo.config.suppress_errors = True
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    for layer in getattr(decoder, "layers", []):
        layer.compile(dynamic=True)


def cpu_kernels(model: Any, fuse_layers: bool) -> None:
    """Our CPU attention (core/training/attention.py) and, unless torch.compile will fuse the
    layers itself, one autograd function per LoRA linear and per RMSNorm (lora_linear.py, rms_norm.py)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    use_for_training(base)
    if fuse_layers:
        fuse_lora_layers(model)
        fuse_rms_norms(model)


def _encode_all(tokenizer: Any, path: Path, max_len: int) -> list[Encoded]:
    return [e for e in (encode(tokenizer, ex.messages, max_len) for ex in load_examples(path))
            if any(l != -100 for l in e.labels[1:])]


def evaluate(model: Any, data: list[Encoded], batch_size: int, pad_id: int, device: str, precision: str) -> float:
    import torch

    if not data:
        return float("nan")
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), autocast_for(precision, device):
        for i in range(0, len(data), batch_size):
            batch = {k: v.to(device) for k, v in collate(data[i : i + batch_size], pad_id).items()}
            loss, n = answer_loss(model, batch)
            total += float(loss) * n
            count += n
    model.train()
    return total / max(1, count)


def train_run(run_path: Path | str, on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop,
              resume: bool = False, device_info: DeviceInfo | None = None) -> TrainResult:
    """Train the run prepared in `run_path` (see pipeline.prepare_run).

    Holds the run folder's lock throughout (a second trainer gets `RunLocked`).
    Raises `Cancelled` when stopped before the first step (nothing changed),
    `OutOfMemory` / `DiskError` with what to do; the newest checkpoint survives all three.
    """
    run = RunDir(run_path)
    meta = run.read_run()
    config = TrainConfig.from_dict(meta["config"])
    config.validate()
    phase = ["while loading the model"]  # said in an out-of-memory message; the loop names its step itself
    with run_lock(run.root):
        try:
            return _train(run, config, on_event, should_stop, resume, device_info, phase)
        except (Cancelled, OutOfMemory):
            raise
        except BaseException as exc:
            if not _is_oom(exc):
                raise
            _mark(run, status="failed", error="out of memory")
            raise _oom_error(config, phase[0], _checkpoint_step(run)) from exc


def _train(run: RunDir, config: TrainConfig, on_event: OnEvent, should_stop: ShouldStop, resume: bool,
           device_info: DeviceInfo | None, phase: list[str]) -> TrainResult:
    import torch
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    info = device_info or detect()
    device = info.kind

    def check_stop() -> None:
        # Loading takes seconds (minutes for big models): answer a stop between its parts.
        if should_stop():
            raise Cancelled("Stopped before training began; the run folder is unchanged.")

    # 1. Model, tokenizer and adapter ------------------------------------------------
    on_event(Progress("load-model", f"Loading {config.model}…"))
    check_stop()
    model_dir = resolve_model(config.model)
    choice = choose_precision(info, count_params(model_dir), config.precision)
    on_event(Progress("load-model", f"Precision: {choice.precision} — {choice.reason}"))
    tokenizer = load_tokenizer(model_dir)
    check_stop()
    model = load_model(model_dir, choice.precision, device)
    check_stop()
    model = add_lora(model, config, choice.precision)
    check_stop()
    model.train()
    compute = "nf4_bf16" if choice.precision == "nf4" and info.bf16 else choice.precision
    pad_id = tokenizer.pad_token_id

    # 2. Data and step plan --------------------------------------------------------------
    phase[0] = "while preparing the training data"
    train_data = _encode_all(tokenizer, run.dataset / "train.jsonl", config.max_seq_len)
    val_data = _encode_all(tokenizer, run.dataset / "validation.jsonl", config.max_seq_len)
    if not train_data:
        raise RunError("The training set is empty.", "Add documents with readable text and prepare the run again.")
    lengths = [len(e.input_ids) for e in train_data]
    batches_per_epoch = math.ceil(len(train_data) / config.batch_size)
    steps_per_epoch = max(1, math.ceil(batches_per_epoch / config.grad_accum))
    total_steps = max(1, math.ceil(config.epochs * steps_per_epoch)) if config.epochs > 0 else config.max_steps
    if config.max_steps:
        total_steps = min(total_steps, config.max_steps)
    warmup = int(total_steps * config.warmup_ratio)

    done_before = (_checkpoint_step(run) or 0) if resume else 0
    compiling = should_compile(config, device, total_steps - done_before)
    if device == "cpu":
        cpu_kernels(model, fuse_layers=not compiling)
    if compiling:
        on_event(Progress("load-model", "Compiling the model for this CPU (about a minute, once per run)…"))
        compile_layers(model)

    # 3. Optimiser, schedule, and the state to resume from --------------------------------
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_at(s, total_steps, warmup))
    step, best_val, bad_evals, history = 0, float("inf"), 0, []
    resumed_loss = float("nan")
    random.seed(config.seed)
    check_stop()
    if resume:
        found = load_latest(run.checkpoints, lambda path, why: on_event(
            Warning(f"Checkpoint {path.name} is damaged and was skipped ({why}).")))
        if found is not None:
            ckpt_path, ckpt = found
            set_peft_model_state_dict(model, ckpt["adapter"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            restore_rng(ckpt["rng"])
            state = ckpt["state"]
            step, best_val, bad_evals, history = state["step"], state["best_val"], state["bad_evals"], state["history"]
            resumed_loss = state.get("last_loss", float("nan"))
            on_event(Progress("train", f"Resuming from step {step} ({ckpt_path.name})", step, total_steps))
        else:
            on_event(Progress("train", "No complete checkpoint found: starting from the beginning", 0, total_steps))
    check_stop()

    run.update_run(status="training", error=None, precision=choice.precision, precision_reason=choice.reason,
                   model_path=str(model_dir), device=info.kind, total_steps=total_steps,
                   train_examples=len(train_data), validation_examples=len(val_data))

    def save(at_step: int) -> None:
        state = {"best_val": best_val, "bad_evals": bad_evals, "history": history, "total_steps": total_steps,
                 "last_loss": last_loss}
        path = save_checkpoint(run.checkpoints, at_step, get_peft_model_state_dict(model), optimizer, scheduler,
                               state, config.keep_checkpoints)
        on_event(CheckpointSaved(at_step, str(path)))

    def write_adapter() -> None:
        # Written aside, then swapped in by renames: a kill at any moment leaves the
        # old adapter or the new one under adapter/, never half of one.
        import shutil

        tmp, old = run.root / ".adapter-tmp", run.root / ".adapter-old"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        try:
            model.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))  # the exact chat template used in training travels with the adapter
            if run.adapter.exists():
                run.adapter.rename(old)
            tmp.rename(run.adapter)
        except Exception as exc:  # safetensors reports a full disk as its own error type
            error = as_disk_error(exc, "Could not save the adapter")
            if error is None:
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            if old.exists() and not run.adapter.exists():
                old.rename(run.adapter)
            raise error from exc
        shutil.rmtree(old, ignore_errors=True)

    # 4. The loop --------------------------------------------------------------------------
    started = time.perf_counter()
    tokens_seen, last_loss, val_loss = 0, resumed_loss, None
    stopped = False
    saved_step = first_step = step
    micro = step * config.grad_accum  # global micro-batch index: where resume continues
    on_event(Progress("train", f"Training steps {step + 1}–{total_steps}", step, total_steps))
    try:
        while step < total_steps:
            if should_stop():
                stopped = True
                break
            step_loss, step_tokens = 0.0, 0
            for _ in range(config.grad_accum):
                epoch, pos = divmod(micro, batches_per_epoch)
                indices = batch_order(lengths, config.batch_size, config.seed, epoch)[pos]
                batch = {k: v.to(device) for k, v in collate([train_data[i] for i in indices], pad_id).items()}
                with autocast_for(compute, device):
                    loss, _ = answer_loss(model, batch)
                (loss / config.grad_accum).backward()
                step_loss += float(loss) / config.grad_accum  # a sync point; once per micro-batch is cheap
                step_tokens += int(batch["attention_mask"].sum())
                micro += 1
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            last_loss = step_loss
            tokens_seen += step_tokens
            elapsed = time.perf_counter() - started
            rate = tokens_seen / elapsed if elapsed > 0 else 0.0
            eta = elapsed / (step - first_step) * (total_steps - step)  # mean step time of this session
            metrics = StepMetrics(step, total_steps, micro / batches_per_epoch, last_loss,
                                  scheduler.get_last_lr()[0], rate, elapsed, eta)
            run.append_metric({"type": "step", **metrics.__dict__})
            on_event(metrics)

            if config.eval_every and step % config.eval_every == 0 and step < total_steps and val_data:
                val_loss = evaluate(model, val_data, config.batch_size, pad_id, device, compute)
                improved = val_loss < best_val - 1e-4
                best_val, bad_evals = (val_loss, 0) if improved else (best_val, bad_evals + 1)
                history.append({"step": step, "val_loss": val_loss, "train_loss": last_loss})
                event = _eval_event(step, val_loss, last_loss, history)
                run.append_metric({"type": "eval", **event.__dict__})
                on_event(event)
                if config.early_stopping_patience and bad_evals >= config.early_stopping_patience:
                    on_event(Warning(f"Validation loss has not improved for {bad_evals} checks: stopping early at step {step}."))
                    save(step)
                    saved_step = step
                    break
            if config.save_every and step % config.save_every == 0 and step < total_steps:
                save(step)
                saved_step = step
    except Exception as exc:
        if _is_oom(exc):
            _mark(run, status="failed", error="out of memory", step=saved_step)
            raise _oom_error(config, f"at step {step + 1}", _checkpoint_step(run)) from exc
        _mark(run, status="failed", error=f"{type(exc).__name__}: {exc}", step=saved_step)
        raise

    # 5. Wrap up: final checkpoint, adapter, status ------------------------------------------
    phase[0] = f"while finishing (after step {step})"
    if stopped and step == first_step:  # stopped before this session trained a step: nothing new to write
        _mark(run, status="stopped")
        on_event(Finished(step, True, str(run.adapter) if run.adapter.is_dir() else "",
                          f"Stopped at step {step} of {total_steps}. Continue with --resume."))
        return TrainResult("stopped", step, total_steps, last_loss, None, time.perf_counter() - started, 0,
                           peak_memory_gb(device), str(run.adapter))
    try:
        if step > saved_step:
            save(step)
    except DiskError as exc:
        _mark(run, status="failed", error=exc.message)
        raise
    if not stopped and val_data:
        val_loss = evaluate(model, val_data, config.batch_size, pad_id, device, compute)
        history.append({"step": step, "val_loss": val_loss, "train_loss": last_loss})
        event = _eval_event(step, val_loss, last_loss, history)
        run.append_metric({"type": "eval", **event.__dict__})
        on_event(event)
    try:
        write_adapter()
    except DiskError as exc:
        _mark(run, status="failed", error=exc.message)
        raise
    seconds = time.perf_counter() - started
    status = "stopped" if stopped else "finished"
    peak = peak_memory_gb(device)
    run.update_run(status=status, step=step, train_loss=last_loss, val_loss=val_loss, train_seconds=seconds,
                   tokens=tokens_seen, peak_memory_gb=peak)
    message = (f"Stopped at step {step} of {total_steps}. Continue with --resume." if stopped
               else f"Finished {step} steps in {seconds / 60:.1f} min.")
    on_event(Finished(step, stopped, str(run.adapter), message))
    return TrainResult(status, step, total_steps, last_loss, val_loss, seconds, tokens_seen, peak, str(run.adapter))


def _eval_event(step: int, val_loss: float, train_loss: float, history: list[dict[str, Any]]) -> EvalMetrics:
    """Flag overfitting when validation loss rose twice in a row while training loss fell."""
    overfit = False
    if len(history) >= 3:
        a, b, c = history[-3:]
        overfit = a["val_loss"] < b["val_loss"] < c["val_loss"] and a["train_loss"] > c["train_loss"]
    message = ("The model is starting to memorise the training text instead of generalising (validation loss is "
               "rising while training loss falls). Consider stopping, or use fewer epochs." if overfit else "")
    return EvalMetrics(step, val_loss, train_loss, overfit, message)
