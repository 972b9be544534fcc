"""`tunedesk export RUN --format adapter|merged|gguf|ollama [--quant f16|q8_0|q4_0] --out FOLDER`.

Prints the progress, each load-back check with its figures, and for Ollama the one `ollama create` line.
Exits 0 when every check passed, 4 when the files were written but a check failed (they are kept, so the
figures can be looked at), 2 for a refusal (another base model, an architecture GGUF export does not write).
"""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.console import ConsolePrinter, stop_on_ctrl_c
from core.events import Event, ExportCheck, Exported, Progress

VERIFY_FAILED = 4


class ExportPrinter:
    """Checks as ✓ / ✗ / – lines with their figures; the tensor count as one line every so often."""

    def __init__(self) -> None:
        self.lines = ConsolePrinter()

    def __call__(self, event: Event) -> None:
        if isinstance(event, ExportCheck):
            mark = {True: "✓", False: "✗", None: "–"}[event.passed]
            self.lines._line(f"  {mark} {event.name}: {event.detail}")
        elif isinstance(event, Exported):
            self.lines._line(("✓ " if event.passed else "✗ ") + event.message)
        elif isinstance(event, Progress) and event.tick:
            if event.done == event.total or event.done % 100 == 0:
                self.lines._line(f"· {event.message}")
        else:
            self.lines(event)


def cmd_export(args: argparse.Namespace) -> int:
    from core.export import export_run

    stop = stop_on_ctrl_c()
    result = export_run(args.run, args.format, args.out, args.quant, model=args.model, on_event=ExportPrinter(),
                        should_stop=stop.is_set)
    for name, size in result.files.items():
        print(f"{size / 1e6:10.1f} MB  {name}")
    print(result.summary())
    print(result.outlook)
    if result.command:
        print(f"Make it an Ollama model with:\n  {result.command}")
    print(f"Recorded in {result.record}")
    return 0 if result.passed else VERIFY_FAILED


def add_parsers(sub: Any) -> None:
    """Mount `export` on the `tunedesk` parser."""
    from core.export.gguf_file import QUANTS, SUPPORTED_WORDS
    from core.export.runner import FORMATS

    p = sub.add_parser("export", help="the tuned model as an adapter, merged safetensors, GGUF or Ollama model, "
                                      "each loaded back and checked")
    p.add_argument("run", help="run folder")
    p.add_argument("--format", required=True, choices=FORMATS,
                   help=f"adapter (peft), merged (transformers), gguf or ollama (GGUF + Modelfile; {SUPPORTED_WORDS})")
    p.add_argument("--quant", choices=QUANTS, help="GGUF weights: f16 (default), q8_0 or q4_0")
    p.add_argument("--out", required=True, help="folder that receives the files")
    p.add_argument("--model", help="base model to merge into (default: the one the run was trained on; "
                                   "another one is refused)")
    p.set_defaults(func=cmd_export)
