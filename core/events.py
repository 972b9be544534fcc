"""Events that long core operations send to `on_event`.

Frozen dataclasses, so the CLI can print them, the GUI worker can re-emit
them as one Qt signal, and tests can collect them in a list. They carry plain
numbers and strings only (no tensors) so they can also cross a process
boundary as JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable


class Stage(StrEnum):
    """What a Progress event is about. Code that reacts to a stage compares with these, never with a
    message's words; a str, so a stage read back from a JSON line compares equal."""

    COPY = "copy"
    DOWNLOAD = "download"
    INGEST = "ingest"
    DATASET = "dataset"
    LOAD_MODEL = "load-model"
    ESTIMATE = "estimate"
    TRAIN = "train"
    EVALUATE = "evaluate"
    GENERATE = "generate"
    EXPORT = "export"
    VERIFY = "verify"


@dataclass(frozen=True)
class Progress:
    """Coarse progress of a stage that is not a training step."""

    stage: str
    """A Stage."""
    message: str
    done: int = 0
    total: int = 0
    tick: bool = False
    """True for the frequent count updates of work under way (a download's bytes): a progress bar shows
    them in place of a line each. False: a statement worth its own line."""


@dataclass(frozen=True)
class StepMetrics:
    step: int
    total_steps: int
    epoch: float
    loss: float
    learning_rate: float
    tokens_per_second: float
    elapsed_s: float
    eta_s: float


@dataclass(frozen=True)
class EvalMetrics:
    step: int
    val_loss: float
    train_loss: float
    overfitting: bool = False
    message: str = ""


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str


@dataclass(frozen=True)
class Finished:
    step: int
    stopped_by_user: bool
    """True when a stop request ended the run (it resumes from here); False when it trained to the end,
    its planned steps or early stopping on validation loss alike."""
    adapter_path: str
    message: str = ""


@dataclass(frozen=True)
class Failed:
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Caution:
    """Something the user should know that does not stop the work (a skipped file, a run that may not fit).
    Not named Warning: that would shadow the builtin in every module that imports it."""

    message: str


@dataclass(frozen=True)
class ClassifierEval:
    """A text classifier's validation check at one step (core/classify): what its Train and Try-it pages show
    besides the loss curves, which come as an EvalMetrics of the same step."""

    step: int
    accuracy: float
    macro_f1: float
    labels: tuple[str, ...]
    precision: tuple[float, ...]
    """Per label, in the order of `labels`."""
    recall: tuple[float, ...]
    support: tuple[int, ...]
    """Validation rows per label."""
    confusion: tuple[tuple[int, ...], ...]
    """confusion[i][j]: validation rows labelled labels[i] that the model called labels[j]."""


# Chat: ChatSession.answer yields these, in this order, for each reply.
@dataclass(frozen=True)
class Passage:
    """A document passage put in the model's context, shown as one of the answer's sources."""

    document: str
    index: int
    """0-based position of the passage in its document (the CLI writes it so; the GUI shows index + 1)."""
    text: str
    score: float
    """Cosine similarity to the question (core/retrieval.py)."""


@dataclass(frozen=True)
class AnsweredBy:
    """Which weights write the reply that follows: "tuned", or "original" (the base model, or a trained
    run's original weights for a question not about its documents, core/chat/routing.py)."""

    weights: str
    documents_unavailable: str = ""
    """Why a trained run answers without its documents (no passage search model, no documents.json), if so."""


@dataclass(frozen=True)
class AnswerSources:
    """The passages the reply was given; empty for a general question or with sources off."""

    passages: tuple[Passage, ...] = ()
    quoted: bool = False
    """True: the reply is the documents' own statement, held by the first passage, ranked highest by the tuned
    weights and the search (core/chat/grounding.py); False: the passages were in the model's context as it
    answered."""


@dataclass(frozen=True)
class AnswerPiece:
    """A piece of the reply's text as it is decoded."""

    text: str


@dataclass(frozen=True)
class AnswerDone:
    """The reply is over: its whole text, and whether a stop request cut it short."""

    text: str
    stopped: bool = False


# Export (core/export): Progress events under Stage.EXPORT / Stage.VERIFY, an ExportCheck per load-back check,
# then one Exported.
@dataclass(frozen=True)
class ExportCheck:
    """One verification of an export, loaded back the way a user will load it: what was compared and the figures."""

    name: str
    """What was checked, in words ("merged model vs the in-app tuned weights")."""
    passed: bool | None
    """None: skipped (a tool that is not installed), with the reason in `detail`."""
    detail: str
    """The figures: "6/6 greedy answers identical", "token agreement 97.4%"."""


@dataclass(frozen=True)
class Exported:
    """An export is written and checked: where it is and whether every check passed."""

    format: str
    folder: str
    passed: bool
    message: str


ChatEvent = AnsweredBy | AnswerSources | AnswerPiece | AnswerDone
ExportEvent = ExportCheck | Exported
Event = (Progress | StepMetrics | EvalMetrics | ClassifierEval | CheckpointSaved | Finished | Failed | Caution | ChatEvent
         | ExportEvent)
OnEvent = Callable[[Event], None]
ShouldStop = Callable[[], bool]

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Progress, StepMetrics, EvalMetrics, ClassifierEval, CheckpointSaved, Finished, Failed, Caution,
                AnsweredBy, AnswerSources, AnswerPiece, AnswerDone, ExportCheck, Exported)
}


def ignore_event(event: Event) -> None:
    """Default sink."""


def never_stop() -> bool:
    return False


def to_dict(event: Event) -> dict[str, Any]:
    return {"type": type(event).__name__, **dataclasses.asdict(event)}


def from_dict(data: dict[str, Any]) -> Event:
    data = dict(data)
    cls = EVENT_TYPES[data.pop("type")]
    if cls is AnswerSources:  # the one event with nested dataclasses
        data["passages"] = tuple(Passage(**p) for p in data.get("passages", ()))
    if cls is ClassifierEval:  # JSON gives lists back; the event holds tuples
        data = {k: tuple(tuple(r) for r in v) if k == "confusion" else tuple(v) if isinstance(v, list) else v
                for k, v in data.items()}
    return cls(**data)
