"""After PyInstaller: drop what the bundle never loads and store each duplicate shared library once.

The spec already keeps unused modules and GPU-only libraries out (packaging/tunedesk.spec);
what is left to do on the folder itself: test suites and C headers that data-file
collection copies in, and duplicates. Wheels cannot hold symlinks, so a library that
its package ships as libfoo.so, libfoo.so.1 and libfoo.so.1.2 arrives three times,
and PyInstaller may place a library both at the top and beside its package. On Linux
and macOS each later copy becomes a relative symlink to the first (tar, .deb and .dmg
keep symlinks); Windows has no symlinks an installer can rely on, so there only the
removals apply.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

TEST_DIRS = {"tests", "test"}
"""Folder names of test suites (not "testing": torch imports torch.testing and torch._numpy.testing)."""

DROP_SUFFIXES = (".h", ".hpp", ".cuh", ".pyi", ".a", ".lib", ".cmake")


@dataclass(frozen=True)
class SlimReport:
    before_bytes: int
    after_bytes: int
    removed_files: int
    linked_duplicates: int

    def describe(self) -> str:
        return (f"slimmed {self.before_bytes / 1e9:.2f} GB → {self.after_bytes / 1e9:.2f} GB: "
                f"{self.removed_files} files removed (tests, headers), {self.linked_duplicates} duplicate libraries linked")


def folder_bytes(folder: Path) -> int:
    """Bytes on disk of the files in `folder`, each symlink counted as nothing (what an archive stores)."""
    return sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def remove_unused(root: Path) -> int:
    """Test suites (data folders only: Python code is inside the archive) and headers, stubs, static libraries."""
    removed = 0
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts)):
        if not path.exists() or path.is_symlink():
            continue
        if path.is_dir() and path.name in TEST_DIRS:
            removed += sum(1 for f in path.rglob("*") if f.is_file())
            shutil.rmtree(path)
        elif path.is_file() and path.name.endswith(DROP_SUFFIXES):
            path.unlink()
            removed += 1
    return removed


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=20)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def link_duplicates(root: Path, min_bytes: int = 64 * 1024) -> int:
    """Replace each later identical shared library with a relative symlink to the first (sorted by path)."""
    if sys.platform == "win32":
        return 0
    by_size: dict[int, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and (".so" in path.name or path.suffix == ".dylib"):
            size = path.stat().st_size
            if size >= min_bytes:
                by_size.setdefault(size, []).append(path)
    linked = 0
    for paths in by_size.values():
        if len(paths) < 2:
            continue
        first: dict[str, Path] = {}
        for path in paths:
            digest = _digest(path)
            if digest not in first:
                first[digest] = path
                continue
            target = os.path.relpath(first[digest], path.parent)
            path.unlink()
            path.symlink_to(target)
            linked += 1
    return linked


def slim(app: Path) -> SlimReport:
    before = folder_bytes(app)
    removed = remove_unused(app)
    linked = link_duplicates(app)
    return SlimReport(before, folder_bytes(app), removed, linked)


if __name__ == "__main__":
    print(slim(Path(sys.argv[1])).describe())
