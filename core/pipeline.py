"""documents → dataset → trained run: the one call both the CLI and the GUI make.

Each stage writes its output into the run folder before the next starts, so a
crash loses at most the current stage and `resume` picks up from the files.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, Sequence

from core.dataset import DatasetInfo, Example, build_dataset
from core.dataset.examples import qa_examples
from core.dataset.qa import (entity_pairs, facts_from_chunks, natural_pairs, question_key, rule_pairs, split_heldout,
                             write_heldout)
from core.dataset.replay import replay_examples
from core.documents import IngestResult, ingest
from core.documents.ingest import require_text
from core.errors import RunError
from core.events import OnEvent, Progress, ShouldStop, Warning, ignore_event, never_stop
from core.locks import holding_run_lock
from core.models import load_tokenizer, resolve_model
from core.store import RunDir, write_json
from core.training.config import TrainConfig
from core.training.estimate import preflight
from core.training.loop import TrainResult, train_run


@holding_run_lock("out")  # one process at a time per run folder (core/locks.py)
def prepare_run(documents: Sequence[str | Path], out: Path | str, config: TrainConfig,
                on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop) -> tuple[IngestResult, DatasetInfo]:
    """Read the documents and write the dataset and run.json into `out`."""
    config.validate()
    run = RunDir(out)
    if run.run_json.is_file() and run.read_run().get("status") not in (None, "prepared"):
        raise RunError(f"{run.root} already holds a run.",
                       "Continue it with --resume, or choose a new --out folder.")
    run.root.mkdir(parents=True, exist_ok=True)
    on_event(Progress("load-model", f"Preparing model {config.model}…"))
    model_dir = resolve_model(config.model)
    tokenizer = load_tokenizer(model_dir)

    def count_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    result = ingest(documents, count_tokens=count_tokens, chunk_tokens=config.chunk_tokens,
                    overlap_tokens=config.overlap_tokens, on_event=on_event, should_stop=should_stop)
    write_json(run.documents_manifest, result.to_json())
    for record in result.skipped:
        on_event(Warning(f"Skipped {record.name}: {record.reason}"))
    require_text(result)
    on_event(Progress("dataset", "Building training examples…"))
    extra, qa_stats = grounded_and_replay(result.chunks, model_dir, config, run, on_event, should_stop)
    info = build_dataset(result.chunks, run.dataset, config.val_fraction, config.seed, extra, passages=config.passages)
    write_json(run.run_json, {
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "status": "prepared",
        "config": config.to_dict(),
        "documents": [str(Path(d)) for d in documents],
        "ingest_summary": result.summary(),
        "dataset_summary": info.summary(),
        "qa_stats": qa_stats,
    })
    on_event(Progress("dataset", f"{result.summary()}; {info.summary()}"))
    preflight(config, model_dir, tokenizer, run, on_event)  # fit + time estimate, chat template (a Warning if not)
    return result, info


def grounded_and_replay(chunks: Sequence[Any], model_dir: Path, config: TrainConfig, run: RunDir, on_event: OnEvent,
                        should_stop: ShouldStop) -> tuple[list[Example], dict[str, int]]:
    """Grounded Q&A (some held out for the "did it learn?" report) and general-chat replay."""
    from core.chat import load_chat_model
    from core.chat.batch import generate_batch

    extra: list[Example] = []
    stats: dict[str, int] = {}
    loaded: list[Any] = []

    def chat() -> Any:  # loaded at most once, only when a step needs generation
        if not loaded:
            on_event(Progress("dataset", "Loading the model to write training questions…"))
            # Full weights, not chat's int8: training data is written once and learned many times.
            loaded.append(load_chat_model(model=str(model_dir), weights="full"))
        return loaded[0]

    if config.qa_pairs:
        facts = facts_from_chunks(chunks)
        train_pairs, heldout = split_heldout(rule_pairs(facts), config.seed)
        if config.natural_questions and train_pairs:
            on_event(Progress("dataset", f"Rewording {len(train_pairs)} questions the way people ask them…"))
            model = chat()
            natural = natural_pairs(train_pairs, lambda convs: generate_batch(
                model.model, model.tokenizer, convs, max_new_tokens=32, should_stop=should_stop))
            held = {question_key(h.question) for h in heldout}
            natural = [n for n in natural if question_key(n.question) not in held]
            stats["qa_natural"] = len(natural)
            train_pairs = train_pairs + natural
        entities = entity_pairs(facts)
        stats["qa_entities"] = len(entities)
        extra.extend(qa_examples(train_pairs + entities))
        write_heldout(run.dataset / "heldout.jsonl", heldout)
        stats.update({"facts": len(facts), "qa_train": len(train_pairs), "qa_heldout": len(heldout)})
        on_event(Progress("dataset", f"{len(facts)} facts → {len(train_pairs)} question–answer pairs "
                                     f"(+{len(heldout)} held out to check what the model learned)"))
    if config.replay:
        on_event(Progress("dataset", "Preparing general-knowledge replay (once per model)…"))
        replay = replay_examples(model_dir, chat, should_stop)
        extra.extend(replay)
        stats["replay"] = len(replay)
    return extra, stats


def train(documents: Sequence[str | Path], out: Path | str, config: TrainConfig | None = None,
          on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop, resume: bool = False) -> TrainResult:
    """The whole job. With resume=True an existing run folder continues from its newest checkpoint."""
    run = RunDir(out)
    if resume and run.run_json.is_file():
        status = run.read_run().get("status")
        if status == "finished":
            raise RunError(f"The run in {run.root} has already finished.", "Chat with it, or start a new run with another --out.")
        return train_run(out, on_event, should_stop, resume=True)
    prepare_run(documents, out, config or TrainConfig(), on_event, should_stop)
    return train_run(out, on_event, should_stop, resume=False)


def run_summary(out: Path | str) -> str:
    return json.dumps(RunDir(out).read_run(), indent=2)
