"""Where training metrics go: one sink writes metrics.jsonl, `tee` hands the same event on.

The loop emits each StepMetrics / EvalMetrics once, to `tee(MetricsFile(run),
on_event)`; the file and the caller (CLI printer, GUI worker, a test's list)
cannot drift apart, as two paired calls at every site could (torchtune's
metric loggers are the model: one `log` call, several destinations).
"""

from __future__ import annotations

import dataclasses

from core.events import ClassifierEval, EvalMetrics, Event, OnEvent, StepMetrics
from core.store import RunDir

RECORD_TYPES: dict[type, str] = {StepMetrics: "step", EvalMetrics: "eval", ClassifierEval: "classify"}
"""The events metrics.jsonl keeps, and the "type" each line is written with."""


class MetricsFile:
    """An event sink that appends each metric event to the run's metrics.jsonl and ignores the others."""

    def __init__(self, run: RunDir) -> None:
        self.run = run

    def __call__(self, event: Event) -> None:
        kind = RECORD_TYPES.get(type(event))
        if kind is not None:
            self.run.append_metric({"type": kind, **dataclasses.asdict(event)})


def tee(*sinks: OnEvent) -> OnEvent:
    """One sink that passes each event to every sink in order (the file first: a line is on disk before
    anyone reacts to it, so a caller that stops the run on an event never loses that event's line)."""

    def send(event: Event) -> None:
        for sink in sinks:
            sink(event)

    return send
