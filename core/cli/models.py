"""`tunedesk models list|add|download|remove|login|logout` — the catalogue from a terminal.

Here beside the other command groups, not in core/models/: the catalogue never
imports the command line that prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.cli.console import ConsolePrinter, DownloadPrinter, stop_on_ctrl_c


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _params(n: int) -> str:
    return f"{n / 1e9:.1f} B" if n >= 1e9 else f"{n / 1e6:.0f} M"


def cmd_models_list(args: argparse.Namespace) -> int:
    from core.device import detect
    from core.models.catalog import list_models
    from core.support import model_support

    device = detect()
    rows = []
    for entry in list_models():
        support = None
        if not entry.missing and (Path(entry.path) / "config.json").is_file():
            support = model_support(Path(entry.path), device)
        rows.append((entry, support))
    if args.json:
        print(json.dumps([{**e.to_dict(), "fit": (s.fit.verdict if s else None),
                           "fit_message": (s.fit.message if s else None), "supports": (s.to_dict() if s else None)}
                          for e, s in rows], indent=2))
        return 0
    print(f"{'NAME':<32} {'SOURCE':<7} {'ARCHITECTURE':<24} {'PARAMS':>7} {'SIZE':>9}  {'LICENCE':<14} {'TEMPLATE':<8} "
          f"{'TRAIN':<5} {'4-BIT':<5} {'FAST-CHAT':<9} FIT")
    for e, s in rows:
        template = "own" if e.has_chat_template else "default"
        fit = s.fit.verdict if s else ("(missing)" if e.missing and e.source != "demo" else "?")
        train, four_bit, chat = s.cells().values() if s else ("?", "?", "?")
        print(f"{e.name[:32]:<32} {e.source:<7} {e.architecture[:24]:<24} {_params(e.params):>7} {_size(e.size_bytes):>9}  "
              f"{(e.licence or '?')[:14]:<14} {template:<8} {train:<5} {four_bit:<5} {chat:<9} {fit}")
    _print_notes(rows)
    return 0


def _print_notes(rows: list[tuple[Any, Any]]) -> None:
    """Under the table: why a model cannot do something here (or does it slowly), and the template note."""
    notes = [f"  {e.name}: {note}" for e, s in rows if s for note in s.notes()]
    if notes:
        print("\nNot supported here, or slower:")
        print("\n".join(notes))
    if any(not e.has_chat_template for e, _ in rows):
        from core.models import DEFAULT_TEMPLATE_NOTE

        print(f"\ntemplate 'default': {DEFAULT_TEMPLATE_NOTE}")


def _print_entry(entry: Any) -> None:
    print(f"Installed '{entry.name}': {entry.architecture}, {_params(entry.params)} parameters, {_size(entry.size_bytes)}"
          f", licence {entry.licence or 'unknown'}.")
    if not entry.has_chat_template:
        from core.models import DEFAULT_TEMPLATE_NOTE

        print(DEFAULT_TEMPLATE_NOTE)
    print(f"Train with it: tunedesk train DOCS --out RUN --model \"{entry.name}\"")


def cmd_models_add(args: argparse.Namespace) -> int:
    from core.models.catalog import add_model

    _print_entry(add_model(args.path, args.name, on_event=ConsolePrinter()))
    return 0


def cmd_models_download(args: argparse.Namespace) -> int:
    from core.models.hub import download_model

    stop = stop_on_ctrl_c()
    printer = DownloadPrinter()
    try:
        entry = download_model(args.repo, revision=args.revision, name=args.name, on_event=printer,
                               should_stop=stop.is_set)
    finally:
        printer.close()
    _print_entry(entry)
    return 0


def cmd_models_remove(args: argparse.Namespace) -> int:
    from core.models.catalog import remove_model

    entry = remove_model(args.name)
    kept = "" if entry.owned else f" (your folder {entry.path} is left as it is)"
    print(f"Removed '{entry.name}'{kept}.")
    return 0


def cmd_models_login(args: argparse.Namespace) -> int:
    from core.models.hub_token import save_token

    if sys.stdin.isatty():
        import getpass

        token = getpass.getpass("Hugging Face access token (from https://huggingface.co/settings/tokens): ")
    else:
        token = sys.stdin.readline()
    save_token(token)
    print("Token saved in the system keyring.")
    return 0


def cmd_models_logout(args: argparse.Namespace) -> int:
    from core.models.hub_token import forget_token

    print("Token removed from the system keyring." if forget_token() else "No token was saved.")
    return 0


def add_parsers(sub: Any) -> None:
    """Mount `models …` on the `tunedesk` parser."""
    p = sub.add_parser("models", help="installed base models: list, add a folder or .gguf, download from the Hub, remove")
    msub = p.add_subparsers(dest="models_command", required=True)

    q = msub.add_parser("list", help="installed models with size, licence, chat template, whether they fit here, and what "
                                     "they support here (training, 4-bit, the fast CPU chat)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=cmd_models_list)

    q = msub.add_parser("add", help="add a model folder (used in place) or a .gguf file (converted once)")
    q.add_argument("path", help="folder with config.json and weights, or a .gguf file")
    q.add_argument("--name", help="name to use with --model (default: the folder or file name)")
    q.set_defaults(func=cmd_models_add)

    q = msub.add_parser("download", help="download owner/name from the Hugging Face Hub (resumes; Ctrl-C keeps what arrived)")
    q.add_argument("repo", help="owner/name, as in the model page's address")
    q.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    q.add_argument("--name", help="name to use with --model (default: owner/name)")
    q.set_defaults(func=cmd_models_download)

    q = msub.add_parser("remove", help="forget a model; deletes downloaded or converted files, never your own folder")
    q.add_argument("name")
    q.set_defaults(func=cmd_models_remove)

    q = msub.add_parser("login", help="save a Hugging Face access token in the system keyring (for gated or private models)")
    q.set_defaults(func=cmd_models_login)

    q = msub.add_parser("logout", help="remove the saved access token")
    q.set_defaults(func=cmd_models_logout)
