"""Events that long core operations send to `on_event`.

Frozen dataclasses, so the CLI can print them, the GUI worker can re-emit
them as one Qt signal, and tests can collect them in a list. They carry plain
numbers and strings only (no tensors) so they can also cross a process
boundary as JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Progress:
    """Coarse progress of a stage that is not a training step."""

    stage: str  # "ingest", "dataset", "load-model", "evaluate", ...
    message: str
    done: int = 0
    total: int = 0


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
    stopped_early: bool
    adapter_path: str
    message: str = ""


@dataclass(frozen=True)
class Failed:
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Warning:  # noqa: A001 - a user-facing warning, not the builtin
    message: str


Event = Progress | StepMetrics | EvalMetrics | CheckpointSaved | Finished | Failed | Warning
OnEvent = Callable[[Event], None]
ShouldStop = Callable[[], bool]

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Progress, StepMetrics, EvalMetrics, CheckpointSaved, Finished, Failed, Warning)
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
    return cls(**data)
