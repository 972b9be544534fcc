"""Before Qt starts on Linux: does its window plugin have every system library it needs?

Qt ≥ 6.5's X11 plugin (libqxcb.so) links against libraries a minimal Linux lacks
(libxcb-cursor0, libxcb-icccm4, …). Without them Qt aborts with "no Qt platform
plugin could be initialized", which tells a non-engineer nothing. So main.py and
scripts/install.py ask `ldd` first, which lists every library the plugin needs
(following its run path and LD_LIBRARY_PATH, as the loader will) and marks the
absent ones "not found", and print the one install command for this
distribution. Qt itself is never imported here (core stays Qt-free): the plugin
is a file, found beside the PySide6 package without running it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PLUGIN_RELATIVE = Path("Qt") / "plugins" / "platforms" / "libqxcb.so"
"""Where PySide6 keeps the X11 plugin, inside its package folder (a checkout and a PyInstaller bundle alike)."""

MANAGERS: dict[str, str] = {
    "apt": "sudo apt-get install",
    "dnf": "sudo dnf install",
    "pacman": "sudo pacman -S",
    "zypper": "sudo zypper install",
}
"""The install command of each package manager we can name packages for."""

# Library name without its version (libxcb-cursor.so.0 → libxcb-cursor) → package on apt, dnf, pacman, zypper.
# Every library libqxcb.so and libQt6XcbQpa.so.6 link against that a minimal system may lack.
PACKAGES: dict[str, tuple[str, str, str, str]] = {
    "libxcb-cursor": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor", "libxcb-cursor0"),
    "libxcb-icccm": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm", "libxcb-icccm4"),
    "libxcb-keysyms": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms", "libxcb-keysyms1"),
    "libxcb-image": ("libxcb-image0", "xcb-util-image", "xcb-util-image", "libxcb-image0"),
    "libxcb-render-util": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil", "libxcb-render-util0"),
    "libxcb-util": ("libxcb-util1", "xcb-util", "xcb-util", "libxcb-util1"),
    "libxcb-xkb": ("libxcb-xkb1", "libxcb", "libxcb", "libxcb-xkb1"),
    "libxcb-randr": ("libxcb-randr0", "libxcb", "libxcb", "libxcb-randr0"),
    "libxcb-shape": ("libxcb-shape0", "libxcb", "libxcb", "libxcb-shape0"),
    "libxcb-shm": ("libxcb-shm0", "libxcb", "libxcb", "libxcb-shm0"),
    "libxcb-sync": ("libxcb-sync1", "libxcb", "libxcb", "libxcb-sync1"),
    "libxcb-xfixes": ("libxcb-xfixes0", "libxcb", "libxcb", "libxcb-xfixes0"),
    "libxcb-render": ("libxcb-render0", "libxcb", "libxcb", "libxcb-render0"),
    "libxcb-xinput": ("libxcb-xinput0", "libxcb", "libxcb", "libxcb-xinput0"),
    "libxcb-glx": ("libxcb-glx0", "libxcb", "libxcb", "libxcb-glx0"),
    "libxcb": ("libxcb1", "libxcb", "libxcb", "libxcb1"),
    "libxkbcommon-x11": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11", "libxkbcommon-x11-0"),
    "libxkbcommon": ("libxkbcommon0", "libxkbcommon", "libxkbcommon", "libxkbcommon0"),
    "libX11-xcb": ("libx11-xcb1", "libX11-xcb", "libx11", "libX11-xcb1"),
    "libX11": ("libx11-6", "libX11", "libx11", "libX11-6"),
    "libGL": ("libgl1", "libglvnd-glx", "libglvnd", "libGL1"),
    "libEGL": ("libegl1", "libglvnd-egl", "libglvnd", "libEGL1"),
    "libOpenGL": ("libopengl0", "libglvnd-opengl", "libglvnd", "libOpenGL0"),
    "libfontconfig": ("libfontconfig1", "fontconfig", "fontconfig", "libfontconfig1"),
    "libfreetype": ("libfreetype6", "freetype", "freetype2", "libfreetype6"),
    "libdbus-1": ("libdbus-1-3", "dbus-libs", "dbus", "libdbus-1-3"),
    "libglib-2.0": ("libglib2.0-0", "glib2", "glib2", "libglib-2_0-0"),
    "libgthread-2.0": ("libglib2.0-0", "glib2", "glib2", "libgthread-2_0-0"),
}
_COLUMN = {"apt": 0, "dnf": 1, "pacman": 2, "zypper": 3}

# /etc/os-release ID or ID_LIKE word → package manager.
_DISTROS = {
    "debian": "apt", "ubuntu": "apt", "linuxmint": "apt", "pop": "apt", "raspbian": "apt", "elementary": "apt",
    "fedora": "dnf", "rhel": "dnf", "centos": "dnf", "rocky": "dnf", "almalinux": "dnf",
    "arch": "pacman", "manjaro": "pacman", "endeavouros": "pacman",
    "opensuse": "zypper", "suse": "zypper", "sles": "zypper", "opensuse-leap": "zypper", "opensuse-tumbleweed": "zypper",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


@dataclass(frozen=True)
class MissingLibraries:
    """What the window plugin lacks on this system, and how to get it."""

    plugin: Path
    """The Qt platform plugin that was checked."""

    libraries: tuple[str, ...]
    """The shared libraries `ldd` could not find (e.g. 'libxcb-cursor.so.0'), in its order."""

    manager: str | None
    """apt, dnf, pacman or zypper for this distribution; None when we cannot tell."""

    def packages(self) -> list[str]:
        """The packages to install for `manager`, each once; empty when the manager is unknown."""
        if self.manager is None:
            return []
        out: list[str] = []
        for library in self.libraries:
            row = PACKAGES.get(library_stem(library))
            if row and row[_COLUMN[self.manager]] not in out:
                out.append(row[_COLUMN[self.manager]])
        return out

    def unknown(self) -> list[str]:
        """Missing libraries that our table cannot name a package for."""
        return [lib for lib in self.libraries if library_stem(lib) not in PACKAGES]

    def explain(self) -> str:
        """The message for a person who double-clicked the app: what is wrong and the one command that fixes it."""
        count = len(self.libraries)
        lines = [
            "TuneDesk cannot open its window yet: this computer is missing "
            + ("a small system library" if count == 1 else f"{count} small system libraries")
            + " that the window toolkit (Qt) needs to draw on an X11 screen:",
            "    " + ", ".join(self.libraries),
            "",
        ]
        packages = self.packages()
        if packages:
            lines += [f"To add {'it' if count == 1 else 'them'}, open a terminal, run this command and type your password when asked:",
                      f"    {MANAGERS[self.manager or 'apt']} {' '.join(packages)}"]
            unknown = self.unknown()
            if unknown:
                lines.append("Also install the packages that provide: " + ", ".join(unknown)
                             + " (your package manager's search finds them by these names).")
        else:  # a distribution we do not know: each family's command, the reader picks theirs
            lines.append(f"To add {'it' if count == 1 else 'them'}, open a terminal and run the line for your system:")
            for manager, family in (("apt", "Debian, Ubuntu, Mint"), ("dnf", "Fedora, RHEL"), ("pacman", "Arch"),
                                    ("zypper", "openSUSE")):
                names = MissingLibraries(self.plugin, self.libraries, manager).packages()
                if names:
                    lines.append(f"    {family}:  {MANAGERS[manager]} {' '.join(names)}")
        lines += ["", "Then start TuneDesk again. (The tunedesk command line works without them.)"]
        return "\n".join(lines)


def library_stem(soname: str) -> str:
    """'libxcb-cursor.so.0' → 'libxcb-cursor': the name without its version, which packages keep across releases."""
    return soname.split(".so", 1)[0]


def qt_platform_plugin() -> Path | None:
    """PySide6's X11 plugin file, in a checkout or a frozen bundle; None when PySide6 or the plugin is absent."""
    spec = importlib.util.find_spec("PySide6")
    folders = list(spec.submodule_search_locations or []) if spec else []
    base = getattr(sys, "_MEIPASS", None)
    if base:
        folders.append(str(Path(base) / "PySide6"))
    for folder in folders:
        candidate = Path(folder) / PLUGIN_RELATIVE
        if candidate.is_file():
            return candidate
    return None


def unresolved_libraries(binary: Path, env: Mapping[str, str] | None = None) -> list[str] | None:
    """The libraries `ldd` lists as "not found" for `binary` (its whole dependency tree); None when ldd is missing
    or cannot read the file, since then we cannot tell and must not stop the app on a guess."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ if env is None else env))
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 and "=>" not in done.stdout:
        return None
    missing: list[str] = []
    for line in done.stdout.splitlines():
        match = _NOT_FOUND.match(line)
        if match and match.group(1) not in missing:
            missing.append(match.group(1))
    return missing


def package_manager(os_release: Path = Path("/etc/os-release")) -> str | None:
    """apt, dnf, pacman or zypper, from the distribution's ID and ID_LIKE; None when unknown."""
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip('"').lower()
    for word in [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]:
        if word in _DISTROS:
            return _DISTROS[word]
    return None


def wants_x11(environ: Mapping[str, str]) -> bool:
    """Whether Qt will start its X11 plugin: on Linux, unless QT_QPA_PLATFORM names another one
    (offscreen for tests, wayland) first."""
    if not sys.platform.startswith("linux"):
        return False
    choice = environ.get("QT_QPA_PLATFORM", "").strip()
    if not choice:
        return not (environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"))
    return choice.split(";")[0].split(":")[0] == "xcb"


def check_qt_platform(plugin: Path | None = None, environ: Mapping[str, str] | None = None,
                      os_release: Path = Path("/etc/os-release")) -> MissingLibraries | None:
    """What the X11 plugin lacks, or None when nothing is missing, Qt will not use X11, or we cannot tell."""
    environ = os.environ if environ is None else environ
    if plugin is None:
        if not wants_x11(environ):
            return None
        plugin = qt_platform_plugin()
        if plugin is None:
            return None
    missing = unresolved_libraries(plugin, environ)
    if not missing:
        return None
    return MissingLibraries(plugin=plugin, libraries=tuple(missing), manager=package_manager(os_release))


def dialog_text(text: str, width: int = 72) -> str:
    """`text` with its sentences wrapped at `width` columns; indented lines (the commands to type) stay whole.

    xmessage never wraps, and zenity is told not to (it would break a command mid-word), so an unwrapped
    sentence made a dialog wider than the screen, its start and end cut off."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend([line] if not line or line[:1].isspace() else textwrap.wrap(line, width, break_long_words=False))
    return "\n".join(out)


def show_without_qt(text: str) -> None:
    """Print `text`; and when no terminal will show it (the app was started from a menu or a file manager),
    also in a dialog from a desktop tool that needs no Qt (zenity, kdialog or xmessage, whichever exists)."""
    print(text, file=sys.stderr)
    if sys.stderr is not None and sys.stderr.isatty() or not os.environ.get("DISPLAY"):
        return
    text = dialog_text(text)
    for argv in (["zenity", "--error", "--no-wrap", "--title=TuneDesk", f"--text={text}"],
                 ["kdialog", "--title", "TuneDesk", "--error", text],
                 ["xmessage", "-center", text]):
        if shutil.which(argv[0]):
            try:
                subprocess.run(argv, timeout=600, check=False)
            except (OSError, subprocess.TimeoutExpired):
                continue
            return
