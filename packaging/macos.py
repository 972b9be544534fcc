"""macOS: TuneDesk.app (made by the spec's BUNDLE step) in a compressed disk image.

hdiutil ships with every macOS, so no create-dmg or node tool is needed. The image
holds the app and a link to /Applications, the usual drag-to-install window. The app
is not signed or notarised: the README says how to open it the first time
(right-click → Open, or System Settings → Privacy & Security → Open Anyway).
Untested here (built on Linux); the CI workflow builds it on a macOS runner.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def build_dmg(app: Path, out_dir: Path, version: str) -> Path:
    """dist/TuneDesk-<version>-macos.dmg: UDZO (zlib-compressed, read-only), volume name TuneDesk."""
    stage = out_dir / ".stage-dmg"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(app, stage / app.name, symlinks=True)  # symlinks inside Frameworks stay links
    os.symlink("/Applications", stage / "Applications")
    dmg = out_dir / f"TuneDesk-{version}-macos.dmg"
    dmg.unlink(missing_ok=True)
    subprocess.run(["hdiutil", "create", "-volname", "TuneDesk", "-srcfolder", str(stage), "-ov",
                    "-format", "UDZO", str(dmg)], check=True)
    shutil.rmtree(stage)
    return dmg
