"""Where a chat session comes from, for the CLI and the GUI alike: the loaded-model cache and the routed session.

Loading is the slow part of chatting (seconds per model, a router's passage index and
calibration on top), so the app keeps what it loaded in a `ChatModels` cache shared by
its Chat and Compare screens; the CLI makes one for a single command. `open_session`
assembles the session a trained run answers with (issue #4): the tuned weights with the
original ones kept beside them, and the run's router, so each question goes to the
weights that know its answer.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from core.chat.session import ChatModel, ChatSession, load_chat_model
from core.errors import TuneDeskError

_Key = tuple[str, bool, bool, float]


class ChatModels:
    """Loaded chat models by (run folder or model, base?, switchable?), and each trained run's question
    router; the least recently used is dropped past `size`. Safe to share between worker threads.

    A trained run's model keeps its original weights beside the tuned ones (core/chat/switch.py), so
    the router can send a general question to them; until then it answers as the tuned model.
    """

    def __init__(self, size: int = 3) -> None:
        self.size = size
        self._models: OrderedDict[_Key, ChatModel] = OrderedDict()
        self._routers: OrderedDict[_Key, Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(run: Path | None, model_spec: str, base: bool, switchable: bool) -> _Key:
        # A resumed run rewrites its adapter: the file's time is part of the key, so chat never uses a stale one.
        stamp = 0.0
        if run is not None and not base:
            adapter = Path(run) / "adapter" / "adapter_model.safetensors"
            stamp = adapter.stat().st_mtime if adapter.is_file() else 0.0
        return (str(run) if run is not None else f"model:{model_spec}", base, switchable, stamp)

    def _remember(self, cache: OrderedDict, key: _Key, value: Any) -> Any:
        cache[key] = value
        while len(cache) > self.size:
            cache.popitem(last=False)
        return value

    def get(self, run: Path | None, model_spec: str = "demo", base: bool = False, switchable: bool = True) -> ChatModel:
        """The model of `run` (tuned, unless `base`), or `model_spec` alone when there is no run."""
        base = base or run is None
        switchable = switchable and not base
        key = self._key(run, model_spec, base, switchable)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            if run is None:
                model = load_chat_model(model=model_spec)
            else:
                model = load_chat_model(run, base=base, switchable=switchable)
            return self._remember(self._models, key, model)

    def router(self, run: Path) -> Any:
        """The run's core.chat.routing.Router: its passage index and calibrated threshold (seconds, once)."""
        from core.chat.routing import Router

        key = self._key(run, "", False, False)
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


def open_session(models: ChatModels, run: Path | None, model_spec: str = "demo", *, base: bool = False,
                 passages: bool = True, always_tuned: bool = False, require_router: bool = True) -> ChatSession:
    """The session a run (or a model alone) answers with.

    A trained run routes each question (core/chat/routing.py): about the documents → the tuned
    weights, with the best passages in context when `passages` is on; anything else → the original
    weights. `always_tuned` answers everything with the tuned weights (the router then only finds
    passages, and the original weights are not kept). `base`, or no run: the original model alone.

    require_router: a router that cannot be built (no passage search model, no documents.json) is an
    error (the CLI: the user asked for this run's answers with sources); False answers with the tuned
    model alone and says why in each AnsweredBy event (the GUI: the answer still comes).
    """
    if run is None or base:
        return ChatSession(models.get(run, model_spec, base=True))
    model = models.get(run, model_spec, switchable=not always_tuned)
    try:
        router = models.router(run)
    except (TuneDeskError, OSError, ValueError, KeyError) as exc:
        if require_router:
            raise
        return ChatSession(model, passages=passages,
                           documents_unavailable=getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}")
    if always_tuned:  # every question is "about the documents": the router only finds passages
        import dataclasses

        router = dataclasses.replace(router, everything=True)
    return ChatSession(model, router=router, passages=passages)
