"""The background jobs pages start: plain functions over core, run only on worker threads.

Each `*_job(...)` returns a `fn(on_event, should_stop)` for `Workers.run`, so
the pages never import torch or load a model themselves (Orange's
`run(data, state)` seam). Loaded chat models and tokenizers are cached here,
behind a lock, because loading is the slow part of chatting.
"""

from __future__ import annotations

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
    """Loaded chat models by (run folder or model, base?); the least recently used is dropped past `size`."""

    def __init__(self, size: int = 3) -> None:
        self.size = size
        self._models: OrderedDict[tuple[str, bool, float], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: Path | None, model_spec: str, base: bool) -> Any:
        from core.chat import load_chat_model

        base = base or run is None
        # A resumed run rewrites its adapter: the file's time is part of the key, so chat never uses a stale one.
        stamp = 0.0
        if run is not None and not base:
            adapter = Path(run) / "adapter" / "adapter_model.safetensors"
            stamp = adapter.stat().st_mtime if adapter.is_file() else 0.0
        key = (str(run) if run is not None else f"model:{model_spec}", base, stamp)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            if run is None:
                model = load_chat_model(model=model_spec)
            else:
                model = load_chat_model(run, base=base)
            self._models[key] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
            return model

    def forget(self, run: Path) -> None:
        with self._lock:
            for key in [k for k in self._models if k[0] == str(run)]:
                del self._models[key]


def stream_job(models: ChatModels, run: Path | None, model_spec: str, base: bool, messages: list[dict[str, str]],
               settings: Any) -> Callable[[Emit, Stop], str]:
    """Load (or reuse) the model, then emit each piece of the reply as a str; returns the whole reply."""
    def run_(emit: Emit, should_stop: Stop) -> str:
        emit(Progress("load-model", "Loading the model…"))
        model = models.get(run, model_spec, base)
        emit(Progress("generate", "Writing…"))
        parts = []
        for piece in model.stream(messages, settings, should_stop):
            parts.append(piece)
            emit(piece)
        return "".join(parts).strip()
    return run_


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
