"""Every OS's app icon from the one source image, resources/icons/app.svg.

    python packaging/make_icons.py

Writes resources/icons/app/: PNGs at the sizes Linux menus and macOS ask for
(16 … 1024), app.ico (Windows: 16 … 256 in one file) and app.icns (macOS). The
SVG is drawn by Qt's own renderer (already a dependency; the app draws the same
file at run time) and Pillow writes the two container formats, so no platform
tool (iconutil, ImageMagick) is needed and a build on any OS gets the same icons.
The outputs are committed (a build only reads them): run this again after
changing the SVG.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "app.svg"
OUT = ROOT / "resources" / "icons" / "app"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # Windows Explorer picks from these; 256 is the largest .ico holds
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)  # Pillow writes the @1x and @2x slots from these


def render_pngs(out: Path = OUT) -> dict[int, Path]:
    """The SVG at each size, antialiased, on a transparent background, as out/app-<size>.png."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QImage painting needs one
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE} is not a valid SVG")
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for size in PNG_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"app-{size}.png"
        if not image.save(str(path)):
            raise SystemExit(f"could not write {path}")
        written[size] = path
    return written


def write_containers(pngs: dict[int, Path], out: Path = OUT) -> None:
    from PIL import Image

    largest = Image.open(pngs[max(pngs)]).convert("RGBA")
    largest.save(out / "app.ico", format="ICO", sizes=[(s, s) for s in ICO_SIZES])
    largest.save(out / "app.icns", format="ICNS", append_images=[Image.open(pngs[s]).convert("RGBA") for s in ICNS_SIZES])


def outputs() -> list[Path]:
    return [OUT / f"app-{s}.png" for s in PNG_SIZES] + [OUT / "app.ico", OUT / "app.icns"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    write_containers(render_pngs())
    for path in outputs():
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
