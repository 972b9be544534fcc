"""Memory: how much training used, and telling an out-of-memory failure from any other.

Out of memory shows up in many disguises — MemoryError, torch's CUDA
OutOfMemoryError, the CPU allocator's RuntimeError, oneDNN's "could not create
a primitive", a refused mmap of the weights — often wrapped by the code that
failed (model loading wraps it in a ModelError). `is_oom` sees through all of them, so the loop can keep the
newest checkpoint and say what to do (`oom_error`) instead of showing a stack.
"""

from __future__ import annotations

import errno
import sys

from core.errors import OutOfMemory
from core.training.config import TrainConfig


def peak_memory_gb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return process_peak_rss_gb()


def process_peak_rss_gb() -> float:
    """This process's own peak resident memory.

    Not getrusage's ru_maxrss on Linux: the kernel carries it across exec, so a
    worker started from a large parent (the GUI with a chat model loaded, or
    pytest) would report the parent's size. VmHWM belongs to the process's
    own address space. Windows has no `resource` module; psutil gives its
    peak working set there.
    """
    if sys.platform.startswith("linux"):
        try:
            peak = _status_bytes("VmHWM:")
            if peak:
                return peak / 2**30
        except (OSError, ValueError, IndexError):
            pass
    if sys.platform == "win32":
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**30
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
    return rss / (2**30 if sys.platform == "darwin" else 2**20)


def is_oom(exc: BaseException) -> bool:
    """MemoryError, CUDA OOM, or torch's CPU allocator failing — here or anywhere in the cause chain.

    The chain matters: model loading wraps whatever failed in a ModelError.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError) or type(current).__name__ == "OutOfMemoryError":
            return True
        text = str(current).lower()
        if isinstance(current, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                                  or "failed to allocate" in text):
            return True
        # A refused mmap of the weights (safetensors, torch.load): ENOMEM on Linux and macOS, which torch
        # reports as a RuntimeError with its strerror; on Windows "the paging file is too small" (error 1455).
        if isinstance(current, (RuntimeError, OSError)) and (
                "cannot allocate memory" in text or "paging file is too small" in text
                or getattr(current, "errno", None) == errno.ENOMEM or getattr(current, "winerror", None) == 1455):
            return True
        # oneDNN (CPU bf16 kernels) reports a failed allocation only as this; it can also
        # mean an unsupported shape, so it counts as out of memory only when memory is short.
        if isinstance(current, RuntimeError) and "could not create a primitive" in text and memory_is_short():
            return True
        current = current.__cause__ or current.__context__
    return False


def memory_is_short() -> bool:
    """Near this process's address-space or data limit (RLIMIT_AS, RLIMIT_DATA: `ulimit -v` / `-d`, a
    container's), or the machine nearly out of RAM."""
    try:
        import resource  # not on Windows: the psutil check below still applies

        for limit, field in ((resource.RLIMIT_AS, "VmSize:"), (resource.RLIMIT_DATA, "VmData:")):
            soft = resource.getrlimit(limit)[0]
            if soft != resource.RLIM_INFINITY and _status_bytes(field) > 0.9 * soft:
                return True
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    try:
        import psutil

        return psutil.virtual_memory().available < 256 * 2**20
    except Exception:
        return False


def _status_bytes(field: str) -> int:
    """A size from /proc/self/status ("VmSize:", "VmData:"), in bytes; 0 where the line is missing."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def oom_error(config: TrainConfig, where: str, checkpoint_step: int | None) -> OutOfMemory:
    kept = (f"The last checkpoint (step {checkpoint_step}) is kept." if checkpoint_step
            else "No checkpoint had been saved yet; nothing else was lost.")
    smaller = []
    if config.preset.split()[0] != "quick":
        smaller.append("the 'quick' preset")
    if config.batch_size > 1:
        smaller.append(f"a smaller batch (--batch-size {max(1, config.batch_size // 2)})")
    if config.max_seq_len > 128:
        smaller.append(f"shorter chunks (--max-seq-len {max(128, config.max_seq_len // 2)})")
    if config.precision != "nf4":
        smaller.append("4-bit precision (--precision nf4)")
    smaller.append("a smaller model")
    return OutOfMemory(
        f"Out of memory {where}. {kept}",
        "Close other programs and continue with --resume, or start the run again with "
        + ", ".join(smaller[:-1]) + (" or " if len(smaller) > 1 else "") + smaller[-1] + ".",
    )
