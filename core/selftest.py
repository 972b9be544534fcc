"""`TuneDesk --self-test`: prove a build by running it, with no display and no network.

A frozen program can lack a file that the source checkout has (a data file a hook
missed, a model folder, a library's metadata) and only fail when a user reaches
that path. So every build runs the whole loop on the built program itself: find
the bundled demo model, answer a general question, read one sample document,
train two steps, answer from the run. Each step is timed and printed; the first
failure stops the test and names the step, and the exit code says it failed.
Everything is written to a temporary data folder, never the user's.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.paths import sample_docs_dir

GENERAL_QUESTION = "What is the capital of France?"
GENERAL_ANSWER = "paris"
DOCUMENT = "harbor_lane_bakery_handbook.md"
DOCUMENT_QUESTION = "Who founded Harbor Lane Bakery?"
TRAIN_STEPS = 2
ANSWER_TOKENS = 32
"""Enough for the capital's name and a sentence from the run; more only costs time."""


@dataclass(frozen=True)
class Check:
    """One step of the self-test: what it did, whether it worked, and how long it took."""

    name: str
    ok: bool
    seconds: float
    detail: str
    """What it found (a path, an answer) or, on failure, the error."""


class SelfTestFailure(Exception):
    """A step ran but its result is wrong (an answer without the expected word, no adapter written)."""


def _answer(session: object, question: str) -> tuple[str, str]:
    """The reply's text and which weights wrote it."""
    from core.chat import SamplingSettings
    from core.events import AnsweredBy, AnswerDone

    text, weights = "", ""
    for event in session.answer(question, SamplingSettings(max_new_tokens=ANSWER_TOKENS)):  # type: ignore[attr-defined]
        if isinstance(event, AnsweredBy):
            weights = event.weights
        elif isinstance(event, AnswerDone):
            text = event.text.strip()
    return text, weights


def _find_demo_model() -> str:
    from core.models import resolve_model
    from core.models.gguf import demo_gguf_path

    gguf = demo_gguf_path()
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and Path(bundle).resolve() not in gguf.resolve().parents:
        raise SelfTestFailure(f"the demo model was found outside the bundle ({gguf}): the build did not carry it")
    folder = resolve_model("demo")  # the one-off GGUF → safetensors conversion, into the temporary data folder
    return f"{gguf.name} → {folder}"


def _general_answer(models: object) -> str:
    from core.chat import open_session

    text, _ = _answer(open_session(models, None, "demo", base=True), GENERAL_QUESTION)  # type: ignore[arg-type]
    if GENERAL_ANSWER not in text.lower():
        raise SelfTestFailure(f"{GENERAL_QUESTION!r} was answered without {GENERAL_ANSWER!r}: {text!r}")
    return repr(text[:80])


def _train(document: Path, run: Path) -> str:
    from core.pipeline import train
    from core.store import RunDir, RunStatus
    from core.training.config import preset_config

    # No replay: its 120 general answers cost minutes and are the same code the chat step already ran.
    config = preset_config("quick", max_steps=TRAIN_STEPS, min_steps=0, replay=False, eval_every=0,
                           save_every=TRAIN_STEPS, compile="off")
    result = train([document], run, config)
    if result.status != RunStatus.FINISHED or result.step != TRAIN_STEPS:
        raise SelfTestFailure(f"training ended {result.status} after {result.step} of {TRAIN_STEPS} steps")
    adapter = RunDir(run).adapter
    if not any(adapter.glob("adapter_model.*")):
        raise SelfTestFailure(f"training finished but wrote no adapter in {adapter}")
    return f"{result.step} steps, train loss {result.train_loss:.3f}"


def _run_answer(models: object, run: Path) -> str:
    from core.chat import open_session

    text, weights = _answer(open_session(models, run), DOCUMENT_QUESTION)  # type: ignore[arg-type]
    if not text:
        raise SelfTestFailure(f"the trained run gave an empty answer to {DOCUMENT_QUESTION!r}")
    if weights != "tuned":
        raise SelfTestFailure(f"a question about the document was answered by the {weights or 'unknown'} weights, "
                              "not the tuned ones (the passage search did not route it)")
    return f"{weights} weights: {text[:80]!r}"


def self_test(work: Path, document: Path | None = None, on_check: Callable[[Check], None] = lambda c: None) -> list[Check]:
    """Run every step in order into `work` (a run folder is made there); stop at the first failure.

    The data folder is whatever core.paths says (main's `--self-test` points it at a temporary one)."""
    from core.chat import ChatModels

    document = document or sample_docs_dir() / DOCUMENT
    run = Path(work) / "self-test-run"
    models = ChatModels(size=1)  # one loaded model at a time: the base one goes when the run's comes
    steps: list[tuple[str, Callable[[], str]]] = [
        ("find the bundled demo model", _find_demo_model),
        ("answer a general question", lambda: _general_answer(models)),
        (f"read {document.name} and train {TRAIN_STEPS} steps", lambda: _train(document, run)),
        ("answer from the trained run", lambda: _run_answer(models, run)),
    ]
    checks: list[Check] = []
    for name, step in steps:
        started = time.perf_counter()
        try:
            ok, detail = True, step()
        except Exception as exc:  # noqa: BLE001 - any failure is the answer; it is named, not raised
            ok, detail = False, getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, SelfTestFailure):
                detail += "\n" + "".join(traceback.format_exception(exc)[-6:])
        check = Check(name, ok, time.perf_counter() - started, detail)
        checks.append(check)
        on_check(check)
        if not check.ok:
            break
    return checks


def format_check(check: Check) -> str:
    return f"{'ok    ' if check.ok else 'FAILED'} {check.name} ({check.seconds:.1f} s): {check.detail}"


def self_test_main(argv: list[str]) -> int:
    """`--self-test [--keep] [--log FILE]`: 0 when every step passed; 1 naming the failed step.

    --keep leaves the temporary data folder; --log also writes the lines to FILE (a Windows build has no
    console to print to)."""
    keep = "--keep" in argv
    log = Path(argv[argv.index("--log") + 1]) if "--log" in argv[:-1] else None
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if sys.stdout is not None:
            print(line, flush=True)
        if log is not None:
            log.write_text("\n".join(lines) + "\n", encoding="utf-8")

    home = Path(tempfile.mkdtemp(prefix="tunedesk-self-test-"))
    os.environ["TUNEDESK_HOME"] = str(home)  # never the user's projects, models or catalogue
    os.environ.pop("TUNEDESK_MODELS", None)  # the conversion itself is part of what a build must do
    os.environ["HF_HUB_OFFLINE"] = "1"  # a build must answer without the network
    from core.quiet import quiet_libraries

    quiet_libraries()
    started = time.perf_counter()
    say(f"TuneDesk self-test ({'frozen build' if getattr(sys, 'frozen', False) else 'source'}; data in {home})")
    try:
        checks = self_test(home, on_check=lambda c: say(format_check(c)))
    finally:
        if not keep:
            import shutil

            shutil.rmtree(home, ignore_errors=True)
    failed = [c for c in checks if not c.ok]
    total = time.perf_counter() - started
    if failed:
        say(f"SELF-TEST FAILED at: {failed[0].name} ({total:.0f} s)")
        return 1
    say(f"SELF-TEST PASSED: {len(checks)} steps in {total:.0f} s")
    return 0
