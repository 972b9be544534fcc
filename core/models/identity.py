"""Which base model is this? A fingerprint of a model folder's weights, cheap enough to take at every run.

An adapter is only right for the exact weights it was trained on: the same architecture with other weights
(another release, a re-download of a different revision into the same folder, another quantisation of the same
GGUF) loads without an error and answers worse or in nonsense. Shapes alone (core/models/adapters.py) cannot
tell those apart. The fingerprint hashes each weight file's name, size and three 64 KiB samples (the start, which
holds a safetensors header's tensor names, dtypes and shapes; the middle; the end): milliseconds for any model
size, and different for any two real checkpoints.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_SAMPLE = 64 * 1024


def model_fingerprint(folder: Path) -> str:
    """A short hex digest of the weights in `folder` (*.safetensors, else *.bin); "" when it holds none."""
    files = sorted(Path(folder).glob("*.safetensors")) or sorted(Path(folder).glob("*.bin"))
    if not files:
        return ""
    digest = hashlib.sha256()
    for file in files:
        size = file.stat().st_size
        digest.update(f"{file.name}|{size}|".encode())
        with open(file, "rb") as f:
            for offset in (0, max(0, size // 2 - _SAMPLE // 2), max(0, size - _SAMPLE)):
                f.seek(offset)
                digest.update(f.read(_SAMPLE))
    return digest.hexdigest()[:16]
