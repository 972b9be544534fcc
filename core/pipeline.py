"""documents → dataset → trained run: the one call both the CLI and the GUI make.

Each stage writes its output into the run folder before the next starts, so a
crash loses at most the current stage and `resume` picks up from the files.
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import time
from pathlib import Path
from typing import Any, Sequence

from core.dataset import DatasetInfo, Example, build_dataset, load_examples
from core.dataset.examples import fact_examples
from core.dataset.heldout import split_heldout, write_heldout
from core.dataset.questions import document_facts, words_by_kind
from core.dataset.replay import replay_examples
from core.documents import IngestResult, ingest
from core.documents.ingest import require_text
from core.errors import RunError
from core.events import Caution, OnEvent, Progress, ShouldStop, Stage, ignore_event, never_stop
from core.locks import holding_run_lock
from core.device import choose_precision, detect
from core.models import load_tokenizer, resolve_model
from core.models import DEFAULT_TEMPLATE_NOTE, has_own_chat_template, model_shape
from core.models.identity import model_fingerprint
from core.progress import Countdown
from core.runs import RunStatus, run_state
from core.store import RunDir, read_json, write_json
from core.training.config import TrainConfig
from core.training.distil import teacher_tokens
from core.training.estimate import Estimate, estimate
from core.training.eta import attended_pairs, batch_indices, batch_shared, computed_tokens
from core.training.loop import TrainResult, encode_examples, train_run
from core.training.loss import planned_prompt_rows
from core.training.measured_speed import speed_factor
from core.training.plan import plan_steps

MEASURED_EXAMPLES = 20_000
"""Examples the estimate tokenises (about a second per 5,000); up to here the loop's exact batches are timed."""


@holding_run_lock("out")  # one process at a time per run folder (core/locks.py)
def prepare_run(documents: Sequence[str | Path], out: Path | str, config: TrainConfig,
                on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop) -> tuple[IngestResult, DatasetInfo]:
    """Read the documents and write the dataset and run.json into `out`."""
    config.validate()
    created = _dt.datetime.now().isoformat(timespec="seconds")  # when the person pressed Start, not when reading ended
    run = RunDir(out)
    if run.run_json.is_file() and run.read_run().get("status") not in (None, RunStatus.PREPARED):  # we hold the lock
        raise RunError(f"{run.root} already holds a run.",
                       "Continue it with --resume, or choose a new --out folder.")
    run.root.mkdir(parents=True, exist_ok=True)
    on_event(Progress(Stage.LOAD_MODEL, f"Preparing model {config.model}…"))
    model_dir = resolve_model(config.model)
    tokenizer = load_tokenizer(model_dir)

    def count_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    result = ingest(documents, count_tokens=count_tokens, chunk_tokens=config.chunk_tokens,
                    overlap_tokens=config.overlap_tokens, on_event=on_event, should_stop=should_stop)
    write_json(run.documents_manifest, result.to_json())
    for record in result.skipped:
        on_event(Caution(f"Skipped {record.name}: {record.reason}"))
    require_text(result)
    on_event(Progress(Stage.DATASET, "Building training examples…"))
    extra, qa_stats = grounded_and_replay(result, model_dir, config, run, on_event, should_stop)
    info = build_dataset(result.chunks, run.dataset, config.val_fraction, config.seed, extra, passages=config.passages,
                         languages=result.languages())
    write_json(run.run_json, {
        "created": created,
        "status": "prepared",
        "config": config.to_dict(),
        "base_fingerprint": model_fingerprint(model_dir),  # which weights the adapter belongs to (core/export/base.py)
        "documents": [str(Path(d)) for d in documents],
        "ingest_summary": result.summary(),
        "dataset_summary": info.summary(),
        "qa_stats": qa_stats,
    })
    on_event(Progress(Stage.DATASET, f"{result.summary()}; {info.summary()}"))
    preflight(config, model_dir, tokenizer, run, on_event)  # fit + time estimate, chat template (a Caution if not)
    return result, info


def request_preparation(out: Path | str, documents: Sequence[str | Path], config: TrainConfig) -> Path:
    """Write what `prepare_requested` will prepare, so preparing runs in the worker process like training.

    Why a process and not a thread of the app: in the app's process, the main thread's garbage collector
    (gui/app.py) competes with the model for the interpreter, and preparing took 2–3× as long as the same
    call from the command line (92 s against 31 s for the sample documents' replay answers, measured here).
    A process also frees the model it loaded, and a stop ends it at once."""
    config.validate()
    run = RunDir(out)
    run.root.mkdir(parents=True, exist_ok=True)
    write_json(run.prepare_request, {"documents": [str(Path(d)) for d in documents], "config": config.to_dict(),
                                     "requested_by": os.getpid()})  # core/runs.py: "preparing" while this app lives
    return run.root


def prepare_requested(out: Path | str, on_event: OnEvent = ignore_event,
                      should_stop: ShouldStop = never_stop) -> tuple[IngestResult, DatasetInfo]:
    """Prepare the run `request_preparation` described; the request is removed once run.json holds it all."""
    request_file = RunDir(out).prepare_request
    try:
        request = read_json(request_file)
        config = TrainConfig.from_dict(request["config"])
        documents = [Path(d) for d in request["documents"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunError(f"The run in {out} has no readable preparation request ({exc}).",
                       "Start a new run.") from exc
    result = prepare_run(documents, out, config, on_event, should_stop)
    request_file.unlink(missing_ok=True)
    return result


def preflight(config: TrainConfig, model_dir: Path, tokenizer: Any, run: RunDir, on_event: OnEvent) -> Estimate:
    """What prepare_run says before training: the estimate (a Caution when it will not fit) and the chat template.

    Reads the model's shape and measures the prepared examples for the (pure) estimate, and saves its answer
    in run.json as "estimate", so a finished run shows predicted beside measured peak memory.
    """
    if not has_own_chat_template(Path(model_dir)):
        on_event(Caution(DEFAULT_TEMPLATE_NOTE))
    examples = load_examples(run.train_file)
    sample = examples[:: max(1, len(examples) // MEASURED_EXAMPLES)]
    encoded = encode_examples(tokenizer, sample, config)
    lengths = [len(e.input_ids) for e in encoded]
    mean = sum(lengths) / len(lengths) if lengths else float(config.max_seq_len)
    longest = max(lengths) if lengths else None
    device, shape = detect(), model_shape(Path(model_dir))
    computed = span = None
    if lengths and len(sample) == len(examples):  # the loop's own batches
        # A CPU trains with our attention, which packs the rows (core/training/loss.packs_rows): a model that
        # keeps its own attention (Gemma 2) pays for padding the estimate leaves out, until measured_speed.py
        # has timed a run of it.
        from transformers import AutoConfig

        packed = device.kind == "cpu"
        prompts = planned_prompt_rows(packed, AutoConfig.from_pretrained(str(model_dir)), encoded)
        picked = [b for step in batch_indices(plan_steps(config, len(examples)), lengths, config.batch_size,
                                              config.grad_accum, config.seed) for b in step]
        batches = [[lengths[i] for i in b] for b in picked]
        tokens = sum(computed_tokens(b, packed, batch_shared(i, prompts)) for b, i in zip(batches, picked))
        computed = tokens / max(1, sum(len(b) for b in batches))
        span = sum(attended_pairs(b, packed) for b in batches) / max(1, tokens)
    precision = choose_precision(device, shape.params, config.precision).precision
    factor = speed_factor(device, precision, model_fingerprint(Path(model_dir)))
    held = _teacher_tokens(config, tokenizer, run, encoded, len(examples))
    est = estimate(config, shape, device, len(examples), mean, longest, computed, span, factor, held)
    run.update_run(estimate={**est.to_dict(), "train_examples": len(examples), "teacher_tokens": held,
                             "mean_tokens": round(mean, 1),
                             "longest_tokens": longest, "computed_tokens": computed and round(computed, 1),
                             "attention_span": span and round(span, 1)})
    on_event(Progress(Stage.ESTIMATE, est.message) if est.fits else Caution(est.message))
    return est


def _teacher_tokens(config: TrainConfig, tokenizer: Any, run: RunDir, encoded: list[Any], n_train: int) -> int:
    """Answer tokens whose base-model states the run will keep for distillation (distil.teacher_tokens), over
    the training examples (`encoded` a sample of the n_train) and the validation ones: they stay in memory."""
    val = encode_examples(tokenizer, load_examples(run.validation_file)[:MEASURED_EXAMPLES], config)
    return round(teacher_tokens(encoded) * n_train / max(1, len(encoded)) + teacher_tokens(val))


def grounded_and_replay(result: IngestResult, model_dir: Path, config: TrainConfig, run: RunDir, on_event: OnEvent,
                        should_stop: ShouldStop) -> tuple[list[Example], dict[str, Any]]:
    """Questions about every element (some facts asked again, in words never trained, by the report) and replay."""
    extra: list[Example] = []
    stats: dict[str, Any] = {}
    if config.qa_pairs:
        facts, coverage = [], {}
        languages = result.languages()
        by_doc: dict[str, list[Any]] = {}
        for element in result.elements:
            by_doc.setdefault(element.source, []).append(element)
        for doc, elements in by_doc.items():
            doc_facts, informative, covered = document_facts(elements, languages.get(doc, ""))
            facts.extend(doc_facts)
            coverage[doc] = {"elements": informative, "covered": covered, "language": languages.get(doc, ""),
                             "words": words_by_kind(elements)}
        heldout = split_heldout(facts, config.seed)
        taught = fact_examples(facts, result.chunks, config.seed, in_context=config.passages_in_context)
        extra.extend(taught)
        write_heldout(run.heldout_file, heldout)
        questions = sum(ex.kind == "qa" for ex in taught)
        stats.update({"facts": len(facts), "qa_train": questions, "qa_heldout": len(heldout), "coverage": coverage})
        informative = sum(c["elements"] for c in coverage.values())
        share = sum(c["covered"] for c in coverage.values()) / informative if informative else 0.0
        on_event(Progress(Stage.DATASET, f"{len(facts)} facts → {questions} questions, covering {share:.0%} of "
                                     f"{informative} informative elements (+{len(heldout)} asked again in new words "
                                     "to check what the model learned)"))
    if config.replay:
        replay = _replay(model_dir, config, on_event, should_stop)
        extra.extend(replay)
        stats["replay"] = len(replay)
    return extra, stats


def _replay(model_dir: Path, config: TrainConfig, on_event: OnEvent, should_stop: ShouldStop) -> list[Example]:
    """The model's own answers to everyday questions: shipped for the demo model, cached per model, else
    written here with a count and the time left (the model is loaded only then)."""
    from core.chat import load_chat_model
    from core.chat.batch import greedy_replies

    fingerprint = model_fingerprint(model_dir)
    countdown = Countdown(0)

    def load() -> Any:  # only on a cache miss
        on_event(Progress(Stage.DATASET, "Loading the model to write its general-knowledge answers (once per model)…"))
        chat = load_chat_model(model=str(model_dir), weights="full")  # full weights: written once, learned many times
        countdown.started = time.perf_counter()
        return chat

    def on_batch(done: int, total: int) -> None:
        countdown.total = total
        on_event(Progress(Stage.DATASET, f"Writing general-knowledge answers {countdown.words(done)}", done, total))

    replay = replay_examples(model_dir, greedy_replies(load, should_stop=should_stop, on_batch=on_batch), fingerprint)
    if len(replay) > config.replay_count:  # a fixed cost per run, whatever the documents' size
        replay = random.Random(config.seed).sample(replay, config.replay_count)
    return replay


def train(documents: Sequence[str | Path], out: Path | str, config: TrainConfig | None = None,
          on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop, resume: bool = False) -> TrainResult:
    """The whole job. With resume=True an existing run folder continues from its newest checkpoint."""
    run = RunDir(out)
    if resume and run.run_json.is_file():
        if run_state(run.root).status is RunStatus.FINISHED:
            raise RunError(f"The run in {run.root} has already finished.", "Chat with it, or start a new run with another --out.")
        return train_run(out, on_event, should_stop, resume=True)  # one that another process trains: RunLocked
    prepare_run(documents, out, config or TrainConfig(), on_event, should_stop)
    return train_run(out, on_event, should_stop, resume=False)

