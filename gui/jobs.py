"""The background jobs pages start: plain functions over core, run only on worker threads.

Each `*_job(...)` returns a `fn(on_event, should_stop)` for `Workers.run`, so
the pages never import torch or load a model themselves (Orange's
`run(data, state)` seam). Tokenizers are cached here, behind a lock; chat models in
core/chat/assembly.py's ChatModels (the CLI's too), because loading is the slow part.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.chat.assembly import ChatModels, open_session
from core.events import AnswerDone, Progress

Emit = Callable[[Any], None]
Stop = Callable[[], bool]


@dataclass(frozen=True)
class ModelReport:
    spec: str
    info: Any  # core.models.ModelInfo
    device: Any  # core.device.DeviceInfo
    precision: Any  # core.device.PrecisionChoice
    fit: Any  # core.training.estimate.FitVerdict: trains here, chat only, or too large
    support: Any  # core.support.Support: train here, 4-bit, fast chat, each with why


def inspect_model_job(spec: str) -> Callable[[Emit, Stop], ModelReport]:
    def run(emit: Emit, should_stop: Stop) -> ModelReport:
        from core.device import choose_precision, detect
        from core.models import model_info, resolve_model
        from core.support import model_support

        if str(spec).lower().endswith(".gguf") or spec == "demo":
            emit(Progress("load-model", "Preparing the model (a GGUF file is converted once, about 20 seconds)…"))
        folder = resolve_model(spec)
        info = model_info(folder)
        emit(Progress("load-model", "Checking this computer…"))
        device = detect()
        support = model_support(folder, device)
        return ModelReport(spec, info, device, choose_precision(device, info.params), support.fit, support)
    return run


def download_job(repo_id: str, endpoint: str | None = None) -> Callable[[Emit, Stop], Any]:
    """Download owner/name from the Hub (resumable, cancellable); returns its catalogue entry."""
    def run(emit: Emit, should_stop: Stop) -> Any:
        import huggingface_hub.constants

        from core.models.hub import download_model

        # quiet_libraries keeps the Hub offline so nothing reaches the network unasked; this is the asking.
        huggingface_hub.constants.HF_HUB_OFFLINE = False
        return download_model(repo_id, endpoint=endpoint, on_event=emit, should_stop=should_stop)
    return run


_lock = threading.Lock()
_tokenizers: dict[str, Any] = {}


def _tokenizer_for(spec: str) -> Any:
    from core.models import load_tokenizer, resolve_model

    with _lock:
        if spec not in _tokenizers:
            _tokenizers[spec] = load_tokenizer(resolve_model(spec))
        return _tokenizers[spec]


def read_documents_job(documents_dir: Path, model_spec: str) -> Callable[[Emit, Stop], Any]:
    """Ingest a project's documents/ folder the way training will, for the documents table."""
    def run(emit: Emit, should_stop: Stop) -> Any:
        from core.documents import ingest
        from core.training.config import TrainConfig

        emit(Progress("load-model", "Loading the tokenizer to count tokens…"))
        tokenizer = _tokenizer_for(model_spec)
        defaults = TrainConfig()

        def count(text: str) -> int:
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])

        if not documents_dir.is_dir() or not any(documents_dir.iterdir()):
            from core.documents import IngestResult

            return IngestResult([], [])
        return ingest([documents_dir], count_tokens=count, chunk_tokens=defaults.chunk_tokens,
                      overlap_tokens=defaults.overlap_tokens, on_event=emit, should_stop=should_stop)
    return run


def examples_preview_job(project: Any, source: str, chunks: list[Any], elements: list[Any],
                         language: str) -> Callable[[Emit, Stop], str]:
    """The Documents page's "Examples" tab for one file: how many examples of each kind and a few
    of each (core/dataset/examples.py), from the newest run's dataset when it has some for this file (a whole
    train.jsonl to read), otherwise as a new run with the default settings would make them. Both read disk or
    compute, so they run here, not on the main thread where selecting a row would stall."""
    def run(emit: Emit, should_stop: Stop) -> str:
        from core import projects
        from core.dataset import load_examples
        from core.dataset.examples import preview_examples, preview_text, summarize_examples
        from core.store import RunDir
        from core.training.config import TrainConfig

        for run_ in projects.list_runs(project) if project else []:
            train_file = RunDir(run_.path).train_file
            if train_file.is_file():
                try:
                    examples = [e for e in load_examples(train_file) if e.source == source]
                except (OSError, ValueError, KeyError):
                    examples = []
                if examples:
                    return preview_text(*summarize_examples(examples), f"from this file in {run_.id}")
                break
        defaults = TrainConfig()
        return preview_text(*preview_examples(elements, chunks, language, passages=defaults.passages,
                                              in_context=defaults.passages_in_context),
                            "a new run would make from this file")
    return run


def stream_job(models: ChatModels, run: Path | None, model_spec: str, base: bool, messages: list[dict[str, str]],
               settings: Any, passages: bool = True) -> Callable[[Emit, Stop], str]:
    """Load (or reuse) the model, then emit the reply as core chat events; returns the whole reply.

    `messages` ends with the new question. A trained run answers through its routed session
    (core/chat/assembly.py, issue #4); the events are ChatSession.answer's: AnsweredBy, AnswerSources,
    an AnswerPiece per piece, AnswerDone (also after a stop).
    """
    def run_(emit: Emit, should_stop: Stop) -> str:
        emit(Progress("load-model", "Loading the model…"))
        if run is not None and not base:
            models.get(run, model_spec)  # the slow part first, under its own message
            emit(Progress("load-model", "Loading the search over your documents…"))
        session = open_session(models, run, model_spec, base=base, passages=passages, require_router=False)
        session.history = [{"role": m["role"], "content": m["content"]} for m in messages[:-1]]
        emit(Progress("generate", "Writing…"))
        reply = ""
        for event in session.answer(messages[-1]["content"], settings, should_stop):
            emit(event)
            if isinstance(event, AnswerDone):
                reply = event.text
        return reply
    return run_


def compare_job(models: ChatModels, run: Path, prompt: str, settings: Any,
                passages: bool = True) -> Callable[[Emit, Stop], dict[str, str]]:
    """The same prompt to the base model and to the tuned one, one after the other (CPU cores are shared).

    Emits each answer's core chat events in turn, the original's first (AnsweredBy says whose pieces
    follow). The trained run answers as Chat does (open_session: routed, with its passages when
    `passages` is on, listed in AnswerSources). Returns {"base": answer, "tuned": answer}.
    """
    def run_(emit: Emit, should_stop: Stop) -> dict[str, str]:
        answers: dict[str, str] = {}
        for side, base in (("base", True), ("tuned", False)):
            emit(Progress("load-model", f"Loading the {'original' if base else 'trained'} model…"))
            session = open_session(models, run, "", base=base, passages=passages, require_router=False)
            emit(Progress("generate", f"The {'original' if base else 'trained'} model is writing…"))
            for event in session.answer(prompt, settings, should_stop):
                emit(event)
                if isinstance(event, AnswerDone):
                    answers[side] = event.text
            if should_stop():
                break
        return answers
    return run_


def export_job(run: Path, fmt: str, out: Path, quant: str | None) -> Callable[[Emit, Stop], Any]:
    """Export the run's tuned model and load it back to check it (core.export.export_run); returns its ExportResult."""
    def run_(emit: Emit, should_stop: Stop) -> Any:
        from core.export import export_run

        return export_run(run, fmt, out, quant, on_event=emit, should_stop=should_stop)
    return run_


def export_outlook_job(run: Path) -> Callable[[Emit, Stop], str]:
    """How an export of the run answers everyday questions on its own (core.evaluation.summary.export_outlook):
    it reads report.json, so off the Qt main thread."""
    def run_(emit: Emit, should_stop: Stop) -> str:
        from core.evaluation.summary import export_outlook

        return export_outlook(run)
    return run_
