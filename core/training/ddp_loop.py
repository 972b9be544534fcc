"""The training loop on several processes (DDP or FSDP): the single-process loop's steps, shared out by rank.

What a run trains does not depend on how many processes train it. The global batch is the run's
`batch_size`, in the order batch_order gives for (seed, epoch); each rank trains on its shard of every
batch (distributed.Ranks.shard), each shard's summed loss is scaled by world / (the batch's answer tokens
on all ranks), and DDP averages the gradients: the sum is exactly the single-process loss's gradient.
So steps, learning-rate schedule and checkpoints mean the same on 1, 2 or 8 processes, and a run stopped
on 2 continues on 1 (or in the app) from the same example: checkpoints store the data position in samples.

Loading, planning, the adapter and the events are loop.py's own steps (imported by name: one loop, not
two copies of it). What differs is here, in the same named order:
  restore  the newest checkpoint on every rank (the same one: checked), then DDP around the loss, or the
           model sharded with FSDP (fsdp.py) and AdamW rebuilt over its shards
  loop     a stop agreed by all ranks at each step; the sharded forward/backward; a sharded validation
  finish   rank 0 alone writes checkpoints, metrics, run.json and the adapter; the others only compute
           (under FSDP every rank first helps gather the full LoRA weights and AdamW state for rank 0)
Every collective sits at a point all ranks reach in the same order, so a stop or an early stop never
leaves one rank waiting for another. FSDP adds one rule: every forward is a collective (each layer's
weights are all-gathered), so every rank runs the same number of forwards, validation included.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import time
from pathlib import Path
from typing import Any

from core.errors import Cancelled, OutOfMemory, RunError
from core.events import (Caution, CheckpointSaved, Finished, OnEvent, Progress, ShouldStop, Stage, StepMetrics,
                         ignore_event, never_stop)
from core.locks import run_lock
from core.store import RunDir, RunStatus
from core.training import fsdp
from core.training.checkpoints import resume_latest, save_checkpoint
from core.training.config import TrainConfig
from core.training.data import answer_positions, batch_order, collate, micro_at, samples_before
from core.training.distributed import TRACE_ENV, Ranks, Sharding, fingerprint
from core.training.loop import (TrainResult, _clock, _eval_event, _load, _mark, _plan, _train_seconds, _Training,
                                _write_adapter, evaluate, mark_training, new_optimizer, record_failure,
                                take_counters)
from core.training.loss import autocast_for
from core.training.memory import peak_memory_gb
from core.training.metrics import MetricsFile, tee

log = logging.getLogger(__name__)


def train_ranks(run_path: Path | str, ranks: Ranks, on_event: OnEvent = ignore_event,
                should_stop: ShouldStop = never_stop, resume: bool = False,
                sharding: Sharding = Sharding()) -> TrainResult:
    """Train the prepared run in `run_path` as one of `ranks` (every rank calls this with the same arguments),
    with DDP, or with FSDP when `sharding.fsdp`.

    `should_stop` is this rank's own wish (signals; on rank 0 also the STOP file): it is asked only at
    points where all ranks agree on it. Rank 0 holds the run folder's lock and sends events on to
    `on_event` after writing the metrics; other ranks send only their own cautions."""
    run = RunDir(run_path)
    config = TrainConfig.from_dict(run.read_run()["config"])
    config.validate()
    t = _Training(run, config, tee(MetricsFile(run), on_event) if ranks.main else on_event)
    t.fsdp = sharding.fsdp
    if config.batch_size < ranks.world:
        t.emit(Caution(f"The global batch is {config.batch_size} examples for {ranks.world} processes: some "
                       "processes wait idle at every step. Prepare the run with --batch-size "
                       f"{ranks.world} or more (a multiple of {ranks.world})."))
    with run_lock(run.root) if ranks.main else contextlib.nullcontext():
        try:
            # A stop while loading is answered once all ranks can agree on it. FSDP loads onto the CPU:
            # fully_shard then moves each layer to this rank's device as it shards it, so a GPU never holds
            # the whole model (loaded onto the GPU, a model larger than one would fail before sharding).
            _load(t, never_stop, None, on="cpu" if t.fsdp else None)
            sharding.validate(ranks.launch, t.device, t.choice.precision)  # "auto" became a precision: NF4?
            _non_reentrant_checkpointing(t.model)
            if t.fsdp and t.device == "cpu":
                log.info(fsdp.KERNELS_OFF)
                t.emit(Progress(Stage.LOAD_MODEL, fsdp.KERNELS_OFF))
            _plan(t, kernels=not t.fsdp)
            _restore(t, ranks, should_stop, resume)
            stopped = _loop(t, ranks, should_stop)
            return _finish(t, ranks, stopped)
        except (Cancelled, OutOfMemory):
            raise
        except BaseException as exc:
            if not ranks.main:
                raise
            record_failure(t, exc)
            raise


def _non_reentrant_checkpointing(model: Any) -> None:
    """Gradient checkpointing (NF4 runs that ask for it) in its non-reentrant form: the reentrant one runs a
    second backward inside DDP's, which marks the LoRA gradients ready twice and fails with
    find_unused_parameters=False (torch's DDP notes). transformers 5 already defaults to it; older versions,
    and peft's kbit preparation with its own kwargs, may not."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    on = getattr(base, "is_activation_checkpointing", None)  # transformers 5's name; the old one warns
    if on if on is not None else getattr(base, "is_gradient_checkpointing", False):
        kwargs = {"use_reentrant": False}
        if hasattr(base, "activation_checkpointing_enable"):  # transformers 5's name; the old one warns
            base.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def _restore(t: _Training, ranks: Ranks, should_stop: ShouldStop, resume: bool) -> None:
    """AdamW and the schedule as loop.py makes them; the newest checkpoint on every rank; DDP around the loss,
    or the model sharded (FSDP), which loads the checkpoint into the whole model first: peft loads an adapter
    into whole tensors, not into shards."""
    plan = t.plan
    new_optimizer(t)
    if ranks.any(should_stop()):
        raise Cancelled("Stopped before training began; the run folder is unchanged.")
    t.micro = 0
    if resume:
        state = resume_latest(t.run.checkpoints, t.model, t.optimizer, t.scheduler, plan.total_steps, t.emit)
        if state is not None:
            take_counters(t, state)
            t.micro = _position(t, state)
    if not ranks.same(f"{t.step}:{t.micro}:{fingerprint(t.model)}"):
        raise RunError("The processes did not start from the same weights or the same checkpoint.",
                       "Every process must see the same run folder (a shared file system, or the same copy on each "
                       "machine) and the same base model; then start again.")
    if t.fsdp:
        _shard(t)
    else:
        t.parallel = ranks.wrap(t.model)
    if ranks.main:
        mark_training(t, processes=ranks.world, sharding=_sharding(t))


def _sharding(t: _Training) -> str:
    """What run.json and each checkpoint's state.json say the processes did: "fsdp" or "ddp"."""
    return "fsdp" if t.fsdp else "ddp"


def _shard(t: _Training) -> None:
    """FSDP: shard the model that _restore filled in, then AdamW and the schedule over the shards, holding the
    state the checkpoint gave them (fully_shard replaces every parameter, so the first AdamW holds stale ones)."""
    optimizer, schedule, rng = t.optimizer.state_dict(), t.scheduler.state_dict(), random.getstate()
    t.parallel = fsdp.shard_model(t.model, t.compute)
    new_optimizer(t)
    if optimizer["state"]:  # resumed: AdamW has moments to carry over
        fsdp.load_optimizer_state(t.parallel, t.optimizer, optimizer)
    t.scheduler.load_state_dict(schedule)
    random.setstate(rng)  # new_optimizer seeds it: keep what the checkpoint restored


def _position(t: _Training, state: dict[str, Any]) -> int:
    """The global micro-batch to continue from: the checkpoint's data position in samples (checkpoints of the
    single-process loop hold only the step, which means step × grad_accum micro-batches of the same batches)."""
    by_step = state["step"] * t.config.grad_accum
    if "samples" not in state:
        return by_step
    micro = micro_at(int(state["samples"]), t.lengths, t.config.batch_size, t.config.seed)
    if micro != by_step:
        raise RunError(f"The checkpoint of step {state['step']} stopped after {state['samples']} examples, which "
                       "is not where this run's batches reach at that step.",
                       "The dataset or the batch size changed since the checkpoint was written: start a new run "
                       "(tunedesk prepare) instead of continuing this one.")
    return micro


def _loop(t: _Training, ranks: Ranks, should_stop: ShouldStop) -> bool:
    """loop.py's loop, with the stop agreed by all ranks before each step; True when stopped."""
    plan, patience = t.plan, t.config.early_stopping_patience
    t.began, t.first_step, t.saved_step = True, t.step, t.step
    t.started = time.perf_counter()
    clock = _clock(t)
    t.emit(Progress(Stage.TRAIN, f"Training steps {t.step + 1}–{plan.total_steps} on {ranks.world} processes",
                    t.step, plan.total_steps))
    trace = _Trace.open(ranks.rank)
    while t.step < plan.total_steps:
        if ranks.any(should_stop()):
            return True
        t.phase = f"at step {t.step + 1}"
        tokens, mine = _optimizer_step(t, ranks)
        t.tokens_seen += tokens
        trace.write(t.step, mine, t.model)
        now = time.perf_counter()
        elapsed = now - t.started
        t.emit(StepMetrics(t.step, plan.total_steps, t.micro / plan.batches_per_epoch, t.last_loss,
                           t.scheduler.get_last_lr()[0], t.tokens_seen / elapsed if elapsed > 0 else 0.0,
                           t.earlier_seconds + elapsed, clock.eta(t.step, now)))
        if plan.evaluates_at(t.step) and t.val_data:
            _validate(t, ranks)
            clock.aside("eval", time.perf_counter() - now)
            if patience and t.bad_evals >= patience:  # the same val_loss on every rank: the same decision
                t.emit(Caution(f"Validation loss has not improved for {t.bad_evals} checks: "
                               f"stopping early at step {t.step}."))
                _save(t, ranks)
                return False
        if plan.saves_at(t.step):
            before = time.perf_counter()
            _save(t, ranks)
            clock.aside("save", time.perf_counter() - before)
    return False


def _optimizer_step(t: _Training, ranks: Ranks) -> tuple[int, list[int]]:
    """grad_accum global micro-batches, each shared out over the ranks, then one AdamW step on every rank.

    Returns the tokens all ranks saw and the examples this rank trained on. Two small all-reduces per
    micro-batch and step (token counts, then the logged loss): a few bytes, against the DDP gradient
    all-reduce of the whole adapter."""
    import torch

    config, plan = t.config, t.plan
    sums, counts, tokens, mine_all = [], [], 0, []
    for m in range(config.grad_accum):
        epoch, pos = divmod(t.micro, plan.batches_per_epoch)
        batch_indices = batch_order(t.lengths, config.batch_size, config.seed, epoch)[pos]
        mine = ranks.shard(batch_indices)
        # A rank whose shard is empty (a short last batch) still runs forward and backward, on a stand-in
        # example weighted 0: DDP's gradient all-reduce needs every rank, and its gradients add nothing.
        batch = collate([t.train_data[i] for i in (mine or batch_indices[:1])], t.tokenizer.pad_token_id)
        batch = {k: v.to(t.device) for k, v in batch.items()}
        n_mine = int(answer_positions(batch["labels"]).sum()) if mine else 0
        (n_all,) = ranks.sum([n_mine])  # the batch's answer tokens, over all ranks
        weight = ranks.world / n_all if mine else 0.0  # DDP divides by world: the sum is the global mean's gradient
        last = m == config.grad_accum - 1
        with _accumulating(t, last):
            with autocast_for(t.compute, t.device):
                summed = t.parallel(batch)
            (summed * (weight / config.grad_accum)).backward()
        sums.append(float(summed) if mine else 0.0)
        counts.append(n_all)
        tokens += int(batch["attention_mask"].sum()) if mine else 0
        mine_all.extend(mine)
        t.micro += 1
    totals = ranks.sum([*sums, tokens])
    # The same clip on every rank: DDP's gradients are equal everywhere; FSDP's norm is of the full gradient
    # (its shards are DTensors, whose norm torch reduces over the ranks).
    torch.nn.utils.clip_grad_norm_(t.params, 1.0)
    t.optimizer.step()
    t.scheduler.step()
    t.optimizer.zero_grad(set_to_none=True)
    t.step += 1
    t.last_loss = sum(s / n for s, n in zip(totals[:-1], counts)) / config.grad_accum  # loop.py's mean of means
    return int(totals[-1]), mine_all


def _accumulating(t: _Training, last: bool) -> Any:
    """Gradients stay on each rank until the last micro-batch of a step, then are averaged (DDP) or
    reduce-scattered (FSDP) once."""
    if t.fsdp:
        t.parallel.set_requires_gradient_sync(last)
        return contextlib.nullcontext()
    return contextlib.nullcontext() if last else t.parallel.no_sync()


def _validate(t: _Training, ranks: Ranks) -> None:
    """Validation loss over all ranks, each on every world-th example: the same number on every rank."""
    mine = t.val_data[ranks.rank :: ranks.world]
    n_mine = sum(e.answer_tokens for e in mine)
    if t.fsdp:
        mean = _sharded_evaluate(t, ranks, mine)
    elif mine:
        mean = evaluate(t.model, mine, t.config.batch_size, t.tokenizer.pad_token_id, t.device, t.compute)
    else:
        mean = 0.0
    total, count = ranks.sum([mean * n_mine if n_mine else 0.0, n_mine])
    t.val_loss = total / max(1.0, count)
    improved = t.val_loss < t.best_val - 1e-4
    t.best_val, t.bad_evals = (t.val_loss, 0) if improved else (t.best_val, t.bad_evals + 1)
    t.history.append({"step": t.step, "val_loss": t.val_loss, "train_loss": t.last_loss})
    t.emit(_eval_event(t.step, t.val_loss, t.last_loss, t.history))


def _sharded_evaluate(t: _Training, ranks: Ranks, mine: list[Any]) -> float:
    """loop.evaluate through the FSDP root (whose forward gathers the weights), with as many forwards on every
    rank as on the busiest one (rank 0 holds the most examples): a rank out of examples runs a stand-in batch
    whose loss it drops, so no rank waits on an all-gather another skipped."""
    import torch

    size, pad = t.config.batch_size, t.tokenizer.pad_token_id
    data = sorted(mine, key=lambda e: len(e.input_ids))
    rounds = math.ceil(len(t.val_data[0 :: ranks.world]) / size)
    total, count = 0.0, 0
    t.model.eval()
    with torch.no_grad(), autocast_for(t.compute, t.device):
        for i in range(rounds):
            part = data[i * size : (i + 1) * size]
            batch = {k: v.to(t.device) for k, v in collate(part or t.val_data[:1], pad).items()}
            summed = t.parallel(batch)
            if part:
                total += float(summed)
                count += int(answer_positions(batch["labels"]).sum())
    t.model.train()
    return total / max(1, count)


def _save(t: _Training, ranks: Ranks) -> None:
    """Rank 0 writes the checkpoint, once every rank has shown it holds the same LoRA weights (under FSDP,
    once they have gathered the full LoRA weights and AdamW state for it)."""
    from peft import get_peft_model_state_dict

    # Under FSDP there is one copy of the LoRA weights, in shards: nothing that could differ between ranks.
    if not t.fsdp and not ranks.same(fingerprint(t.model)):
        raise RunError(f"The processes' adapters differ at step {t.step}: their training went apart.",
                       "Continue from the last checkpoint (run the same command again); if it happens again, "
                       "report it with the run's run.json.")
    full, optimizer = _full_state(t)
    t.saved_step = t.step
    if not ranks.main:
        return
    state = {"best_val": t.best_val, "bad_evals": t.bad_evals, "history": t.history,
             "total_steps": t.plan.total_steps, "last_loss": t.last_loss, "processes": ranks.world,
             "sharding": _sharding(t), "train_seconds": _train_seconds(t),
             "samples": samples_before(t.micro, t.lengths, t.config.batch_size, t.config.seed)}
    adapter = get_peft_model_state_dict(t.model, state_dict=full)
    path = save_checkpoint(t.run.checkpoints, t.step, adapter, t.optimizer, t.scheduler,
                           state, t.config.keep_checkpoints, optimizer_state=optimizer)
    t.emit(CheckpointSaved(t.step, str(path)))


def _finish(t: _Training, ranks: Ranks, stopped: bool) -> TrainResult:
    """loop.py's finish: the last checkpoint and validation on all ranks, then rank 0 writes adapter and status."""
    t.phase = f"while finishing (after step {t.step})"
    total, adapter = t.plan.total_steps, str(t.run.adapter)
    resume_words = f"Stopped at step {t.step} of {total}. Run the same command again to continue."
    seconds = _train_seconds(t)
    if stopped and t.step == t.first_step:
        if ranks.main:
            _mark(t.run, status=RunStatus.STOPPED)
            t.emit(Finished(t.step, True, adapter if t.run.adapter.is_dir() else "", resume_words))
        return TrainResult(RunStatus.STOPPED, t.step, total, t.last_loss, None, seconds, 0, peak_memory_gb(t.device),
                           adapter)
    if t.step > t.saved_step:
        _save(t, ranks)
    if not stopped and t.val_data:
        _validate(t, ranks)
    status = RunStatus.STOPPED if stopped else RunStatus.FINISHED
    seconds, peak = _train_seconds(t), peak_memory_gb(t.device)
    full, _ = _full_state(t, optimizer=False)
    if ranks.main:
        _write_adapter(t, full)
        t.run.update_run(status=status, step=t.step, train_loss=t.last_loss, val_loss=t.val_loss,
                         train_seconds=seconds, tokens=t.tokens_seen, peak_memory_gb=peak, processes=ranks.world,
                         sharding=_sharding(t))
        message = resume_words if stopped else f"Finished {t.step} steps in {seconds / 60:.1f} min on {ranks.world} processes."
        t.emit(Finished(t.step, stopped, adapter, message))
    return TrainResult(status, t.step, total, t.last_loss, t.val_loss, seconds, t.tokens_seen, peak, adapter)


def _full_state(t: _Training, optimizer: bool = True) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Under FSDP, the LoRA weights (and AdamW's state) as full tensors: on rank 0, gathered by all ranks.
    (None, None) under DDP, where every rank's model and optimizer are whole."""
    if not t.fsdp:
        return None, None
    weights = fsdp.lora_state(t.parallel)
    return weights, fsdp.optimizer_state(t.parallel, t.optimizer) if optimizer else None


class _Trace:
    """The per-rank diagnostic of TRACE_ENV: one line per step, this rank's examples, its LoRA fingerprint
    (under DDP; FSDP's ranks hold different shards of one copy) and how many of the base model's values it holds."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @classmethod
    def open(cls, rank: int) -> "_Trace":
        folder = os.environ.get(TRACE_ENV)
        if not folder:
            return cls(None)
        Path(folder).mkdir(parents=True, exist_ok=True)
        return cls(Path(folder) / f"rank-{rank}.jsonl")

    def write(self, step: int, examples: list[int], model: Any) -> None:
        if self.path is None:
            return
        local, full = fsdp.shard_sizes(model)
        sharded = local < full
        line = {"step": step, "examples": examples, "fingerprint": None if sharded else fingerprint(model),
                "base_local": local, "base_full": full}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
