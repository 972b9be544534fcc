"""Packaging (issue #18): the pre-Qt library check, the installers' layout, icons, slimming, the CI workflow.

The check is tested on a real copy of Qt's X11 plugin whose needed library names were changed to ones
no system has: the same file the app checks, with `ldd` reading it as the loader would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))

from core.platform_check import (  # noqa: E402
    MissingLibraries, check_qt_platform, dialog_text, package_manager, qt_platform_plugin, unresolved_libraries, wants_x11)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's X11 plugin and ldd: Linux only")
RENAMED = {b"libxcb-cursor.so.0": b"libxcb-cursor.so.9", b"libxcb-icccm.so.4": b"libxcb-icccm.so.9"}


def _plugin_lacking_two_libraries(folder: Path) -> Path:
    """A PySide6-shaped folder whose libqxcb.so needs libxcb-cursor.so.9 and libxcb-icccm.so.9 (absent
    everywhere); its Qt libraries are the real ones, found through the plugin's own run path."""
    real = qt_platform_plugin()
    assert real is not None, "PySide6 (a dependency) ships no X11 plugin here: the check has nothing to read"
    data = real.read_bytes()
    for old, new in RENAMED.items():
        assert data.count(old + b"\0") == 1, f"{old!r} is not a needed library of {real.name} any more"
        data = data.replace(old + b"\0", new + b"\0")
    plugin = folder / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(data)
    (folder / "PySide6" / "Qt" / "lib").symlink_to(real.parent.parent.parent / "lib")
    (folder / "PySide6" / "__init__.py").write_text("", encoding="utf-8")
    return plugin


def _os_release(folder: Path, text: str) -> Path:
    path = folder / "os-release"
    path.write_text(text, encoding="utf-8")
    return path


@linux_only
def test_a_plugin_whose_libraries_are_missing_is_named_with_the_command_for_each_distribution(tmp_path: Path) -> None:
    plugin = _plugin_lacking_two_libraries(tmp_path)
    already_missing = unresolved_libraries(qt_platform_plugin())  # a bare machine may lack some for real
    assert already_missing is not None
    env = {"PATH": os.environ["PATH"]}
    commands = {
        'ID=debian\n': "sudo apt-get install libxcb-cursor0 libxcb-icccm4",
        'ID=linuxmint\nID_LIKE="ubuntu debian"\n': "sudo apt-get install libxcb-cursor0 libxcb-icccm4",
        'ID="rocky"\nID_LIKE="rhel centos fedora"\n': "sudo dnf install xcb-util-cursor xcb-util-wm",
        'ID=endeavouros\nID_LIKE=arch\n': "sudo pacman -S xcb-util-cursor xcb-util-wm",
    }
    for n, (release, command) in enumerate(commands.items()):
        missing = check_qt_platform(plugin, env, _os_release(tmp_path, release))
        assert missing is not None
        assert set(missing.libraries) == {"libxcb-cursor.so.9", "libxcb-icccm.so.9", *already_missing}
        text = missing.explain()
        assert command in text, text
        assert "libxcb-cursor.so.9, libxcb-icccm.so.9" in text
    unknown = check_qt_platform(plugin, env, _os_release(tmp_path, "ID=plan9\n"))
    assert unknown is not None and unknown.manager is None
    text = unknown.explain()  # no guess at the family: every family's line, the reader picks theirs
    for command in set(commands.values()):
        assert command in text


def test_the_dialog_wraps_sentences_to_fit_a_screen_and_keeps_each_command_on_one_line() -> None:
    """xmessage never wraps: an unwrapped sentence made the dialog wider than the screen, its edges cut off."""
    libraries = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-render-util.so.0")
    for manager in (None, "apt", "dnf"):
        text = MissingLibraries(Path("libqxcb.so"), libraries, manager).explain()
        shown = dialog_text(text)
        assert shown.split() == text.split()  # every word, in order
        commands = [line for line in text.splitlines() if line.startswith("    ")]
        assert commands and all(line in shown.splitlines() for line in commands)  # typed as shown: not broken
        assert max(len(line) for line in shown.splitlines() if line not in commands) <= 72, shown


@linux_only
def test_the_real_plugin_is_reported_exactly_as_ldd_sees_it() -> None:
    plugin = qt_platform_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    found = check_qt_platform(plugin)
    missing = unresolved_libraries(plugin)
    assert (found is None) == (not missing)



@pytest.mark.parametrize("environ, x11", [
    ({}, True), ({"QT_QPA_PLATFORM": "xcb"}, True), ({"QT_QPA_PLATFORM": "xcb:display=:1"}, True),
    ({"QT_QPA_PLATFORM": "offscreen"}, False), ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
    ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, False), ({"XDG_SESSION_TYPE": "wayland"}, True),
])
@linux_only
def test_the_check_runs_only_when_qt_will_load_its_x11_plugin(tmp_path: Path, environ: dict, x11: bool) -> None:
    """Tests run offscreen and a Wayland session loads Qt's Wayland plugin: neither may be stopped by X11's
    libraries (the main.py test shows a default environment is)."""
    assert wants_x11(environ) is x11


@linux_only
def test_main_says_what_to_install_instead_of_starting_qt(tmp_path: Path) -> None:
    """`python3 main.py` on a system lacking the plugin's libraries: the message and exit 2, before Qt (whose
    own abort says only "no Qt platform plugin could be initialized")."""
    _plugin_lacking_two_libraries(tmp_path)  # tmp_path/PySide6 shadows the real package for the check only
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    done = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "TuneDesk cannot open its window yet" in done.stderr
    assert "libxcb-cursor.so.9" in done.stderr and "libxcb-icccm.so.9" in done.stderr
    manager = package_manager()
    if manager is not None:
        assert MissingLibraries(Path("x"), ("libxcb-cursor.so.9",), manager).packages()[0] in done.stderr
    assert "Traceback" not in done.stderr


def test_self_test_names_the_step_that_failed(tmp_path: Path, demo_model_dir: Path) -> None:
    """A document with no text: the model is found and answers, then the third step fails and says so."""
    from core.selftest import self_test

    empty = tmp_path / "empty.md"
    empty.write_text("   \n", encoding="utf-8")
    checks = self_test(tmp_path, document=empty)
    assert [c.ok for c in checks] == [True, True, False]
    assert "paris" in checks[1].detail.lower()
    assert checks[2].name == "read empty.md and train 2 steps"
    assert "None of the documents gave any usable text" in checks[2].detail and "empty.md" in checks[2].detail
    assert not (tmp_path / "self-test-run" / "adapter").exists()


def _fake_app(folder: Path) -> Path:
    app = folder / "TuneDesk"
    (app / "_internal").mkdir(parents=True)
    program = app / "TuneDesk"
    program.write_text("#!/bin/sh\necho TuneDesk \"$@\"\n", encoding="utf-8")
    program.chmod(0o755)
    (app / "_internal" / "data.bin").write_bytes(b"x" * 4096)
    return app


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("dpkg-deb"),
                    reason="dpkg-deb: Debian-family Linux only")
def test_deb_installs_under_opt_with_a_command_a_menu_entry_and_the_window_libraries(tmp_path: Path) -> None:
    import linux

    deb = linux.build_deb(_fake_app(tmp_path), tmp_path, "1.2.3", "amd64")
    assert deb.name == "tunedesk_1.2.3_amd64.deb"
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version", "Depends"], capture_output=True,
                          text=True, check=True).stdout
    assert "Package: tunedesk" in info and "Version: 1.2.3" in info
    for library in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"):
        assert library in info
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./opt/tunedesk/TuneDesk" in contents and "./opt/tunedesk/_internal/data.bin" in contents
    assert "./usr/bin/tunedesk -> /opt/tunedesk/TuneDesk" in contents
    assert "./usr/share/icons/hicolor/256x256/apps/tunedesk.png" in contents
    unpacked = tmp_path / "unpacked"
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(unpacked)], check=True)
    entry = (unpacked / "usr/share/applications/tunedesk.desktop").read_text(encoding="utf-8")
    assert "Exec=/opt/tunedesk/TuneDesk\n" in entry and "Icon=tunedesk\n" in entry
    assert os.access(unpacked / "opt/tunedesk/TuneDesk", os.X_OK)


@linux_only
def test_tarball_carries_the_menu_entry_icon_and_a_script_that_adds_it(tmp_path: Path) -> None:
    import linux

    archive = linux.build_tarball(_fake_app(tmp_path), tmp_path, "1.2.3", "x86_64")
    assert archive.name == "TuneDesk-1.2.3-linux-x86_64.tar.gz"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path / "unpacked", filter="tar")
    top = "TuneDesk-1.2.3-linux-x86_64"
    assert {f"{top}/TuneDesk", f"{top}/tunedesk.desktop", f"{top}/tunedesk.png", f"{top}/add-to-menu.sh"} <= names
    folder = tmp_path / "unpacked" / top
    data_home = tmp_path / "data-home"
    done = subprocess.run(["sh", str(folder / "add-to-menu.sh")], env={**os.environ, "XDG_DATA_HOME": str(data_home)},
                          capture_output=True, text=True, check=True)
    entry = (data_home / "applications" / "tunedesk.desktop").read_text(encoding="utf-8")
    assert f'Exec="{folder}/TuneDesk"' in entry and f"Icon={folder}/tunedesk.png" in entry
    assert str(folder / "TuneDesk") in done.stdout


def test_slim_drops_tests_and_headers_and_links_identical_libraries(tmp_path: Path) -> None:
    from slim import slim

    app = tmp_path / "app"
    (app / "pkg" / "tests").mkdir(parents=True)
    (app / "pkg" / "tests" / "data.json").write_text("{}", encoding="utf-8")
    (app / "torch" / "include").mkdir(parents=True)
    (app / "torch" / "include" / "api.h").write_text("int x;", encoding="utf-8")
    library = os.urandom(200_000)
    for name in ("libfoo.so", "libfoo.so.1", "libfoo.so.1.2"):
        (app / "pkg" / name).write_bytes(library)
    (app / "pkg" / "libbar.so.1").write_bytes(os.urandom(200_000))  # same size, other bytes: kept
    report = slim(app)
    assert not (app / "pkg" / "tests").exists() and not (app / "torch" / "include" / "api.h").exists()
    assert report.removed_files == 2
    if sys.platform != "win32":
        assert report.linked_duplicates == 2
        assert [p.name for p in (app / "pkg").iterdir() if p.is_symlink()] and not (app / "pkg" / "libbar.so.1").is_symlink()
        assert report.after_bytes == report.before_bytes - 2 * len(library) - len("{}") - len("int x;")
    for name in ("libfoo.so", "libfoo.so.1", "libfoo.so.1.2"):
        assert (app / "pkg" / name).read_bytes() == library


def _real_libraries() -> tuple[Path, Path] | None:
    """This Python's shared libpython and numpy's vendored OpenBLAS, or None where either is missing."""
    import sysconfig

    import numpy

    libpython = Path(sysconfig.get_config_var("LIBDIR") or "") / (sysconfig.get_config_var("INSTSONAME") or "-")
    openblas = next((Path(numpy.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas*.so"), None)
    return (libpython, openblas) if libpython.is_file() and openblas is not None else None


@linux_only
@pytest.mark.skipif(shutil.which("strip") is None,
                    reason="binutils' strip is not installed: the build skips stripping too")
@pytest.mark.skipif(_real_libraries() is None, reason="this Python has no shared libpython or numpy no vendored OpenBLAS")
def test_slim_strips_symbol_tables_but_never_a_library_it_would_break(tmp_path: Path) -> None:
    """Two real libraries of this environment: libpython (unstripped, loads after stripping) and numpy's
    OpenBLAS, which auditwheel patched and which `strip` turns into a file the loader refuses: it must be left
    exactly as it was. Each copy is then loaded in a fresh process, as the frozen app would load it."""

    from slim import slim

    libpython, openblas = _real_libraries()
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy2(libpython, app / libpython.name)
    shutil.copytree(openblas.parent, app / "numpy.libs")  # with the libgfortran it loads from beside it
    python_bytes, blas_bytes = libpython.stat().st_size, openblas.read_bytes()

    report = slim(app)
    stripped = (app / libpython.name).stat().st_size
    assert stripped < python_bytes and report.stripped_bytes >= python_bytes - stripped
    assert (app / "numpy.libs" / openblas.name).read_bytes() == blas_bytes
    assert f"numpy.libs/{openblas.name}" in report.kept_symbols
    assert not list(app.rglob(".stripped-*"))
    for library in (app / libpython.name, app / "numpy.libs" / openblas.name):
        loaded = subprocess.run([sys.executable, "-c", f"import ctypes; ctypes.CDLL({str(library)!r})"],
                                capture_output=True, text=True)
        assert loaded.returncode == 0, loaded.stderr


def test_icons_are_this_svg_at_every_size_each_os_asks_for(tmp_path: Path) -> None:
    """The committed icons are what packaging/make_icons.py draws from resources/icons/app.svg now (a changed SVG
    without new icons fails here), and the .ico and .icns hold every size their OS looks for."""
    from PIL import Image

    import make_icons

    fresh = make_icons.render_pngs(tmp_path)
    for size, path in fresh.items():
        committed = Image.open(make_icons.OUT / path.name).convert("RGBA")
        assert committed.size == (size, size)
        assert committed.tobytes() == Image.open(path).convert("RGBA").tobytes(), path.name
    ico = Image.open(make_icons.OUT / "app.ico")
    assert {(s, s) for s in (16, 32, 48, 256)} <= set(ico.info["sizes"])
    icns = Image.open(make_icons.OUT / "app.icns")
    assert {(16, 16, 2), (128, 128, 1), (256, 256, 2), (512, 512, 2)} <= set(icns.info["sizes"])


def test_installers_workflow_builds_self_tests_and_uploads_on_all_three_systems() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "installers.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert "packaging/**" in triggers["pull_request"]["paths"] and "workflow_dispatch" in triggers
    job = workflow["jobs"]["build"]
    systems = job["strategy"]["matrix"]["os"]
    assert [s.split("-")[0] for s in systems] == ["ubuntu", "windows", "macos"]
    assert job["runs-on"] == "${{ matrix.os }}"
    steps = job["steps"]
    for step in steps:
        assert set(step) <= {"name", "if", "run", "uses", "with", "shell", "env"}, step
        if "uses" in step:
            assert step["uses"].split("@")[1].startswith("v"), step["uses"]  # pinned to a major version
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "python scripts/install.py" in runs and "python packaging/build.py --require-installers" in runs
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs  # CPU-only torch on Linux and Windows
    deb_step = next(step for step in steps if "dpkg" in step.get("run", "") or ".deb" in step.get("run", ""))
    assert deb_step["if"] == "runner.os == 'Linux'" and "tunedesk doctor" in deb_step["run"]
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    for pattern in ("dist/*.tar.gz", "dist/*.deb", "dist/*-setup.exe", "dist/*.dmg"):
        assert pattern in upload["with"]["path"]
    assert upload["with"]["if-no-files-found"] == "error"
    build_order = [i for i, step in enumerate(steps) if "packaging/build.py" in step.get("run", "")]
    install_order = [i for i, step in enumerate(steps) if "scripts/install.py" in step.get("run", "")]
    assert install_order and build_order and install_order[0] < build_order[0]


def test_inno_setup_script_installs_per_user_with_shortcuts_and_an_uninstaller() -> None:
    import configparser

    text = (ROOT / "packaging" / "windows" / "tunedesk.iss").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith((";", "#", " "))]
    sections: dict[str, list[str]] = {}
    current = ""
    for line in lines:
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif line.strip():
            sections.setdefault(current, []).append(line)
    setup = configparser.ConfigParser(interpolation=None)
    setup.optionxform = str  # type: ignore[assignment]
    setup.read_string("[Setup]\n" + "\n".join(sections["Setup"]))
    s = setup["Setup"]
    assert s["PrivilegesRequired"] == "lowest" and "PrivilegesRequiredOverridesAllowed" not in s
    assert s["DefaultDirName"] == "{autopf}\\TuneDesk"  # %LOCALAPPDATA%\Programs when not an administrator
    assert (ROOT / "packaging" / "windows" / s["SetupIconFile"].replace("\\", "/")).resolve() == ROOT / "resources/icons/app/app.ico"
    assert s.get("Uninstallable", "yes") == "yes" and s["UninstallDisplayIcon"] == "{app}\\TuneDesk.exe"
    icons = "\n".join(sections["Icons"])
    assert "{autoprograms}\\TuneDesk" in icons and "{autodesktop}\\TuneDesk" in icons
    assert any("recursesubdirs" in line for line in sections["Files"])


def test_ci_rebuilds_the_bundle_when_a_frozen_file_changes_and_only_then(tmp_path: Path) -> None:
    """packaging/ci_bundle.py's hash: an edit under core/ or packaging/ changes it (CI builds and self-tests);
    an edit to tests/ or to the stamp itself does not (CI skips the 15-minute build)."""
    import ci_bundle

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    for name, text in {"core/a.py": "x = 1\n", "packaging/build.py": "", "tests/test_a.py": "",
                       "main.py": "", "packaging/last_selftest.json": "{}"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    git("init", "-q")
    git("add", ".")
    first = ci_bundle.tree_digest(tmp_path)
    assert "core/a.py" in ci_bundle.frozen_files(tmp_path) and "tests/test_a.py" not in ci_bundle.frozen_files(tmp_path)
    (tmp_path / "tests/test_a.py").write_text("x = 3\n", encoding="utf-8")  # any edit under tests/
    (tmp_path / "packaging/last_selftest.json").write_text('{"digest": "x"}', encoding="utf-8")
    assert ci_bundle.tree_digest(tmp_path) == first
    (tmp_path / "core/a.py").write_text("x = 2\n", encoding="utf-8")
    assert ci_bundle.tree_digest(tmp_path) != first
