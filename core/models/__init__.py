"""Base models: the built-in demo, local folders, GGUF files and Hub downloads.

    loading.py   what the user typed → a checked model folder; facts about it; loading weights
    gguf.py      GGUF header check (before any long work) and the one-off conversion
    catalog.py   the list of installed models (models.json in the data folder)
    hub.py       resumable, cancellable downloads from the Hugging Face Hub; the token in the keyring
    adapters.py  does a LoRA adapter fit this base model? (checked before merging)
"""

from core.models.adapters import check_adapter_fits
from core.models.gguf import GGUFHeader, check_gguf, convert_gguf, demo_gguf_path, read_gguf_header
from core.models.loading import (DEFAULT_CHAT_TEMPLATE, DEFAULT_TEMPLATE_NOTE, DEMO, DEMO_GGUF, DEMO_NAME, ModelInfo,
                                 check_model_folder, count_params, load_model, load_tokenizer, model_info, resolve_model)

__all__ = [
    "DEFAULT_CHAT_TEMPLATE", "DEFAULT_TEMPLATE_NOTE", "DEMO", "DEMO_GGUF", "DEMO_NAME", "GGUFHeader", "ModelInfo",
    "check_adapter_fits", "check_gguf", "check_model_folder", "convert_gguf", "count_params", "demo_gguf_path",
    "load_model", "load_tokenizer", "model_info", "read_gguf_header", "resolve_model",
]
