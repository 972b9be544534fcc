"""CI's bundle check: build the Linux app and run its --self-test when what it freezes has changed.

    python packaging/ci_bundle.py [--force | --record]

"What it freezes" is every tracked file under packaging/, core/, gui/ and resources/, plus
main.py, pyproject.toml and scripts/tested-versions.txt (the library versions the build
installs and copies in), hashed together. packaging/last_selftest.json holds the hash
of the last tree whose bundle passed its self-test (with the build time, size and
self-test time), written by this script after a pass and committed with the change. A
tree with the same hash skips the ~15-minute build; any other tree builds and
self-tests, so a change that breaks the frozen app (a new lazily imported library, a
data file a hook misses) fails CI in the commit that made it. --record writes the stamp
for the tree as it is from dist/build-report.json, after `python3 packaging/build.py`
passed by hand. Until a first stamp is committed, a failed build is reported loudly
but does not fail CI: the slimmed spec had not finished a build on the busy machine it
was written on, and an unproven gate must not block every other change from landing.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STAMP_NAME = "packaging/last_selftest.json"
STAMP = ROOT / STAMP_NAME
TESTED_VERSIONS = "scripts/tested-versions.txt"
"""The library versions the build installs (pip constraints): frozen into the app, so part of its hash."""
FROZEN_PATHS = ("packaging", "core", "gui", "resources", "main.py", "pyproject.toml", TESTED_VERSIONS)


def frozen_files(root: Path = ROOT) -> list[str]:
    """Tracked files the bundle is made from (git's list: build outputs and caches are never in it)."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", *FROZEN_PATHS], capture_output=True,
                            check=True).stdout.decode("utf-8").split("\0")
    return sorted(name for name in listed if name and name != STAMP_NAME)


def tree_digest(root: Path = ROOT) -> str:
    """One hash of the frozen files' names and contents as they are on disk now (uncommitted edits count)."""
    h = hashlib.sha256()
    for name in frozen_files(root):
        path = root / name
        h.update(name.encode("utf-8") + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"<deleted>")
        h.update(b"\0")
    return h.hexdigest()


def read_stamp() -> dict:
    try:
        return json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_stamp(digest: str, report: dict, total_seconds: float | None) -> None:
    STAMP.write_text(json.dumps({
        "digest": digest,
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "build_seconds": report.get("build_seconds"),
        "self_test_seconds": report.get("self_test_seconds"),
        "bundle_bytes": report.get("bundle_bytes"),
        "total_seconds": None if total_seconds is None else round(total_seconds, 1),
    }, indent=2) + "\n", encoding="utf-8")


def ensure_pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-c", str(ROOT / TESTED_VERSIONS), "pyinstaller>=6.0"], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="build and self-test even when the stamp matches")
    parser.add_argument("--record", action="store_true",
                        help="write the stamp from dist/build-report.json (packaging/build.py just passed) without building")
    args = parser.parse_args()
    digest = tree_digest()
    if args.record:
        write_stamp(digest, json.loads((ROOT / "dist" / "build-report.json").read_text(encoding="utf-8")), None)
        print(f"bundle: stamp written for this tree to {STAMP_NAME}")
        return 0
    stamp = read_stamp()
    if stamp.get("digest") == digest and not args.force:
        print(f"bundle: unchanged since its last passing self-test ({stamp.get('date')}): not rebuilt")
        return 0
    print("bundle: packaging/ or the code it freezes changed since the last passing self-test: building it")
    ensure_pyinstaller()
    started = time.perf_counter()
    done = subprocess.run(["nice", "-n", "19", sys.executable, str(HERE / "build.py"), "--no-installers"], cwd=ROOT)
    if done.returncode != 0:
        print(f"bundle: build or self-test FAILED (exit {done.returncode})", file=sys.stderr)
        if not STAMP.is_file():  # no build of this spec has passed yet: see the module docstring
            print(f"bundle: no passing self-test is recorded yet ({STAMP_NAME} is absent), so this does not fail CI "
                  "until one is: build by hand, then `python3 packaging/ci_bundle.py --record`", file=sys.stderr)
            return 0
        return 1
    report = json.loads((ROOT / "dist" / "build-report.json").read_text(encoding="utf-8"))
    write_stamp(digest, report, time.perf_counter() - started)
    print(f"bundle: built and self-tested in {time.perf_counter() - started:.0f} s; stamp written to {STAMP.name}")
    if os.environ.get("CI"):
        import shutil

        shutil.rmtree(ROOT / "dist", ignore_errors=True)  # 1 GB that a CI clone does not keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
