"""After PyInstaller: drop what the bundle never loads, strip symbol tables, store each duplicate library once.

The spec already keeps unused modules and GPU-only libraries out (packaging/tunedesk.spec);
what is left to do on the folder itself: test suites and C headers that data-file
collection copies in, and duplicates. Wheels cannot hold symlinks, so a library that
its package ships as libfoo.so, libfoo.so.1 and libfoo.so.1.2 arrives three times,
and PyInstaller may place a library both at the top and beside its package. On Linux
and macOS each later copy becomes a relative symlink to the first (tar, .deb and .dmg
keep symlinks); Windows has no symlinks an installer can rely on, so there only the
removals apply.

On Linux, shared libraries also lose the symbol tables that only debuggers and static
linkers read (`strip --strip-unneeded` keeps .dynsym, which the loader uses): torch's
libtorch_cpu.so carries 89 MB of them, the bundle ~140 MB in all. A library that
auditwheel rewrote with patchelf can come out of `strip` with load segments the loader
refuses ("ELF load command address/offset not page-aligned": numpy's OpenBLAS did), so
each stripped copy's program headers are checked the way the loader checks them, and a
library that fails keeps its symbols. The build's self-test then runs the stripped app.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
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
    stripped_bytes: int = 0
    kept_symbols: tuple[str, ...] = ()
    """Libraries left unstripped because their stripped copy would not load."""

    def describe(self) -> str:
        kept = f" ({len(self.kept_symbols)} kept theirs: stripping would break them)" if self.kept_symbols else ""
        return (f"slimmed {self.before_bytes / 1e9:.2f} GB → {self.after_bytes / 1e9:.2f} GB: "
                f"{self.removed_files} files removed (tests, headers), {self.stripped_bytes / 1e6:.0f} MB of symbol "
                f"tables stripped{kept}, {self.linked_duplicates} duplicate libraries linked")


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


def loadable_segments(path: Path, page: int = 4096) -> bool | None:
    """Whether the loader will map this 64-bit little-endian ELF file (glibc's check: each PT_LOAD's address and
    file offset agree modulo the page size and the segment's alignment); None for any other file."""
    with path.open("rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return None
        (phoff,) = struct.unpack_from("<Q", head, 0x20)
        entry_size, count = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(entry_size * count)
    for i in range(count):
        kind, _, offset, vaddr, _, _, _, align = struct.unpack_from("<IIQQQQQQ", table, i * entry_size)
        if kind == 1 and ((vaddr - offset) % page or (align and (vaddr - offset) % align)):
            return False
    return True


def strip_symbols(root: Path) -> tuple[int, list[str]]:
    """Linux: strip each ELF shared library's symbol tables, keeping a library whose stripped copy the loader
    would refuse. Returns (bytes saved, the libraries kept whole)."""
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return 0, []
    saved, kept = 0, []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or ".so" not in path.name or not loadable_segments(path):
            continue
        stripped = path.with_name(f".stripped-{path.name}")
        done = subprocess.run([strip, "--strip-unneeded", "--preserve-dates", "-o", str(stripped), str(path)],
                              capture_output=True)
        if done.returncode == 0 and stripped.stat().st_size < path.stat().st_size:
            if loadable_segments(stripped):
                saved += path.stat().st_size - stripped.stat().st_size
                shutil.copymode(path, stripped)
                os.replace(stripped, path)
                continue
            kept.append(str(path.relative_to(root)))
        stripped.unlink(missing_ok=True)
    return saved, kept


def slim(app: Path) -> SlimReport:
    before = folder_bytes(app)
    removed = remove_unused(app)
    saved, kept = strip_symbols(app)  # before linking: identical copies stay identical once stripped
    linked = link_duplicates(app)
    return SlimReport(before, folder_bytes(app), removed, linked, saved, tuple(kept))


if __name__ == "__main__":
    print(slim(Path(sys.argv[1])).describe())
