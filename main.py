"""TuneDesk entry point.

Double-click (no arguments): the desktop app. With a command (`python main.py
train …`, `--help`): the `tunedesk` CLI. `--worker …` is reserved for worker
subprocesses, because a frozen app has no `python -m`.
"""

from __future__ import annotations

import sys

CLI_COMMANDS = {"doctor", "train", "ask", "chat", "eval", "models", "classify", "-h", "--help"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--worker":
        from core.worker import worker_main

        return worker_main(args[1:])
    if args and args[0] in CLI_COMMANDS:
        from core.cli import main as cli_main

        return cli_main(args)
    try:
        from gui.app import run_app
    except ImportError as exc:  # a bundle or install without the GUI still has the CLI
        print(f"The desktop app is unavailable ({exc}); the command line works: python main.py --help", file=sys.stderr)
        return 1
    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
