"""`tunedesk ask|chat` — a run's answers from a terminal: a file of questions, or a conversation.

Both read the same answer events the app shows (core/chat/session.py `answer`): which
weights answered, the passages given, the text as it is decoded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.errors import TuneDeskError
from core.events import AnsweredBy, AnswerPiece, AnswerSources

ALWAYS_TUNED_HELP = ("answer every question with the tuned weights (default: questions not about the documents "
                     "go to the original weights, which kept their general knowledge)")


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


def _session(args: argparse.Namespace) -> Any:
    """A tuned run's chat routes each question (core/chat/routing.py): about the documents → the tuned
    weights, with the best passages in context unless --no-sources; anything else → the original weights.
    --always-tuned answers everything with the tuned weights; --base with the original model alone."""
    from core.chat.assembly import ChatModels, open_session

    return open_session(ChatModels(size=1), Path(args.run), base=args.base, passages=not args.no_sources,
                        always_tuned=args.always_tuned)


def cmd_ask(args: argparse.Namespace) -> int:
    from core.store import RunDir

    RunDir(args.run).read_run()  # a wrong folder is reported before anything else
    questions = _read_questions(Path(args.questions))
    session = _session(args)
    lines = []
    for item in questions:
        session.reset()
        row = {**item, "answer": ""}
        pieces = []
        for event in session.answer(item["q"]):
            if isinstance(event, AnswerPiece):
                pieces.append(event.text)
            elif isinstance(event, AnsweredBy) and session.router is not None:
                row["answered_by"] = event.weights
            elif isinstance(event, AnswerSources) and session.router is not None:
                row["sources"] = [{"document": p.document, "passage": p.index, "score": round(p.score, 3)}
                                  for p in event.passages]
                row["quoted"] = event.quoted
        row["answer"] = "".join(pieces).strip()
        lines.append(json.dumps(row, ensure_ascii=False))
        if not args.out:
            print(lines[-1], flush=True)
    if args.out:
        from core.store import atomic_write_text

        atomic_write_text(Path(args.out), "\n".join(lines) + "\n")
        print(f"Wrote {len(lines)} answers to {args.out}", file=sys.stderr)
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
        answered_by, sources = "", AnswerSources()
        try:
            for event in session.answer(text):
                if isinstance(event, AnswerPiece):
                    print(event.text, end="", flush=True)
                elif isinstance(event, AnsweredBy):
                    answered_by = event.weights
                elif isinstance(event, AnswerSources):
                    sources = event
        except KeyboardInterrupt:
            print(" [stopped]", end="")
        print()
        if answered_by == "original" and not args.base:
            print("  (a general question: answered by the original model's knowledge)", file=sys.stderr)
        if sources.quoted:
            print("  (quoted from your documents: passage [1])", file=sys.stderr)
        for n, passage in enumerate(sources.passages, 1):
            print(f"  [{n}] {passage.document}, passage {passage.index + 1}: {passage.text[:100]}…", file=sys.stderr)


def add_parsers(sub: Any) -> None:
    """Mount `ask` and `chat` on the `tunedesk` parser."""
    p = sub.add_parser("ask", help="answer a JSONL file of questions with a run's model")
    p.add_argument("run", help="run folder")
    p.add_argument("--questions", required=True, help='JSONL, one {"q": ...} per line')
    p.add_argument("--out", help="write answers here (JSONL) instead of printing them")
    p.add_argument("--base", action="store_true", help="answer with the base model alone")
    p.add_argument("--no-sources", action="store_true",
                   help="answer closed-book, from the model alone (default: with the best passages of the documents in context)")
    p.add_argument("--always-tuned", action="store_true", help=ALWAYS_TUNED_HELP)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="chat with a run's model in the terminal (streaming)")
    p.add_argument("run", help="run folder")
    p.add_argument("--base", action="store_true", help="chat with the base model alone")
    p.add_argument("--no-sources", action="store_true", help="answer from the model alone, without document passages")
    p.add_argument("--always-tuned", action="store_true", help=ALWAYS_TUNED_HELP)
    p.set_defaults(func=cmd_chat)
