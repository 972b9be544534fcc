"""`tunedesk` — the same calls the GUI makes, from a terminal.

One module per command group (training.py: doctor, train, eval; chat.py: ask, chat;
models.py: models …; export.py: export; classify.py: classify …; scale.py: prepare, pack, train --run), and console.py for printing events and Ctrl-C. Every command
prints errors as what happened + what to do, and exits non-zero. Ctrl-C during
training asks the loop to stop at the next step, which saves a checkpoint that
`--resume` continues from.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from core.cli import chat, classify, export, models, scale, training
from core.cli.console import run_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunedesk", description="Fine-tune a language model on your documents, then chat with it.")
    sub = parser.add_subparsers(dest="command", required=True)
    training.add_parsers(sub)  # doctor, train, eval
    scale.add_parsers(sub)  # prepare, pack (train --run: many processes)
    chat.add_parsers(sub)  # ask, chat
    models.add_parsers(sub)  # models list|add|download|remove|login|logout
    export.add_parsers(sub)  # export
    classify.add_parsers(sub)  # classify train|run|eval|export
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from core.quiet import quiet_libraries

    quiet_libraries()
    args = build_parser().parse_args(argv)
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
