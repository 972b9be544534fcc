"""The background jobs pages start: plain functions over core, run only on worker threads.

Each `*_job(...)` returns a `fn(on_event, should_stop)` for `Workers.run`, so
the pages never import torch or load a model themselves (Orange's
`run(data, state)` seam). Loaded chat models and tokenizers are cached here,
behind a lock, because loading is the slow part of chatting.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from core.events import Progress

Emit = Callable[[Any], None]
Stop = Callable[[], bool]


@dataclass(frozen=True)
class ModelReport:
    spec: str
    info: Any  # core.models.ModelInfo
    device: Any  # core.device.DeviceInfo
    precision: Any  # core.device.PrecisionChoice
    fit: Any  # core.training.estimate.FitVerdict: trains here, chat only, or too large


def inspect_model_job(spec: str) -> Callable[[Emit, Stop], ModelReport]:
    def run(emit: Emit, should_stop: Stop) -> ModelReport:
        from core.device import choose_precision, detect
        from core.models import model_info, resolve_model
        from core.training.estimate import fit_check

        if str(spec).lower().endswith(".gguf") or spec == "demo":
            emit(Progress("load-model", "Preparing the model (a GGUF file is converted once, about 20 seconds)…"))
        folder = resolve_model(spec)
        info = model_info(folder)
        emit(Progress("load-model", "Checking this computer…"))
        device = detect()
        return ModelReport(spec, info, device, choose_precision(device, info.params), fit_check(folder, device))
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


def prepare_job(documents: Sequence[Path], run: Path, config: Any) -> Callable[[Emit, Stop], Any]:
    def run_(emit: Emit, should_stop: Stop) -> Any:
        from core.pipeline import prepare_run

        return prepare_run(list(documents), run, config, on_event=emit, should_stop=should_stop)
    return run_


class ChatModels:
    """Loaded chat models by (run folder or model, base?), and each trained run's question router;
    the least recently used is dropped past `size`.

    A trained run's model keeps its original weights beside the tuned ones (core/chat/switch.py), so
    the router can send a general question to them; until then it answers as the tuned model.
    """

    def __init__(self, size: int = 3) -> None:
        self.size = size
        self._models: OrderedDict[tuple[str, bool, float], Any] = OrderedDict()
        self._routers: OrderedDict[tuple[str, bool, float], Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(run: Path | None, model_spec: str, base: bool) -> tuple[str, bool, float]:
        # A resumed run rewrites its adapter: the file's time is part of the key, so chat never uses a stale one.
        stamp = 0.0
        if run is not None and not base:
            adapter = Path(run) / "adapter" / "adapter_model.safetensors"
            stamp = adapter.stat().st_mtime if adapter.is_file() else 0.0
        return (str(run) if run is not None else f"model:{model_spec}", base, stamp)

    def _remember(self, cache: OrderedDict, key: tuple[str, bool, float], value: Any) -> Any:
        cache[key] = value
        while len(cache) > self.size:
            cache.popitem(last=False)
        return value

    def get(self, run: Path | None, model_spec: str, base: bool) -> Any:
        from core.chat import load_chat_model

        base = base or run is None
        key = self._key(run, model_spec, base)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            if run is None:
                model = load_chat_model(model=model_spec)
            else:
                model = load_chat_model(run, base=base, switchable=not base)
            return self._remember(self._models, key, model)

    def router(self, run: Path) -> Any:
        """The run's core.chat.routing.Router: its passage index and calibrated threshold (seconds, once)."""
        from core.chat.routing import Router

        key = self._key(run, "", False)
        with self._lock:
            if key in self._routers:
                self._routers.move_to_end(key)
                return self._routers[key]
            return self._remember(self._routers, key, Router.for_run(run))

    def forget(self, folder: Path) -> None:
        """Drop the models and routers of a run, or of every run under a folder (a deleted project):
        a few hundred MB each that would otherwise stay until pushed out by newer ones."""
        inside = str(Path(folder)) + os.sep
        with self._lock:
            for cache in (self._models, self._routers):
                for key in [k for k in cache if k[0] == str(Path(folder)) or k[0].startswith(inside)]:
                    del cache[key]


@dataclass(frozen=True)
class Answered:
    """Emitted once a trained run's reply is written: what stands behind it, for the bubble and the history."""

    sources: list[dict[str, Any]]
    """The passages put in the model's context: {"document", "passage" (0-based, as the CLI writes it), "text"}."""
    answered_by: str
    """"tuned", or "original": not a question about the documents, so the original weights answered."""
    unavailable: str = ""
    """Why this run answers without its documents (no passage search model, no documents.json), if so."""


def stream_job(models: ChatModels, run: Path | None, model_spec: str, base: bool, messages: list[dict[str, str]],
               settings: Any, passages: bool = True) -> Callable[[Emit, Stop], str]:
    """Load (or reuse) the model, then emit each piece of the reply as a str; returns the whole reply.

    `messages` ends with the new question. For a trained run the reply goes through a ChatSession with
    the run's router (issue #4): a question about the documents is answered by the tuned weights, with
    its best passages in context when `passages` is on; any other by the original weights. An
    `Answered` event follows the last piece, also after a stop.
    """
    def run_(emit: Emit, should_stop: Stop) -> str:
        emit(Progress("load-model", "Loading the model…"))
        model = models.get(run, model_spec, base)
        if run is None or base:
            emit(Progress("generate", "Writing…"))
            parts = []
            for piece in model.stream(messages, settings, should_stop):
                parts.append(piece)
                emit(piece)
            return "".join(parts).strip()
        return _routed_reply(models, run, model, messages, settings, passages, emit, should_stop)
    return run_


def _routed_reply(models: ChatModels, run: Path, model: Any, messages: list[dict[str, str]], settings: Any,
                  passages: bool, emit: Emit, should_stop: Stop) -> str:
    from core.chat import ChatSession
    from core.errors import TuneDeskError

    emit(Progress("load-model", "Loading the search over your documents…"))
    unavailable = ""
    try:
        router = models.router(run)
    except (TuneDeskError, OSError, ValueError, KeyError) as exc:  # the answer still comes, from the tuned model
        router = None
        unavailable = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
    session = ChatSession(model, router=router, passages=passages)
    session.history = [{"role": m["role"], "content": m["content"]} for m in messages[:-1]]
    emit(Progress("generate", "Writing…"))
    parts = []
    for piece in session.send(messages[-1]["content"], settings, should_stop):
        parts.append(piece)
        emit(piece)
    sources = [{"document": s.source, "passage": s.index, "text": s.text} for s in session.last_sources]
    emit(Answered(sources, session.answered_by, unavailable))
    return "".join(parts).strip()


def compare_job(models: ChatModels, run: Path, prompt: str, settings: Any) -> Callable[[Emit, Stop], dict[str, str]]:
    """The same prompt to the base model and to the tuned one, one after the other (CPU cores are shared).

    Emits (side, piece) tuples, side being "base" or "tuned".
    """
    def run_(emit: Emit, should_stop: Stop) -> dict[str, str]:
        answers: dict[str, str] = {}
        for side, base in (("base", True), ("tuned", False)):
            emit(Progress("load-model", f"Loading the {'original' if base else 'trained'} model…"))
            model = models.get(run, "", base)
            emit(Progress("generate", f"The {'original' if base else 'trained'} model is writing…"))
            parts = []
            for piece in model.stream([{"role": "user", "content": prompt}], settings, should_stop):
                if should_stop():
                    break
                parts.append(piece)
                emit((side, piece))
            answers[side] = "".join(parts).strip()
            if should_stop():
                break
        return answers
    return run_
