"""`tunedesk` — the same calls the GUI makes, from a terminal.

Every command prints errors as what happened + what to do, and exits non-zero.
Ctrl-C during training asks the loop to stop at the next step, which saves a
checkpoint that `--resume` continues from.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from core.errors import Cancelled, TuneDeskError
from core.events import CheckpointSaved, EvalMetrics, Event, Failed, Finished, Progress, StepMetrics, Warning
from core.training.config import CHOICES


def _fmt_time(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ConsolePrinter:
    """Turns core events into a progress bar and plain lines."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: Any = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepMetrics):
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=event.total_steps, initial=event.step - 1, unit="step", file=self.stream,
                                dynamic_ncols=True, desc="training")
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix_str(f"loss {event.loss:.3f} · {event.tokens_per_second:.0f} tok/s · ETA {_fmt_time(event.eta_s)}")
            return
        self._close_bar_if_done(event)
        if isinstance(event, Progress):
            self._line(f"· {event.message}")
        elif isinstance(event, EvalMetrics):
            self._line(f"  step {event.step}: validation loss {event.val_loss:.3f} (training {event.train_loss:.3f})")
            if event.overfitting:
                self._line(f"  ! {event.message}")
        elif isinstance(event, CheckpointSaved):
            pass  # frequent; the bar already shows progress
        elif isinstance(event, Warning):
            self._line(f"! {event.message}")
        elif isinstance(event, Finished):
            self._line(f"✓ {event.message}")
        elif isinstance(event, Failed):
            self._line(f"✗ {event.message}" + (f"\n  → {event.hint}" if event.hint else ""))

    def _line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _close_bar_if_done(self, event: Event) -> None:
        if isinstance(event, Finished) and self.bar is not None:
            self.bar.close()
            self.bar = None


def _stop_on_ctrl_c() -> threading.Event:
    """First Ctrl-C: stop cleanly at the next step. Second: abort."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return stop

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        print("\nStopping after this step (press Ctrl-C again to abort)…", file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    return stop


def cmd_doctor(args: argparse.Namespace) -> int:
    from core.device import choose_precision, detect

    info = detect()
    choice = choose_precision(info, 135_000_000)
    if args.json:
        print(json.dumps({**info.to_dict(), "training_precision": choice.precision, "reason": choice.reason}, indent=2))
    else:
        print(info.describe())
        print(f"Training:      {choice.precision} — {choice.reason} (for the demo model)")
    return 0


def _config_from_args(args: argparse.Namespace) -> Any:
    from core.training.config import preset_config

    overrides: dict[str, Any] = {"model": args.model}
    for name in ("max_steps", "epochs", "batch_size", "max_seq_len", "precision", "learning_rate", "lora_r",
                 "save_every", "eval_every", "seed", "compile"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if args.lora_r is not None and args.lora_alpha is None:
        overrides["lora_alpha"] = 2 * args.lora_r
    config = preset_config(args.preset, **overrides)
    if any(k not in ("model",) for k in overrides):
        config.preset = args.preset if len(overrides) == 1 else f"{args.preset} (customised)"
    return config


def cmd_train(args: argparse.Namespace) -> int:
    from core.pipeline import train

    out = Path(args.out)
    if not args.resume and not args.documents:
        raise TuneDeskError("No documents given.", "Name files or folders: tunedesk train my_docs/ --out my_run")
    stop = _stop_on_ctrl_c()
    printer = ConsolePrinter()
    config = None if args.resume and (out / "run.json").is_file() else _config_from_args(args)
    result = train(args.documents, out, config, on_event=printer, should_stop=stop.is_set, resume=args.resume)
    if result.status == "finished" and not args.no_eval:
        from core.evaluation.report import evaluate_run, format_report

        try:
            print(format_report(evaluate_run(out, on_event=printer, should_stop=stop.is_set)))
        except TuneDeskError as exc:
            print(f"(No report: {exc.message})", file=sys.stderr)
    print(f"Run folder: {out}")
    print(f"Steps: {result.step}/{result.total_steps} · train loss {result.train_loss:.3f}"
          + (f" · validation loss {result.val_loss:.3f}" if result.val_loss is not None else "")
          + f" · {result.seconds / 60:.1f} min · peak memory {result.peak_memory_gb:.1f} GB")
    return 0 if result.status == "finished" else 3


def _read_questions(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise TuneDeskError(f"Questions file not found: {path}", 'Give a JSONL file with one {"q": "..."} per line.')
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TuneDeskError(f"{path.name} line {n} is not valid JSON: {exc.msg}",
                                'Each line must look like {"q": "What is ...?"}') from exc
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            raise TuneDeskError(f'{path.name} line {n} has no "q" text field.', 'Each line must look like {"q": "What is ...?"}')
        out.append(item)
    if not out:
        raise TuneDeskError(f"{path.name} has no questions.", 'Add lines like {"q": "What is ...?"}')
    return out


def cmd_ask(args: argparse.Namespace) -> int:
    from core.store import RunDir

    RunDir(args.run).read_run()  # a wrong folder is reported before anything else
    questions = _read_questions(Path(args.questions))
    session = _session(args)
    lines = []
    for item in questions:
        session.reset()
        answer = "".join(session.send(item["q"])).strip()
        row = {**item, "answer": answer}
        if session.router is not None:
            row["answered_by"] = session.answered_by
            row["sources"] = [{"document": s.source, "passage": s.index, "score": round(s.score, 3)}
                              for s in session.last_sources]
        lines.append(json.dumps(row, ensure_ascii=False))
        if not args.out:
            print(lines[-1], flush=True)
    if args.out:
        from core.store import atomic_write_text

        atomic_write_text(Path(args.out), "\n".join(lines) + "\n")
        print(f"Wrote {len(lines)} answers to {args.out}", file=sys.stderr)
    return 0


def _session(args: argparse.Namespace) -> Any:
    """A tuned run's chat routes each question (core/chat/routing.py): about the documents → the tuned
    weights, with the best passages in context unless --no-sources; anything else → the original weights.
    --always-tuned answers everything with the tuned weights; --base with the original model alone."""
    from core.chat import ChatSession, load_chat_model

    if args.base:
        return ChatSession(load_chat_model(args.run, base=True))
    from core.chat.routing import Router

    route = not args.always_tuned
    model = load_chat_model(args.run, switchable=route)
    router = Router.for_run(args.run)
    if not route:  # every question is "about the documents": the router only finds passages
        router = dataclasses.replace(router, everything=True)
    return ChatSession(model, router=router, passages=not args.no_sources)


def cmd_eval(args: argparse.Namespace) -> int:
    from core.evaluation.report import evaluate_run, format_report

    report = evaluate_run(args.run, on_event=ConsolePrinter(), general=not args.no_general)
    print(format_report(report))
    print(f"Written to {Path(args.run) / 'report.json'}")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    print("Loading…", file=sys.stderr, flush=True)
    session = _session(args)
    print(f"Chatting with {'the base model' if args.base else 'the tuned model'}. "
          "Empty line or Ctrl-D to quit, /new for a new conversation, Ctrl-C stops a reply.", file=sys.stderr)
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if not text:
            return 0
        if text == "/new":
            session.reset()
            continue
        print("model> ", end="", flush=True)
        try:
            for piece in session.send(text):
                print(piece, end="", flush=True)
        except KeyboardInterrupt:
            print(" [stopped]", end="")
        print()
        if session.answered_by == "original" and not args.base:
            print("  (a general question: answered by the original model's knowledge)", file=sys.stderr)
        for n, src in enumerate(session.last_sources, 1):
            print(f"  [{n}] {src.source}, passage {src.index + 1}: {src.text[:100]}…", file=sys.stderr)


ALWAYS_TUNED_HELP = ("answer every question with the tuned weights (default: questions not about the documents "
                     "go to the original weights, which kept their general knowledge)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunedesk", description="Fine-tune a language model on your documents, then chat with it.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="what this machine has: CUDA / MPS / CPU, memory, bf16, 4-bit support")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("train", help="read documents, build a dataset and train an adapter into a run folder")
    p.add_argument("documents", nargs="*", help="files or folders (.txt .md .pdf .docx .html)")
    p.add_argument("--out", required=True, help="run folder to create (or continue with --resume)")
    p.add_argument("--model", default="demo",
                   help="'demo' (built in), a model folder, a .gguf file, or a name from `tunedesk models list`")
    p.add_argument("--preset", default="standard", choices=["quick", "standard", "thorough"])
    p.add_argument("--max-steps", type=int, help="stop after N optimiser steps")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    p.add_argument("--no-eval", action="store_true", help='skip the "did it learn?" report at the end')
    adv = p.add_argument_group("advanced")
    adv.add_argument("--epochs", type=float)
    adv.add_argument("--learning-rate", "--lr", dest="learning_rate", type=float)
    adv.add_argument("--batch-size", type=int)
    adv.add_argument("--max-seq-len", type=int)
    adv.add_argument("--lora-r", "--rank", dest="lora_r", type=int)
    adv.add_argument("--lora-alpha", type=int)
    adv.add_argument("--precision", choices=CHOICES["precision"])
    adv.add_argument("--save-every", type=int)
    adv.add_argument("--eval-every", type=int)
    adv.add_argument("--seed", type=int)
    adv.add_argument("--compile", choices=CHOICES["compile"],
                     help="torch.compile the layers on a CPU: ~8%% faster steps after a 10-40 s compile (auto: runs of 150+ steps)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("ask", help="answer a JSONL file of questions with a run's model")
    p.add_argument("run", help="run folder")
    p.add_argument("--questions", required=True, help='JSONL, one {"q": ...} per line')
    p.add_argument("--out", help="write answers here (JSONL) instead of printing them")
    p.add_argument("--base", action="store_true", help="answer with the base model alone")
    p.add_argument("--no-sources", action="store_true",
                   help="answer closed-book, from the model alone (default: with the best passages of the documents in context)")
    p.add_argument("--always-tuned", action="store_true", help=ALWAYS_TUNED_HELP)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help='"did it learn?": held-out fact recall and a general check, base vs tuned')
    p.add_argument("run", help="run folder")
    p.add_argument("--no-general", action="store_true", help="skip the general-knowledge check")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("chat", help="chat with a run's model in the terminal (streaming)")
    p.add_argument("run", help="run folder")
    p.add_argument("--base", action="store_true", help="chat with the base model alone")
    p.add_argument("--no-sources", action="store_true", help="answer from the model alone, without document passages")
    p.add_argument("--always-tuned", action="store_true", help=ALWAYS_TUNED_HELP)
    p.set_defaults(func=cmd_chat)

    from core.models.commands import add_models_parser  # models list|add|download|remove|login|logout

    add_models_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from core.quiet import quiet_libraries

    quiet_libraries()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TuneDeskError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"What to do: {exc.hint}", file=sys.stderr)
        return 2
    except Cancelled:
        print("Stopped.", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nAborted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
