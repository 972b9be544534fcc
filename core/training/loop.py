"""The training loop: LoRA / QLoRA on a run folder's dataset, resumable.

A plain loop rather than transformers.Trainer: we need answer-only loss with
selective logits (see loss.py), exact resume of the data position, events at
every step, atomic checkpoints and a stop that answers within one step — each
of which the Trainer makes indirect. `_train` reads top to bottom as five named
steps over one `_Training` state:
  load     the model at the precision this device affords, its tokenizer, LoRA adapters
  plan     encode the examples; the step plan the pre-flight estimate also uses (plan.py)
  restore  optimiser and schedule, and with --resume the newest checkpoint that loads
  loop     step / log / evaluate / save until the plan is done or the user stops
  finish   last checkpoint, adapter, run.json's status
Metrics go to one sink, tee(MetricsFile(run), on_event), so metrics.jsonl and
the caller see the same events. Out of memory is recognised in memory.py. About 400
lines as one idea: what stands alone (loss, plan, memory, checkpoints, model) already lives apart.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from core.dataset.build import load_examples
from core.dataset.examples import Example
from core.device import DeviceInfo, PrecisionChoice, choose_precision, detect
from core.errors import Cancelled, OutOfMemory, RunError, TuneDeskError
from core.events import (Caution, CheckpointSaved, EvalMetrics, Finished, OnEvent, Progress, ShouldStop, StepMetrics,
                         Stage, ignore_event, never_stop)
from core.locks import run_lock
from core.models import count_params, load_model, load_tokenizer, resolve_model
from core.store import RunDir, RunStatus
from core.training.checkpoints import as_disk_error, newest_step, resume_latest, save_checkpoint
from core.training.config import TrainConfig
from core.training.data import Encoded, batch_order, collate, encode
from core.training.distil import attach_teachers, distil_weight
from core.training.eta import StepClock, batch_shared, computed_tokens, tokens_per_step
from core.training.loss import answer_loss, autocast_for, packs_rows, prompt_rows
from core.training.memory import is_oom, oom_error, peak_memory_gb
from core.training.measured_speed import record_speed
from core.training.metrics import MetricsFile, tee
from core.training.model import add_lora, compile_layers, cpu_kernels, should_compile
from core.training.plan import StepPlan, plan_steps


@dataclass(frozen=True)
class TrainResult:
    status: RunStatus
    """FINISHED, or STOPPED by the user (resumable)."""
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


def _mark(run: RunDir, **fields: Any) -> None:
    """Record a failure in run.json if the disk lets us; never hide the original error behind this one."""
    try:
        if run.run_json.is_file():
            run.update_run(**fields)
    except (TuneDeskError, OSError):
        pass


def encode_examples(tokenizer: Any, examples: Sequence[Example], config: TrainConfig) -> list[Encoded]:
    """The examples as token ids, each with its distil weight: replay rows learn the base model's distribution
    (replay_distribution), the documents' rows mix it with their words (anchor; core/training/distil.py).
    What the loop trains on and the pre-flight estimate (core/pipeline.py) measures."""
    return [dataclasses.replace(encode(tokenizer, ex.messages, config.max_seq_len),
                                distil=distil_weight(ex.kind, config), said_only=ex.kind != "replay")
            for ex in examples]


def _encode_all(tokenizer: Any, path: Path, config: TrainConfig) -> list[Encoded]:
    """A file's examples (encode_examples), without those left with no answer token."""
    return [e for e in encode_examples(tokenizer, load_examples(path), config) if e.answer_tokens]


def evaluate(model: Any, data: list[Encoded], batch_size: int, pad_id: int, device: str, precision: str) -> float:
    """Mean answer-token loss over `data`, in batches of similar length.

    The loss is a sum over answer tokens, so the batching does not change it; in file order a batch
    pads every short question to its one long passage-in-context example, and a validation check
    cost 10-12 s where training steps took 0.6 s (session 7's test run: 14 checks, 22% of its time)."""
    import torch

    if not data:
        return float("nan")
    data = sorted(data, key=lambda e: len(e.input_ids))
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


@dataclass
class _Training:
    """What the named steps share: load, plan and restore fill it in; the loop advances the counters."""

    run: RunDir
    config: TrainConfig
    emit: OnEvent
    """tee(MetricsFile(run), on_event): every event, metrics written to metrics.jsonl first."""
    phase: str = "while loading the model"
    """Where training is, in the words an out-of-memory message uses."""
    began: bool = False
    """The loop has started: from here on a failure is recorded in run.json (before it, nothing changed)."""
    # load
    info: DeviceInfo = field(init=False)
    model_dir: Path = field(init=False)
    choice: PrecisionChoice = field(init=False)
    compute: str = field(init=False)
    """The autocast mode: the precision, or NF4 weights computing in bf16 where the device has it."""
    tokenizer: Any = field(init=False)
    model: Any = field(init=False)
    # plan
    train_data: list[Encoded] = field(init=False)
    val_data: list[Encoded] = field(init=False)
    lengths: list[int] = field(init=False)
    plan: StepPlan = field(init=False)
    prompts: list[tuple[list[int], list[int]]] | None = field(init=False)
    """The examples' (ids, labels) where a packed batch computes their shared prompt once (loss.prompt_rows)."""
    # restore
    params: list[Any] = field(init=False)
    optimizer: Any = field(init=False)
    scheduler: Any = field(init=False)
    # progress: step to last_loss are saved in each checkpoint's state.json; the rest belong to this session
    step: int = 0
    best_val: float = float("inf")
    bad_evals: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    last_loss: float = float("nan")
    resting: set[int] = field(default_factory=set)
    """Training examples (indices into train_data) that sit out their next pass: the model said them word for
    word when last trained (config.rest_said, _rest)."""
    rested: int = 0
    """Example passes skipped because the example rested, over the whole run (run.json's "rested_passes")."""
    micro: int = 0
    """Global micro-batch index: the data position, step × grad_accum."""
    saved_step: int = 0
    first_step: int = 0
    """The step this session started from (0, or the checkpoint it resumed)."""
    started: float = 0.0
    """time.perf_counter() when this session's loop began."""
    earlier_seconds: float = 0.0
    """Training time of the sessions before this one (a resumed run's checkpoint says): totals survive Resume."""
    tokens_seen: int = 0
    step_seconds: float | None = None
    """This session's measured seconds per step (eta.py StepClock.seconds_per_step), once enough are timed."""
    val_loss: float | None = None
    # several processes (ddp_loop.py)
    fsdp: bool = False
    """The processes shard the model (FSDP) rather than each holding it whole (DDP)."""
    parallel: Any = None
    """The model as the processes run it: DDP's wrapper, or the model FSDP sharded; None in one process."""

    @property
    def device(self) -> str:
        return self.info.kind


def train_run(run_path: Path | str, on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop,
              resume: bool = False, device_info: DeviceInfo | None = None) -> TrainResult:
    """Train the run prepared in `run_path` (see pipeline.prepare_run).

    Holds the run folder's lock throughout (a second trainer gets `RunLocked`).
    Raises `Cancelled` when stopped before the first step (nothing changed),
    `OutOfMemory` / `DiskError` with what to do; the newest checkpoint survives all three.
    """
    run = RunDir(run_path)
    config = TrainConfig.from_dict(run.read_run()["config"])
    config.validate()
    t = _Training(run, config, tee(MetricsFile(run), on_event))
    with run_lock(run.root):
        try:
            return _train(t, should_stop, resume, device_info)
        except (Cancelled, OutOfMemory):
            raise
        except BaseException as exc:
            record_failure(t, exc)
            raise


def record_failure(t: _Training, exc: BaseException) -> None:
    """What a failure leaves in run.json, for both loops: out of memory raises OutOfMemory (what to do, the
    checkpoint kept); another error once training began marks the run failed with its message."""
    saved = {"step": t.saved_step} if t.began else {}
    if is_oom(exc):
        _mark(t.run, status=RunStatus.FAILED, error="out of memory", **saved)
        raise oom_error(t.config, t.phase, newest_step(t.run.checkpoints)) from exc
    if t.began and isinstance(exc, Exception):
        error = exc.message if isinstance(exc, TuneDeskError) else f"{type(exc).__name__}: {exc}"
        _mark(t.run, status=RunStatus.FAILED, error=error, **saved)


def _train(t: _Training, should_stop: ShouldStop, resume: bool, device_info: DeviceInfo | None) -> TrainResult:
    _load(t, should_stop, device_info)  # 1. model, tokenizer, LoRA adapters
    _plan(t)                            # 2. examples, step plan, CPU kernels or torch.compile
    _restore(t, should_stop, resume)    # 3. optimiser, schedule, and the newest checkpoint
    stopped = _loop(t, should_stop)     # 4. step / log / evaluate / save
    return _finish(t, stopped)          # 5. last checkpoint, adapter, status


def _check_stop(should_stop: ShouldStop) -> None:
    # Loading takes seconds (minutes for big models): answer a stop between its parts.
    if should_stop():
        raise Cancelled("Stopped before training began; the run folder is unchanged.")


def _load(t: _Training, should_stop: ShouldStop, device_info: DeviceInfo | None, on: str | None = None) -> None:
    """The base model at the precision this device affords, its tokenizer, and fresh LoRA adapters; loaded
    onto `on` when given (FSDP: the CPU, for fully_shard to move each layer's shard to the device), else
    onto the device that trains."""
    # torch and peft before the first event: importing them takes hundreds of MB, and memory that runs out
    # inside their native code aborts the process with no message, where loading weights raises MemoryError.
    import peft  # noqa: F401
    import torch  # noqa: F401

    t.info = device_info or detect()
    t.emit(Progress(Stage.LOAD_MODEL, f"Loading {t.config.model}…"))
    _check_stop(should_stop)
    t.model_dir = resolve_model(t.config.model)
    t.choice = choose_precision(t.info, count_params(t.model_dir), t.config.precision)
    t.emit(Progress(Stage.LOAD_MODEL, f"Precision: {t.choice.precision} — {t.choice.reason}"))
    t.tokenizer = load_tokenizer(t.model_dir)
    _check_stop(should_stop)
    model = load_model(t.model_dir, t.choice.precision, on or t.device)
    _check_stop(should_stop)
    t.model = add_lora(model, t.config, t.choice.precision)
    _check_stop(should_stop)
    t.model.train()
    t.compute = "nf4_bf16" if t.choice.precision == "nf4" and t.info.bf16 else t.choice.precision


def _plan(t: _Training, kernels: bool = True) -> None:
    """Encode the examples, make the step plan (the estimate's own), and choose the CPU kernels or a compile
    (`kernels` False: neither, for a model FSDP will shard; ddp_loop.py says why)."""
    t.phase = "while preparing the training data"
    t.train_data = _encode_all(t.tokenizer, t.run.train_file, t.config)
    t.val_data = _encode_all(t.tokenizer, t.run.validation_file, t.config)
    if not t.train_data:
        raise RunError("The training set is empty.", "Add documents with readable text and prepare the run again.")
    if kernels and any(e.distil for e in t.train_data):  # not under FSDP (kernels False): its rows
        # learn their words (distil.py). Seconds on a CPU: said, so the wait is not a silent one.
        t.emit(Progress(Stage.LOAD_MODEL, "Recording the original model's answers…"))
        t.train_data = attach_teachers(t.model, t.train_data, t.device, t.compute)
        t.val_data = attach_teachers(t.model, t.val_data, t.device, t.compute)
    t.lengths = [len(e.input_ids) for e in t.train_data]
    t.plan = plan_steps(t.config, len(t.train_data))
    compiling = kernels and should_compile(t.config, t.device, t.plan.total_steps)
    if t.device == "cpu" and kernels:
        cpu_kernels(t.model, fuse_layers=not compiling)
    t.prompts = prompt_rows(t.model, t.train_data)  # after cpu_kernels: they choose the attention that packs
    if compiling:
        t.emit(Progress(Stage.LOAD_MODEL, "Compiling the model for this CPU (about a minute, once per run)…"))
        compile_layers(t.model)


def new_optimizer(t: _Training) -> None:
    """AdamW over the LoRA weights and the warm-up + cosine schedule, for both loops (ddp_loop.py too).

    On a CPU, torch's fused AdamW: its default there is a Python loop of ~10 ops per tensor, and LoRA has
    many small ones (420 on the demo model): 15-18 ms of a ~470 ms step against 3 ms fused, measured here at
    two threads. Same update up to fp32 rounding (2e-7 after 50 steps). Not under FSDP, whose sharded
    parameters are not plain tensors, nor on GPUs until measured there."""
    import torch

    plan = t.plan
    t.params = [p for p in t.model.parameters() if p.requires_grad]
    fused = True if t.device == "cpu" and not t.fsdp else None
    t.optimizer = torch.optim.AdamW(t.params, lr=t.config.learning_rate, weight_decay=t.config.weight_decay,
                                    fused=fused)
    t.scheduler = torch.optim.lr_scheduler.LambdaLR(t.optimizer, lambda s: lr_at(s, plan.total_steps, plan.warmup_steps))
    random.seed(t.config.seed)


def take_counters(t: _Training, state: dict[str, Any]) -> None:
    """A resumed checkpoint's counters (what _save wrote), for both loops: one place when a counter is added."""
    t.step, t.best_val, t.bad_evals, t.history = state["step"], state["best_val"], state["bad_evals"], state["history"]
    t.last_loss = state.get("last_loss", float("nan"))
    t.resting = {i for i in state.get("resting", ()) if i < len(t.train_data)}
    t.rested = int(state.get("rested", 0))
    t.earlier_seconds = float(state.get("train_seconds", 0.0))


def _restore(t: _Training, should_stop: ShouldStop, resume: bool) -> None:
    """AdamW and the warm-up + cosine schedule; with resume, the newest checkpoint that loads (older ones
    stand in for a damaged one). Then run.json says "training": the folder changes only from here on."""
    plan = t.plan
    new_optimizer(t)
    _check_stop(should_stop)
    if resume:
        state = resume_latest(t.run.checkpoints, t.model, t.optimizer, t.scheduler, plan.total_steps, t.emit)
        if state is not None:
            take_counters(t, state)
    _check_stop(should_stop)
    mark_training(t)


def mark_training(t: _Training, **more: Any) -> None:
    """run.json says "training", with what this session trains on and how, for both loops (ddp_loop.py gives
    its process count and sharding): from here on the folder changes. One process says so too, or a run
    continued alone after a launch of several would still claim that launch's processes."""
    t.run.update_run(status=RunStatus.TRAINING, error=None, precision=t.choice.precision,
                     precision_reason=t.choice.reason, model_path=str(t.model_dir), device=t.device,
                     total_steps=t.plan.total_steps, train_examples=len(t.train_data),
                     validation_examples=len(t.val_data), **{"processes": 1, "sharding": None, **more})


def _loop(t: _Training, should_stop: ShouldStop) -> bool:
    """Train until the plan is done (or validation stops improving); True when the user stopped it."""
    plan, patience = t.plan, t.config.early_stopping_patience
    t.began, t.first_step, t.saved_step, t.micro = True, t.step, t.step, t.step * t.config.grad_accum
    t.started = time.perf_counter()
    clock = _clock(t)
    t.emit(Progress(Stage.TRAIN, f"Training steps {t.step + 1}–{plan.total_steps}", t.step, plan.total_steps))
    while t.step < plan.total_steps:
        if should_stop():
            return True
        t.phase = f"at step {t.step + 1}"
        tokens, computed = _optimizer_step(t)
        t.tokens_seen += tokens
        now = time.perf_counter()
        elapsed = now - t.started
        t.emit(StepMetrics(t.step, plan.total_steps, t.micro / plan.batches_per_epoch, t.last_loss,
                           t.scheduler.get_last_lr()[0], t.tokens_seen / elapsed if elapsed > 0 else 0.0,
                           t.earlier_seconds + elapsed, clock.eta(t.step, now, computed)))
        t.step_seconds = clock.seconds_per_step(t.step, now) or t.step_seconds
        if plan.evaluates_at(t.step) and t.val_data:
            _validate(t)
            clock.aside("eval", time.perf_counter() - now)
            if patience and t.bad_evals >= patience:
                t.emit(Caution(f"Validation loss has not improved for {t.bad_evals} checks: "
                               f"stopping early at step {t.step}."))
                _save(t)
                return False
        if plan.saves_at(t.step):
            before = time.perf_counter()
            _save(t)
            clock.aside("save", time.perf_counter() - before)
    return False


def _clock(t: _Training) -> StepClock:
    """Time left for this session, seeded with the pre-flight's per-step and per-check seconds (run.json)."""
    try:
        estimate = t.run.read_run().get("estimate") or {}
    except TuneDeskError:
        estimate = {}
    sizes = tokens_per_step(t.plan, t.lengths, t.config.batch_size, t.config.grad_accum, t.config.seed,
                            packs_rows(t.model), t.prompts)
    return StepClock(t.plan, t.step, t.started, sizes, float(estimate.get("seconds_per_step") or 0.0),
                     float(estimate.get("seconds_per_eval") or 0.0), validates=bool(t.val_data))


def _optimizer_step(t: _Training) -> tuple[int, int]:
    """grad_accum micro-batches forward and backward, then one AdamW step; returns the tokens seen and the
    tokens computed (eta.computed_tokens). A step whose examples all rest trains nothing, and its schedule
    still advances: the plan's steps, checks and saves stay where the estimate put them."""
    import torch

    config, plan = t.config, t.plan
    packed = packs_rows(t.model)
    step_loss, step_tokens, computed, trained = 0.0, 0, 0, 0
    for _ in range(config.grad_accum):
        epoch, pos = divmod(t.micro, plan.batches_per_epoch)
        indices = _present(t, batch_order(t.lengths, config.batch_size, config.seed, epoch)[pos])
        t.micro += 1
        if not indices:
            continue
        batch = {k: v.to(t.device) for k, v in collate([t.train_data[i] for i in indices], t.tokenizer.pad_token_id).items()}
        said: list[Any] | None = [] if config.rest_said else None
        with autocast_for(t.compute, t.device):
            loss, _ = answer_loss(t.model, batch, said=said)  # mean over the batch's answer tokens
        (loss / config.grad_accum).backward()
        step_loss += float(loss)  # a CPU-GPU sync point; once per micro-batch is cheap
        step_tokens += int(batch["attention_mask"].sum())
        computed += computed_tokens([len(t.train_data[i].input_ids) for i in indices], packed,
                                    batch_shared(indices, t.prompts))
        trained += 1
        if said:
            _rest(t, indices, said[0])
    if trained:
        torch.nn.utils.clip_grad_norm_(t.params, 1.0)
        t.optimizer.step()
        t.last_loss = step_loss / trained
    t.scheduler.step()
    t.optimizer.zero_grad(set_to_none=True)
    t.step += 1
    return step_tokens, computed


def _present(t: _Training, planned: list[int]) -> list[int]:
    """The examples of a planned micro-batch that train: those resting sit this one out and come back after it."""
    present = [i for i in planned if i not in t.resting]
    t.resting.difference_update(planned)
    t.rested += len(planned) - len(present)
    return present


def _rest(t: _Training, indices: list[int], said: Any) -> None:
    """Rest the examples whose every answer token the model said (said: answer_loss's flags, example by
    example in `indices` order). Replay rows learn a distribution, not their words: never rested."""
    import torch

    counts = [t.train_data[i].answer_tokens for i in indices]
    for i, flags in zip(indices, torch.split(said.cpu(), counts)):
        if (t.train_data[i].said_only or not t.train_data[i].distil) and bool(flags.all()):
            t.resting.add(i)


def _validate(t: _Training) -> None:
    """Validation loss now; it counts towards early stopping and the overfitting warning."""
    t.val_loss = evaluate(t.model, t.val_data, t.config.batch_size, t.tokenizer.pad_token_id, t.device, t.compute)
    improved = t.val_loss < t.best_val - 1e-4
    t.best_val, t.bad_evals = (t.val_loss, 0) if improved else (t.best_val, t.bad_evals + 1)
    t.history.append({"step": t.step, "val_loss": t.val_loss, "train_loss": t.last_loss})
    t.emit(_eval_event(t.step, t.val_loss, t.last_loss, t.history))


def _save(t: _Training) -> None:
    """A resumable checkpoint of this step (adapter, optimiser, schedule, RNG, counters)."""
    from peft import get_peft_model_state_dict

    state = {"best_val": t.best_val, "bad_evals": t.bad_evals, "history": t.history,
             "total_steps": t.plan.total_steps, "last_loss": t.last_loss, "train_seconds": _train_seconds(t),
             "resting": sorted(t.resting), "rested": t.rested}
    path = save_checkpoint(t.run.checkpoints, t.step, get_peft_model_state_dict(t.model), t.optimizer, t.scheduler,
                           state, t.config.keep_checkpoints)
    t.saved_step = t.step
    t.emit(CheckpointSaved(t.step, str(path)))


def _train_seconds(t: _Training) -> float:
    """All the training time that led to this step: earlier sessions' and this one's."""
    return t.earlier_seconds + (time.perf_counter() - t.started if t.began else 0.0)


def _finish(t: _Training, stopped: bool) -> TrainResult:
    """The last checkpoint, a final validation, the adapter, then the status — in the order a kill at any
    moment leaves resumable: the status says "finished" only once the adapter is in place."""
    t.phase = f"while finishing (after step {t.step})"
    total, adapter = t.plan.total_steps, str(t.run.adapter)
    resume_words = f"Stopped at step {t.step} of {total}. Resume continues from here."
    if stopped and t.step == t.first_step:  # stopped before this session trained a step: nothing new to write
        _mark(t.run, status=RunStatus.STOPPED)
        t.emit(Finished(t.step, True, adapter if t.run.adapter.is_dir() else "", resume_words))
        return TrainResult(RunStatus.STOPPED, t.step, total, t.last_loss, None, _train_seconds(t), 0,
                           peak_memory_gb(t.device), adapter)
    if t.step > t.saved_step:
        _save(t)
    if not stopped and t.val_data:
        _validate(t)
    _write_adapter(t)
    seconds = _train_seconds(t)
    status = RunStatus.STOPPED if stopped else RunStatus.FINISHED
    peak = peak_memory_gb(t.device)
    t.run.update_run(status=status, step=t.step, train_loss=t.last_loss, val_loss=t.val_loss, train_seconds=seconds,
                     tokens=t.tokens_seen, peak_memory_gb=peak, rested_passes=t.rested, **_measured_speed(t))
    message = resume_words if stopped else f"Finished {t.step} steps in {seconds / 60:.1f} min."
    t.emit(Finished(t.step, stopped, adapter, message))
    return TrainResult(status, t.step, total, t.last_loss, t.val_loss, seconds, t.tokens_seen, peak, adapter)


def _measured_speed(t: _Training) -> dict[str, Any]:
    """This session's seconds per step beside the estimate's, kept for this computer's next estimate
    (measured_speed.py): run.json's "measured_seconds_per_step", or nothing when too few steps were timed."""
    if t.step_seconds is None:
        return {}
    try:
        run = t.run.read_run()
    except TuneDeskError:
        return {}
    estimate = run.get("estimate") or {}
    predicted = float(estimate.get("seconds_per_step") or 0.0) / float(estimate.get("speed_factor") or 1.0)
    record_speed(t.info, t.choice.precision, str(run.get("base_fingerprint") or ""), predicted, t.step_seconds)
    return {"measured_seconds_per_step": round(t.step_seconds, 4)}


def _write_adapter(t: _Training, state_dict: dict[str, Any] | None = None) -> None:
    """Written aside, then swapped in by renames: a kill at any moment leaves the old adapter or the new
    one under adapter/, never half of one. The tokenizer travels with it: the exact chat template trained.
    `state_dict`: the LoRA weights as full tensors where the model holds only shards (FSDP), keyed as the
    peft model's state_dict keys them."""
    import shutil

    run = t.run
    tmp, old = run.root / ".adapter-tmp", run.root / ".adapter-old"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    try:
        t.model.save_pretrained(str(tmp), **({"state_dict": state_dict} if state_dict is not None else {}))
        t.tokenizer.save_pretrained(str(tmp))
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


def _eval_event(step: int, val_loss: float, train_loss: float, history: list[dict[str, Any]]) -> EvalMetrics:
    """Flag overfitting when validation loss rose twice in a row while training loss fell."""
    overfit = False
    if len(history) >= 3:
        a, b, c = history[-3:]
        overfit = a["val_loss"] < b["val_loss"] < c["val_loss"] and a["train_loss"] > c["train_loss"]
    message = ("The model is starting to memorise the training text instead of generalising (validation loss is "
               "rising while training loss falls). Consider stopping, or use fewer epochs." if overfit else "")
    return EvalMetrics(step, val_loss, train_loss, overfit, message)
