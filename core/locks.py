"""One trainer per run folder: an exclusive lock held while a run is prepared or trained.

Two processes writing the same run folder (a CLI run and the app, two
terminals) would interleave checkpoints, metrics and run.json. The lock is an
operating-system lock on `RUN/.tunedesk.lock` (`flock` on POSIX, `msvcrt.locking`
on Windows) rather than an O_EXCL "lock file exists" scheme, because the OS
drops it the moment its holder dies — SIGKILL, the OOM killer, a power cut
(the file stays, the lock does not) — so there is no stale-lock guessing and
no false "busy" from a re-used pid. The holder's pid is written after byte 0
(the locked byte on Windows, where locked bytes cannot be read) so a second
process can say who holds it.

The lock is re-entrant within a process: `pipeline.train` holds it across
prepare and train, and `train_run` inside takes it again without blocking.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from core.errors import DiskError, RunError

LOCK_NAME = ".tunedesk.lock"
F = TypeVar("F", bound=Callable[..., Any])

_held: dict[str, list[int]] = {}  # resolved lock path -> [fd, depth]
_guard = threading.Lock()


class RunLocked(RunError):
    """Another process is training (or preparing) this run folder."""

    def __init__(self, root: Path, pid: int | None) -> None:
        who = f"another TuneDesk process (pid {pid})" if pid else "another TuneDesk process"
        super().__init__(f"This run is being trained by {who}: {root}",
                         "Wait for it to finish or stop it, then try again.")
        self.pid = pid


def lock_path(root: Path | str) -> Path:
    return Path(root) / LOCK_NAME


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_pid(path: Path) -> int | None:
    try:
        with open(path, "rb") as f:
            f.seek(1)
            return int(f.read(32).strip() or b"0") or None
    except (OSError, ValueError):
        return None


def _key(root: Path | str) -> str:
    return os.path.normcase(os.path.realpath(lock_path(root)))


def holder(root: Path | str) -> int | None:
    """The pid training `root` now, or None when nobody holds its lock (e.g. the trainer was killed)."""
    path = lock_path(root)
    with _guard:
        if _key(root) in _held:
            return os.getpid()
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        return _read_pid(path) or -1
    finally:
        os.close(fd)


@contextlib.contextmanager
def run_lock(root: Path | str) -> Iterator[None]:
    """Hold the run folder's lock for the block, or raise `RunLocked` at once (never waits)."""
    root = Path(root)
    key = _key(root)
    with _guard:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
    if entry is None:
        entry = [_acquire(root), 1]
        with _guard:
            _held[key] = entry
    try:
        yield
    finally:
        with _guard:
            entry[1] -= 1
            done = entry[1] == 0
            if done:
                del _held[key]
        if done:
            with contextlib.suppress(OSError):
                _unlock(entry[0])
            os.close(entry[0])


def _acquire(root: Path) -> int:
    path = lock_path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DiskError(f"Cannot create the lock file in {root}: {exc.strerror or exc}",
                        "Choose a folder you can write to.") from exc
    if not _try_lock(fd):
        os.close(fd)
        raise RunLocked(root, _read_pid(path))
    try:  # the pid is informative only; a failure to write it must not stop training
        os.ftruncate(fd, 1)
        os.lseek(fd, 1, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:
        pass
    return fd


def holding_run_lock(argument: str) -> Callable[[F], F]:
    """Decorate a function so it runs holding the lock of the run folder passed as `argument`."""

    def wrap(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with run_lock(signature.bind(*args, **kwargs).arguments[argument]):
                return func(*args, **kwargs)

        return locked  # type: ignore[return-value]

    return wrap
