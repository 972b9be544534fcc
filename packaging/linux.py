"""Linux installers from the one-folder app: a .tar.gz to unpack anywhere, and a .deb.

The .deb puts the app in /opt/tunedesk, a `tunedesk` command in /usr/bin, a menu
entry and icons under /usr/share, and declares the X11 libraries Qt's window
plugin needs (the same table core/platform_check.py names them from), so apt
brings them in on a minimal system. It is built with dpkg-deb alone: no
debhelper, since there is nothing to compile. The .tar.gz carries the same
.desktop file and icon, and a script that adds the menu entry for one user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ICONS = ROOT / "resources" / "icons" / "app"
MENU_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SUMMARY = "Fine-tune a language model on your own documents, then chat with it"


def deb_depends() -> list[str]:
    """The X11 plugin's libraries, as Debian names them in core/platform_check.py (the table the app's own
    check prints from): apt then brings them in on a minimal system. glib went through Ubuntu 24.04's
    64-bit time rename (libglib2.0-0t64), hence its alternative."""
    from core.platform_check import PACKAGES

    names = list(dict.fromkeys(row[0] for row in PACKAGES.values()))
    return ["libglib2.0-0t64 | libglib2.0-0" if name == "libglib2.0-0" else name for name in names]


def desktop_entry(exec_path: str, icon: str) -> str:
    """A freedesktop menu entry. The file is named tunedesk.desktop: the app calls setDesktopFileName("tunedesk"),
    so on Wayland its window is matched to this entry's icon and name."""
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=TuneDesk",
        f"Comment={SUMMARY}",
        f"Exec={exec_path}",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Development;Education;Science;",
        "Keywords=LLM;fine-tune;LoRA;chat;documents;",
        "StartupWMClass=TuneDesk",
        "",
    ])


MENU_SCRIPT = """#!/bin/sh
# Add TuneDesk to this user's application menu (no root needed); run it again after moving this folder.
set -e
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$apps"
sed -e "s|^Exec=.*|Exec=\\"$here/TuneDesk\\"|" -e "s|^Icon=.*|Icon=$here/tunedesk.png|" \\
    "$here/tunedesk.desktop" > "$apps/tunedesk.desktop"
echo "TuneDesk is in your application menu. To start it from a terminal: $here/TuneDesk"
"""


def _copy_app(app: Path, target: Path) -> None:
    shutil.copytree(app, target, symlinks=True)


def build_tarball(app: Path, out_dir: Path, version: str, arch: str) -> Path:
    """dist/TuneDesk-<version>-linux-<arch>.tar.gz: the app folder with tunedesk.desktop, tunedesk.png and
    add-to-menu.sh beside the program."""
    name = f"TuneDesk-{version}-linux-{arch}"
    stage = out_dir / f".stage-{name}"
    shutil.rmtree(stage, ignore_errors=True)
    top = stage / name
    _copy_app(app, top)
    (top / "tunedesk.desktop").write_text(desktop_entry("TuneDesk", "tunedesk"), encoding="utf-8")
    shutil.copy2(ICONS / "app-256.png", top / "tunedesk.png")
    script = top / "add-to-menu.sh"
    script.write_text(MENU_SCRIPT, encoding="utf-8")
    script.chmod(0o755)
    archive = out_dir / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(top, arcname=name)
    shutil.rmtree(stage)
    return archive


def deb_control(version: str, arch: str, installed_kb: int) -> str:
    return "\n".join([
        "Package: tunedesk",
        f"Version: {version}",
        "Section: science",
        "Priority: optional",
        f"Architecture: {arch}",
        "Maintainer: TuneDesk developers <tunedesk@users.noreply.github.com>",
        f"Installed-Size: {installed_kb}",
        f"Depends: {', '.join(deb_depends())}",
        f"Description: {SUMMARY}",
        " TuneDesk reads your documents, fine-tunes a small language model on them with",
        " LoRA on this computer (CPU or GPU) and lets you chat with the result. A demo",
        " model and sample documents are built in, so it works without a network.",
        "",
    ])


POSTINST = """#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true; fi
"""


def build_deb(app: Path, out_dir: Path, version: str, arch: str) -> Path:
    """dist/tunedesk_<version>_<arch>.deb (Debian's file naming), gzip-compressed: xz takes minutes on a
    1 GB payload and gzip is read by every dpkg."""
    stage = out_dir / ".stage-deb"
    shutil.rmtree(stage, ignore_errors=True)
    _copy_app(app, stage / "opt" / "tunedesk")
    bin_dir = stage / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    os.symlink("/opt/tunedesk/TuneDesk", bin_dir / "tunedesk")
    apps = stage / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / "tunedesk.desktop").write_text(desktop_entry("/opt/tunedesk/TuneDesk", "tunedesk"), encoding="utf-8")
    for size in MENU_ICON_SIZES:
        folder = stage / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(ICONS / f"app-{size}.png", folder / "tunedesk.png")
    installed = sum(f.stat().st_size for f in stage.rglob("*") if f.is_file() and not f.is_symlink())
    debian = stage / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(deb_control(version, arch, installed // 1024 + 1), encoding="utf-8")
    for name in ("postinst", "postrm"):
        (debian / name).write_text(POSTINST, encoding="utf-8")
        (debian / name).chmod(0o755)
    for path in [stage, *stage.rglob("*")]:  # dpkg-deb refuses group/world-writable control files and dirs
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~0o022)
    deb = out_dir / f"tunedesk_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(stage), str(deb)], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(stage)
    return deb


def deb_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
