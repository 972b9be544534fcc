"""Training a text classifier on a prepared run folder: resumable, stoppable, with events.

The same machinery as the chat task, imported rather than copied: the run lock
(core/locks.py), atomic checkpoints and their resume (core/training/checkpoints.py),
the metrics sink (metrics.jsonl and the caller see the same events), the
length-grouped batch order that is a pure function of (seed, epoch), out-of-memory
recognition, and the run states of core/runs.py. Its own loop because the
step differs: a cross-entropy over labels with class weights, and validation that
measures accuracy and macro-F1, not only a loss. Reads top to bottom:
  load     tokenizer, the model with its head and LoRA, the rows as token ids
  restore  AdamW and the schedule, with --resume the newest checkpoint that loads
  loop     step / log / validate / save until the plan is done or the user stops
  finish   last checkpoint, final metrics and worst rows (eval.json), adapter, status
"""

from __future__ import annotations

import math
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.classify.config import ClassifyConfig
from core.classify.metrics import classifier_eval, worst_rows
from core.classify.model import load_for_training, load_tokenizer, resolve_classifier_model
from core.errors import Cancelled, OutOfMemory, RunError, TuneDeskError
from core.events import (CheckpointSaved, EvalMetrics, Finished, OnEvent, Progress, ShouldStop, Stage,
                         StepMetrics, ignore_event, never_stop)
from core.locks import run_lock
from core.store import RunDir, RunStatus, read_jsonl, write_json
from core.training.checkpoints import as_disk_error, resume_latest, save_checkpoint
from core.training.data import batch_order
from core.training.memory import is_oom, peak_memory_gb
from core.training.metrics import MetricsFile, tee

EVAL_FILE = "eval.json"
"""The final validation metrics and worst rows, beside run.json: what the Try-it page shows."""


@dataclass(frozen=True)
class ClassifyResult:
    status: RunStatus
    step: int
    total_steps: int
    train_loss: float
    accuracy: float | None
    macro_f1: float | None
    seconds: float
    rows_per_second: float
    adapter_path: str


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then linear decay to zero (the schedule BERT fine-tuning uses)."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


@dataclass
class _State:
    run: RunDir
    config: ClassifyConfig
    emit: OnEvent
    labels: list[str] = field(default_factory=list)
    began: bool = False
    step: int = 0
    saved_step: int = 0
    first_step: int = 0
    last_loss: float = float("nan")
    history: list[dict[str, Any]] = field(default_factory=list)
    rows_seen: int = 0
    tokens_seen: int = 0
    started: float = 0.0
    last_eval: Any = None
    # filled by load / restore
    device: str = "cpu"
    model_dir: Path = field(init=False)
    tokenizer: Any = None
    model: Any = None
    train_ids: list[list[int]] = field(default_factory=list)
    train_y: list[int] = field(default_factory=list)
    val_rows: list[dict[str, Any]] = field(default_factory=list)
    val_ids: list[list[int]] = field(default_factory=list)
    val_y: list[int] = field(default_factory=list)
    weights: Any = None
    optimizer: Any = None
    scheduler: Any = None
    batches_per_epoch: int = 1
    total_steps: int = 1

    def evaluates_at(self, step: int) -> bool:
        every = self.config.eval_every or self.batches_per_epoch
        return step % every == 0 and step < self.total_steps


def train_classifier(run_path: Path | str, on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop,
                     resume: bool = False) -> ClassifyResult:
    """Train the classify run prepared in `run_path` (core/classify/prepare.py). Holds the run's lock; raises
    Cancelled when stopped before the first step, OutOfMemory / DiskError with what to do."""
    run = RunDir(run_path)
    meta = run.read_run()
    config = ClassifyConfig.from_dict(meta["config"])
    config.validate()
    t = _State(run, config, tee(MetricsFile(run), on_event), labels=list(meta["labels"]))
    with run_lock(run.root):
        try:
            _load(t, should_stop)
            _restore(t, should_stop, resume)
            stopped = _loop(t, should_stop)
            return _finish(t, stopped)
        except Cancelled:
            raise
        except BaseException as exc:
            if t.began and isinstance(exc, Exception):
                error = "out of memory" if is_oom(exc) else (
                    exc.message if isinstance(exc, TuneDeskError) else f"{type(exc).__name__}: {exc}")
                _mark(run, status=RunStatus.FAILED, error=error, step=t.saved_step)
            if is_oom(exc):
                raise OutOfMemory("Out of memory while training the classifier. "
                                  + (f"The checkpoint at step {t.saved_step} is kept." if t.saved_step else ""),
                                  f"Close other programs and resume, or train again with a smaller batch "
                                  f"(--batch-size {max(1, config.batch_size // 2)}) or shorter texts.") from exc
            raise


def _mark(run: RunDir, **fields: Any) -> None:
    try:
        if run.run_json.is_file():
            run.update_run(**fields)
    except (TuneDeskError, OSError):
        pass


def _check_stop(should_stop: ShouldStop) -> None:
    if should_stop():
        raise Cancelled("Stopped before training began; the run folder is unchanged.")


def _load(t: _State, should_stop: ShouldStop) -> None:
    """Tokenizer, model with head and LoRA, and the rows as token ids (nothing written yet)."""
    import peft  # noqa: F401  (imported before the first event: see core/training/loop.py's _load)
    import torch

    t.emit(Progress(Stage.LOAD_MODEL, f"Loading {t.config.model}…"))
    t.model_dir = resolve_classifier_model(t.config.model)
    t.tokenizer = load_tokenizer(t.model_dir)
    _check_stop(should_stop)
    t.model = load_for_training(t.model_dir, t.labels, t.config, t.tokenizer.pad_token_id)
    t.model.train()
    _check_stop(should_stop)
    index = {label: i for i, label in enumerate(t.labels)}
    train_rows = read_jsonl(t.run.train_file)
    t.val_rows = read_jsonl(t.run.validation_file)
    if not train_rows:
        raise RunError("The training set is empty.", "Import a file with labelled rows and start again.")
    t.train_ids = encode(t.tokenizer, [r["text"] for r in train_rows], t.config.max_length)
    t.train_y = [index[r["label"]] for r in train_rows]
    t.val_ids = encode(t.tokenizer, [r["text"] for r in t.val_rows], t.config.max_length)
    t.val_y = [index[r["label"]] for r in t.val_rows]
    counts = [max(1, t.train_y.count(i)) for i in range(len(t.labels))]
    if t.config.class_weights:  # n / (k · n_c): a balanced set weighs every label 1
        t.weights = torch.tensor([len(t.train_y) / (len(counts) * c) for c in counts], dtype=torch.float32)
    t.batches_per_epoch = math.ceil(len(t.train_ids) / t.config.batch_size)
    total = math.ceil(t.config.epochs * t.batches_per_epoch) if t.config.epochs > 0 else t.config.max_steps
    t.total_steps = max(1, min(total, t.config.max_steps) if t.config.max_steps else total)


def encode(tokenizer: Any, texts: list[str], max_length: int) -> list[list[int]]:
    if not texts:  # the tokenizer fails on an empty batch (a run with no validation rows)
        return []
    return [list(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]


def collate(ids: list[list[int]], pad_id: int) -> dict[str, Any]:
    """Pad a batch to its own longest row (dynamic padding: length-grouped batches keep it short)."""
    import torch

    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = torch.tensor(x)
        mask[row, : len(x)] = 1
    return {"input_ids": input_ids, "attention_mask": mask}


def _restore(t: _State, should_stop: ShouldStop, resume: bool) -> None:
    import torch

    params = [p for p in t.model.parameters() if p.requires_grad]
    t.optimizer = torch.optim.AdamW(params, lr=t.config.learning_rate, weight_decay=0.01)
    warmup = int(t.total_steps * t.config.warmup_ratio)
    t.scheduler = torch.optim.lr_scheduler.LambdaLR(t.optimizer, lambda s: lr_factor(s, t.total_steps, warmup))
    random.seed(t.config.seed)
    if resume:
        state = resume_latest(t.run.checkpoints, t.model, t.optimizer, t.scheduler, t.total_steps, t.emit)
        if state is not None:
            t.step, t.history, t.last_loss = state["step"], state["history"], state.get("last_loss", float("nan"))
    _check_stop(should_stop)
    t.run.update_run(status=RunStatus.TRAINING, error=None, model_path=str(t.model_dir), device=t.device,
                     total_steps=t.total_steps, train_examples=len(t.train_ids), validation_examples=len(t.val_ids))


def _loop(t: _State, should_stop: ShouldStop) -> bool:
    """Train until the plan is done; True when the user stopped it."""
    import torch

    t.began, t.first_step, t.saved_step = True, t.step, t.step
    t.started = time.perf_counter()
    t.emit(Progress(Stage.TRAIN, f"Training steps {t.step + 1}–{t.total_steps}", t.step, t.total_steps))
    lengths = [len(x) for x in t.train_ids]
    pad = t.tokenizer.pad_token_id
    while t.step < t.total_steps:
        if should_stop():
            return True
        epoch, pos = divmod(t.step, t.batches_per_epoch)
        indices = batch_order(lengths, t.config.batch_size, t.config.seed, epoch)[pos]
        batch = collate([t.train_ids[i] for i in indices], pad)
        target = torch.tensor([t.train_y[i] for i in indices])
        logits = t.model(**batch).logits  # (B, labels)
        loss = torch.nn.functional.cross_entropy(logits.float(), target, weight=t.weights)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in t.model.parameters() if p.requires_grad], 1.0)
        t.optimizer.step()
        t.scheduler.step()
        t.optimizer.zero_grad(set_to_none=True)
        t.step += 1
        t.last_loss = float(loss)
        t.rows_seen += len(indices)
        t.tokens_seen += int(batch["attention_mask"].sum())
        elapsed = time.perf_counter() - t.started
        eta = elapsed / (t.step - t.first_step) * (t.total_steps - t.step)
        t.emit(StepMetrics(t.step, t.total_steps, t.step / t.batches_per_epoch, t.last_loss,
                           t.scheduler.get_last_lr()[0], t.tokens_seen / elapsed if elapsed > 0 else 0.0, elapsed, eta))
        if t.val_ids and t.evaluates_at(t.step):
            _validate(t)
        if t.config.save_every and t.step % t.config.save_every == 0 and t.step < t.total_steps:
            _save(t)
    return False


def predict_ids(model: Any, ids: list[list[int]], pad_id: int, batch_size: int = 64) -> Any:
    """Class probabilities (N, labels) for token-id rows, batched by length; rows come back in their order."""
    import torch

    if not ids:
        return torch.zeros((0, model.config.num_labels))
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = torch.empty((len(ids), model.config.num_labels))
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            logits = model(**collate([ids[i] for i in part], pad_id)).logits.float()
            out[part] = torch.softmax(logits, dim=-1)
    model.train(was_training)
    return out


def _validate(t: _State) -> None:
    """Validation loss, accuracy, macro-F1, per-label precision/recall and the confusion matrix, now."""
    import torch

    probs = predict_ids(t.model, t.val_ids, t.tokenizer.pad_token_id)
    target = torch.tensor(t.val_y)
    val_loss = float(torch.nn.functional.nll_loss(torch.log(probs.clamp_min(1e-12)), target, weight=t.weights))
    predicted = probs.argmax(-1).tolist()
    event = classifier_eval(t.step, t.labels, t.val_y, predicted)
    t.history.append({"step": t.step, "val_loss": val_loss, "accuracy": event.accuracy, "macro_f1": event.macro_f1})
    t.last_eval = (event, probs, val_loss)
    t.emit(EvalMetrics(t.step, val_loss, t.last_loss, False,
                       f"accuracy {event.accuracy:.1%}, macro-F1 {event.macro_f1:.3f}"))
    t.emit(event)


def _save(t: _State) -> None:
    from peft import get_peft_model_state_dict

    state = {"history": t.history, "total_steps": t.total_steps, "last_loss": t.last_loss}
    path = save_checkpoint(t.run.checkpoints, t.step, get_peft_model_state_dict(t.model), t.optimizer, t.scheduler,
                           state, t.config.keep_checkpoints)
    t.saved_step = t.step
    t.emit(CheckpointSaved(t.step, str(path)))


def _finish(t: _State, stopped: bool) -> ClassifyResult:
    """Last checkpoint, final metrics with the worst rows, the adapter, then the status (in the order a kill
    at any moment leaves resumable: "finished" only once the adapter is in place)."""
    seconds = time.perf_counter() - t.started
    rate = t.rows_seen / seconds if seconds > 0 else 0.0
    words = f"Stopped at step {t.step} of {t.total_steps}. Continue with --resume."
    if stopped and t.step == t.first_step:
        _mark(t.run, status=RunStatus.STOPPED)
        t.emit(Finished(t.step, True, str(t.run.adapter) if t.run.adapter.is_dir() else "", words))
        return ClassifyResult(RunStatus.STOPPED, t.step, t.total_steps, t.last_loss, None, None, seconds, rate, "")
    if t.step > t.saved_step:
        _save(t)
    if not stopped and t.val_ids and (t.last_eval is None or t.last_eval[0].step != t.step):
        _validate(t)
    _write_adapter(t)
    accuracy = macro = None
    if t.last_eval is not None and not stopped:
        event, probs, val_loss = t.last_eval
        accuracy, macro = event.accuracy, event.macro_f1
        worst = worst_rows([r["text"] for r in t.val_rows], t.val_y, probs, t.labels,
                           [r.get("line") for r in t.val_rows])
        write_json(t.run.root / EVAL_FILE, {"step": event.step, "val_loss": val_loss, "accuracy": accuracy,
                                            "macro_f1": macro, "labels": list(event.labels),
                                            "precision": list(event.precision), "recall": list(event.recall),
                                            "support": list(event.support),
                                            "confusion": [list(r) for r in event.confusion], "worst": worst})
    status = RunStatus.STOPPED if stopped else RunStatus.FINISHED
    t.run.update_run(status=status, step=t.step, train_loss=t.last_loss, accuracy=accuracy, macro_f1=macro,
                     train_seconds=seconds, rows_per_second=rate, peak_memory_gb=peak_memory_gb(t.device))
    message = words if stopped else (f"Finished {t.step} steps in {seconds / 60:.1f} min"
                                     + (f": accuracy {accuracy:.1%}, macro-F1 {macro:.3f}." if accuracy is not None
                                        else "."))
    t.emit(Finished(t.step, stopped, str(t.run.adapter), message))
    return ClassifyResult(status, t.step, t.total_steps, t.last_loss, accuracy, macro, seconds, rate, str(t.run.adapter))


def _write_adapter(t: _State) -> None:
    """Written aside, then swapped in by renames: adapter/ is always a whole adapter (see loop.py)."""
    run = t.run
    tmp, old = run.root / ".adapter-tmp", run.root / ".adapter-old"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    try:
        t.model.save_pretrained(str(tmp))
        t.tokenizer.save_pretrained(str(tmp))
        if run.adapter.exists():
            run.adapter.rename(old)
        tmp.rename(run.adapter)
    except Exception as exc:
        error = as_disk_error(exc, "Could not save the classifier")
        if error is None:
            raise
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not run.adapter.exists():
            old.rename(run.adapter)
        raise error from exc
    shutil.rmtree(old, ignore_errors=True)
