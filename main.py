"""TuneDesk entry point.

Double-click (no arguments): the desktop app. With a command (`python main.py
train …`, `--help`): the `tunedesk` CLI. `--worker …` is reserved for worker
subprocesses, because a frozen app has no `python -m`. `--self-test` proves a
build by running it (core/selftest.py). Before the window, on Linux, the X11
plugin's system libraries are checked, so a missing one is named with the command
that installs it instead of Qt's own abort (core/platform_check.py).
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
    if args and args[0] == "--self-test":
        from core.selftest import self_test_main

        return self_test_main(args[1:])
    from core.platform_check import check_qt_platform, show_without_qt

    missing = check_qt_platform()
    if missing is not None:
        show_without_qt(missing.explain())
        return 2
    try:
        from gui.app import run_app
    except ImportError as exc:  # a bundle or install without the GUI still has the CLI
        print(f"The desktop app is unavailable ({exc}); the command line works: python main.py --help", file=sys.stderr)
        return 1
    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
