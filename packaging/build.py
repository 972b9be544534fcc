"""Build the one-folder app with PyInstaller, slim it, prove it by running it, then make this OS's installers.

    python packaging/build.py [--skip-build] [--skip-self-test] [--no-installers] [--require-installers]

Leaves in dist/:
  TuneDesk/TuneDesk (TuneDesk.exe on Windows; TuneDesk.app beside it on macOS)
  Linux:   TuneDesk-<version>-linux-<arch>.tar.gz and tunedesk_<version>_<arch>.deb (packaging/linux.py)
  Windows: TuneDesk-<version>-setup.exe, when Inno Setup's ISCC is installed (packaging/windows/tunedesk.iss)
  macOS:   TuneDesk-<version>-macos.dmg (packaging/macos.py)
The self-test is the built program's own `--self-test` (core/selftest.py): no display, no
network, a temporary data folder; the bundled demo model answers a general question, one
sample document is read and trained for two steps, and the run answers. A failure stops
the build with the program's output, before any installer is made; so does a window that
does not open (off-screen, it must show and close by itself). Times and sizes are
printed and written to dist/build-report.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = ROOT / "dist"
sys.path.insert(0, str(HERE))

from slim import folder_bytes, slim  # noqa: E402


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def program(dist: Path = DIST) -> Path:
    """The built executable: inside TuneDesk.app on macOS (what a user runs), else in the one folder."""
    if sys.platform == "darwin":
        return dist / "TuneDesk.app" / "Contents" / "MacOS" / "TuneDesk"
    return dist / "TuneDesk" / ("TuneDesk.exe" if sys.platform == "win32" else "TuneDesk")


def pyinstaller() -> float:
    """Run the spec into dist/ and build/ (the previous build's folders are replaced); the seconds it took."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(DIST), "--workpath", str(ROOT / "build"), str(HERE / "tunedesk.spec")], check=True)
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # 1+ GB of intermediate files nobody reads again
    return time.perf_counter() - started


def self_test(exe: Path, timeout: int = 1800) -> float:
    """The built program's --self-test, its output shown as it runs; the seconds it took. Raises on failure."""
    started = time.perf_counter()
    command = [str(exe), "--self-test"]
    if sys.platform == "win32":  # the windowed .exe has no console to print to: it writes a log instead
        log = DIST / "self-test.log"
        command += ["--log", str(log)]
    done = subprocess.run(command, timeout=timeout)
    if sys.platform == "win32" and (DIST / "self-test.log").is_file():
        print((DIST / "self-test.log").read_text(encoding="utf-8"))
    if done.returncode != 0:
        raise SystemExit(f"the built program's self-test failed (exit {done.returncode}): see its output above")
    return time.perf_counter() - started


def window_check(exe: Path, timeout: int = 180) -> float:
    """The window, off-screen: the built program opens it, lays it out and quits (TUNEDESK_QUIT_WHEN_SHOWN, the
    hook bench/startup.py times). The self-test never imports the GUI, so this is what proves its modules,
    pyqtgraph and Qt's plugins were bundled. The seconds it took; raises on failure."""
    import os
    import tempfile

    started = time.perf_counter()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TUNEDESK_QUIT_WHEN_SHOWN="1",
               TUNEDESK_HOME=tempfile.mkdtemp(prefix="tunedesk-window-"))
    done = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=timeout)
    shown = sys.platform == "win32" or "TUNEDESK_WINDOW_SHOWN visible=True" in done.stdout  # windowed .exe: no stdout
    if done.returncode != 0 or not shown or "Traceback" in done.stderr:
        raise SystemExit(f"the built program's window did not open (exit {done.returncode}):\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def installers(app: Path, ver: str) -> list[Path]:
    if sys.platform.startswith("linux"):
        import linux

        arch = linux.deb_arch()
        return [linux.build_tarball(app, DIST, ver, {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)),
                linux.build_deb(app, DIST, ver, arch)]
    if sys.platform == "darwin":
        import macos

        return [macos.build_dmg(DIST / "TuneDesk.app", DIST, ver)]
    if sys.platform == "win32":
        iscc = shutil.which("iscc") or shutil.which("ISCC") or next(
            (str(p) for p in Path("C:/Program Files (x86)").glob("Inno Setup */ISCC.exe")), None)
        if iscc is None:
            print("Inno Setup (ISCC.exe) is not installed: no setup.exe, the folder dist/TuneDesk is still built")
            return []
        subprocess.run([iscc, f"/DAppVersion={ver}", f"/DSourceDir={app}", f"/DOutputDir={DIST}",
                        str(HERE / "windows" / "tunedesk.iss")], check=True)
        return [DIST / f"TuneDesk-{ver}-setup.exe"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-build", action="store_true", help="use the existing dist/TuneDesk")
    parser.add_argument("--skip-self-test", action="store_true", help="package without running the built program")
    parser.add_argument("--no-installers", action="store_true", help="stop after the self-test")
    parser.add_argument("--require-installers", action="store_true",
                        help="fail when this OS's installer could not be made (CI: nothing silently missing)")
    args = parser.parse_args()
    ver = version()
    app = DIST / "TuneDesk"
    report: dict[str, object] = {"version": ver, "platform": sys.platform}
    if not args.skip_build:
        report["build_seconds"] = round(pyinstaller(), 1)
        print(f"PyInstaller: {report['build_seconds']:.0f} s")
        slimmed = slim(app)
        print(slimmed.describe())
        report["bytes_before_slim"] = slimmed.before_bytes
    report["bundle_bytes"] = folder_bytes(app)
    print(f"built {program()} ({report['bundle_bytes'] / 1e9:.2f} GB on disk)")
    if not args.skip_self_test:
        report["self_test_seconds"] = round(self_test(program()), 1)
        print(f"self-test passed in {report['self_test_seconds']:.0f} s")
        report["window_seconds"] = round(window_check(program()), 1)
        print(f"window opened off-screen and closed in {report['window_seconds']:.0f} s")
    if not args.no_installers:
        started = time.perf_counter()
        made = installers(app, ver)
        report["installers_seconds"] = round(time.perf_counter() - started, 1)
        report["installers"] = {p.name: p.stat().st_size for p in made}
        if args.require_installers and not made:
            raise SystemExit(f"no installer was made on {sys.platform}")
        for path in made:
            print(f"installer: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    (DIST / "build-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
