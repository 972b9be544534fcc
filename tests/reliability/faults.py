"""Helpers that inject real faults: a real worker subprocess, real signals, real limits, real file systems.

Nothing here stands in for the code under test; it only starts it, watches
its JSON-line events and breaks its environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from conftest import SAMPLE_DOCS, quick_config  # tests/conftest.py

from core.worker import worker_command

TOTAL_STEPS = 8

# One BLAS/OpenMP thread per worker: on a shared 2-core machine two threads that
# wait for each other at every barrier are 5-10x slower than one (measured).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}


class Worker:
    """`python main.py --worker train RUN --resume`, with its events timestamped as they arrive."""

    def __init__(self, run: Path, resume: bool = True, preexec: Callable[[], None] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.run = Path(run)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(worker_command(run, resume), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **WORKER_ENV, **(env or {})}, preexec_fn=preexec)
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.stderr = b""
        self._cond = threading.Condition()
        self._eof = False
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._readers:
            t.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:  # a line torn by SIGKILL, or library chatter
                continue
            with self._cond:
                self.events.append((time.monotonic() - self.t0, event))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any] | None:
        """The first event matching `pred` (already seen or coming), or None at exit/timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for _, event in self.events:
                    if pred(event):
                        return event
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    return None
                self._cond.wait(left)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.finish(60)

    def finish(self, timeout: float) -> int:
        rc = self.proc.wait(timeout)
        for t in self._readers:
            t.join(10)
        return rc

    def types(self) -> list[str]:
        return [e["type"] for _, e in self.events]

    def of_type(self, name: str) -> list[dict[str, Any]]:
        return [e for _, e in self.events if e["type"] == name]

    def steps(self) -> list[int]:
        return [e["step"] for e in self.of_type("StepMetrics")]

    def describe(self) -> str:
        """Events, then stderr's head and tail: a crash's faulthandler stack comes first, library chatter after it."""
        text = self.stderr.decode("utf-8", "replace")
        crash = text.find("Fatal Python error")
        if crash >= 0:  # faulthandler's stack, before its long list of extension modules
            text = text[crash:]
        shown = text if len(text) <= 6000 else f"{text[:3000]}\n[... {len(text) - 6000} characters ...]\n{text[-3000:]}"
        return (f"rc: {self.proc.returncode}\n"
                f"events: {[(round(t, 2), e['type'], e.get('step', e.get('message', ''))) for t, e in self.events]}\n"
                f"stderr: {shown}")


def is_event(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    def pred(event: dict[str, Any]) -> bool:
        return event["type"] == kind and all(
            (value(event.get(k)) if callable(value) else event.get(k) == value) for k, value in fields.items())
    return pred


def data_size(pid: int) -> int:
    """A process's data size in bytes: heap and private writable mappings, stacks of the main thread aside
    (what RLIMIT_DATA limits)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmData")


# For a worker whose memory limit_memory will cap: glibc serves every block of 128 KiB or more with its own
# mmap (a fixed threshold, not the adaptive one that moves large tensors into the heap after the first step)
# and grows the heap 64 MiB at a time. The heap's slack is counted when it is taken, before the cap, so
# small blocks keep being served from it and the allocation that fails is a large one: a tensor, as on a
# full machine, where small blocks come from free lists. Without this the cap could land on a few-byte
# block inside oneDNN, whose allocator returns NULL without an error and then writes to it: a SIGSEGV in
# primitive creation (seen in 1 of 6 runs, and 6 of 8 after an unrelated change moved the timing). That
# is a oneDNN fault the app reports as a crash (test_crash.py), not the error test_oom checks. Not for the
# loading test: its margin is 64 MiB, so one heap growth alone would pass the cap and the tokenizer's Rust
# allocator would abort on a small block; there the weights' large mmap fails first without it.
MEMORY_LIMIT_ENV = {"MALLOC_MMAP_THRESHOLD_": str(128 * 2**10), "MALLOC_TOP_PAD_": str(64 * 2**20)}


def limit_memory(pid: int, extra_bytes: int) -> int:
    """Cap a running process's data (heap) at its current size + extra (prlimit RLIMIT_DATA, Linux).

    Not RLIMIT_AS: that also caps the main thread's stack, which grows on demand, so with the margin used up a
    deeper call is a SIGSEGV rather than a failed allocation — a crash no full machine causes (there the
    allocation fails, or Linux's OOM killer ends the process) and that once failed this test in CI. The data
    limit fails malloc and mmap the way a full machine does, and leaves the stack alone."""
    limit = data_size(pid) + extra_bytes
    resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
    return limit


def limit_file_size(max_bytes: int) -> Callable[[], None]:
    """A preexec_fn: files larger than max_bytes cannot be written (EFBIG, SIGXFSZ ignored)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return apply


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/.tunedesk-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True)
        return ok
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


@contextlib.contextmanager
def small_filesystem(where: Path, size_bytes: int) -> Iterator[Path]:
    """A real tmpfs of `size_bytes` mounted at `where` (root only)."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def files_state(folder: Path) -> dict[str, bytes]:
    """Every file's bytes under `folder`, to prove nothing already saved changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def python_in_subprocess(code: str, timeout: float = 300, preexec: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run `code` in a fresh interpreter that prints one JSON object on its last line."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=root,
                         env={**os.environ, **WORKER_ENV, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests'}"},
                         preexec_fn=preexec)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------- fixtures
# Imported by each test module (a second conftest.py would shadow tests/conftest.py,
# which other test modules import by name).


def tiny_config(**overrides: Any) -> Any:
    """8 optimiser steps on 64-token examples with a checkpoint after each: a step costs ~1 s on one thread."""
    values: dict[str, Any] = dict(max_steps=TOTAL_STEPS, save_every=1, eval_every=0, max_seq_len=64, batch_size=1)
    values.update(overrides)
    config = quick_config(**values)
    if hasattr(config, "replay") and "replay" not in overrides:
        config.replay = False  # general-chat replay generates answers with the model first: not what these tests are about
    return config


_templates: dict[str, Path] = {}


@pytest.fixture
def run_template(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> Path:
    """The tiny run, prepared once per session (cached here: a session fixture imported into
    several modules would be built once per module)."""
    from core.pipeline import prepare_run

    if "tiny" not in _templates:
        out = tmp_path_factory.mktemp("reliability") / "template"
        prepare_run([SAMPLE_DOCS], out, tiny_config())
        _templates["tiny"] = out
    return _templates["tiny"]


@pytest.fixture
def fresh_run(run_template: Path, tmp_path: Path) -> Callable[..., Path]:
    """A copy of the prepared, never trained tiny run."""

    def make(name: str = "run", where: Path | None = None) -> Path:
        dst = (where or tmp_path) / name
        shutil.copytree(run_template, dst, ignore=shutil.ignore_patterns(".tunedesk.lock"))
        return dst

    return make


@pytest.fixture
def one_thread() -> Iterator[None]:
    """In-process training on one thread, like the workers (see WORKER_ENV)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
