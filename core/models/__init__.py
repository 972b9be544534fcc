"""Base models: the built-in demo, local folders, GGUF files and Hub downloads.

Each module imports only those above it in this list, so none imports another in a circle:
    names.py     the names they all share (the demo model, the source record's file name)
    gguf.py      GGUF header check (before any long work) and the one-off conversion
    folders.py   a model folder's facts and checks, from small files only
    shape.py     a model's layer sizes, parameter counts and bytes on disk (what the pre-flight estimate needs)
    loading.py   loading a checked folder: tokenizer and weights
    adapters.py  does a LoRA adapter fit this base model? (checked before merging)
    catalog.py   the list of installed models (models.json in the data folder)
    resolve.py   what the user typed → a checked model folder (looks names up in the catalogue)
    hub_token.py the Hugging Face access token in the system keyring
    hub.py       resumable, cancellable downloads from the Hugging Face Hub
    identity.py  a fingerprint of a folder's weights: which base an adapter belongs to
The `tunedesk models …` commands that print all this live with the other commands, in core/cli/models.py.
"""

from core.models.adapters import check_adapter_fits
from core.models.folders import (DEFAULT_CHAT_TEMPLATE, DEFAULT_TEMPLATE_NOTE, ModelInfo, check_model_folder, count_params,
                                 has_own_chat_template, model_info)
from core.models.gguf import GGUFHeader, check_gguf, convert_gguf, demo_gguf_path, read_gguf_header
from core.models.loading import load_model, load_tokenizer
from core.models.names import DEMO, DEMO_GGUF, DEMO_NAME
from core.models.resolve import resolve_model
from core.models.shape import ModelShape, model_shape

__all__ = [
    "DEFAULT_CHAT_TEMPLATE", "DEFAULT_TEMPLATE_NOTE", "DEMO", "DEMO_GGUF", "DEMO_NAME", "GGUFHeader", "ModelInfo", "ModelShape",
    "check_adapter_fits", "check_gguf", "check_model_folder", "convert_gguf", "count_params", "demo_gguf_path",
    "has_own_chat_template", "load_model", "load_tokenizer", "model_info", "model_shape", "read_gguf_header", "resolve_model",
]
