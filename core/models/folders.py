"""Model folders: their facts and checks, from small files only (config.json, safetensors headers).

A folder that is not a model, a causal LM transformers does not know, or a truncated
weights file is refused with a clear reason in milliseconds, before any long load.
Below resolve.py (what the user typed → a folder) and loading.py (the weights), which
both use these checks; this module uses neither.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.models.gguf import read_gguf_header
from core.models.names import DEMO_NAME, SOURCE_FILE

# Used when a model ships without a chat template, so training and chat always
# agree on one format (a mismatch is a top complaint about peer tools). The
# adapter folder saves the tokenizer with the template it was trained with.
DEFAULT_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
DEFAULT_TEMPLATE_NOTE = ("This model has no chat template of its own: TuneDesk uses its default (ChatML) format "
                         "for training and chat, and saves it with the adapter.")


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    architecture: str
    params: int
    size_bytes: int
    has_chat_template: bool
    """Whether the model ships its own chat template (if not, DEFAULT_CHAT_TEMPLATE is used)."""
    licence: str | None = None
    """From the model card's front matter, the GGUF header or the Hub, where known."""

    @property
    def chat_template_note(self) -> str:
        return "" if self.has_chat_template else DEFAULT_TEMPLATE_NOTE


def _bad_folder(path: Path, why: str) -> ModelError:
    return ModelError(f"{path} is not a usable model folder: {why}.",
                      "Pick the folder that holds config.json and the *.safetensors weights of a text-generation "
                      "model (as downloaded from the Hugging Face Hub), or a .gguf file.")


def safetensors_header(file: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file; raises ModelError if the file is cut short or not safetensors."""
    size = file.stat().st_size
    try:
        with open(file, "rb") as f:
            raw = f.read(8)
            if len(raw) < 8:
                raise ValueError("shorter than a safetensors header")
            (n,) = struct.unpack("<Q", raw)
            if n > min(size - 8, 100_000_000):
                raise ValueError("header length is impossible")
            header = json.loads(f.read(n))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{file.name} in {file.parent} is not a readable safetensors file ({exc}).",
                         "Download or copy the model again: the file is damaged or incomplete.") from exc
    end = max((meta["data_offsets"][1] for key, meta in header.items() if key != "__metadata__"), default=0)
    if 8 + n + end > size:
        raise ModelError(
            f"{file.name} in {file.parent} is incomplete: {size / 1e6:.1f} MB of {(8 + n + end) / 1e6:.1f} MB.",
            "The copy or download was interrupted. Download or copy the model again "
            "(`tunedesk models download` resumes where it stopped).")
    return header


def _weight_files(path: Path) -> list[Path]:
    files = sorted(path.glob("*.safetensors"))
    return files or sorted(path.glob("*.bin"))


def not_a_causal_lm(config: dict[str, Any]) -> str | None:
    """None for a text generator transformers knows; else what it is, in words ("a BertForMaskedLM model")."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    model_type = config.get("model_type")
    archs = config.get("architectures") or []
    causal_classes = set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
    causal_arch = not archs or any(a in causal_classes or a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs)
    if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and causal_arch:
        return None
    return f"a {archs[0] if archs else model_type or 'unknown'} model"


def not_a_classifier_base(config: dict[str, Any]) -> str | None:
    """None for a model transformers can put a classification head on (an encoder such as BERT, or a
    decoder); else what it is, in words."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    model_type = config.get("model_type")
    if model_type in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES:
        return None
    return f"a {model_type or 'unknown'} model"


def check_model_folder(path: Path, causal: bool = True) -> dict[str, Any]:
    """Refuse, with the reason, a folder that is not a complete causal language model (with `causal` False:
    not a complete model that takes a classification head, as the classify task trains); return its config."""
    if not path.is_dir():
        raise ModelError(f"Model folder not found: {path}", "Check the path.")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise _bad_folder(path, "it has no config.json")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad_folder(path, f"its config.json is not valid JSON ({exc})") from exc
    if not isinstance(config, dict) or not config.get("model_type"):
        raise _bad_folder(path, "its config.json names no model_type")
    problem = not_a_causal_lm(config) if causal else None
    if not causal and not_a_classifier_base(config):
        raise ModelError(f"{path.name} is {not_a_classifier_base(config)}, which cannot learn to label text here.",
                         "Choose an encoder (BERT, RoBERTa, MiniLM, DeBERTa…) or a text generator that transformers "
                         "can put a classification head on.")
    if problem:
        raise ModelError(f"{path.name} is {problem}, which cannot be fine-tuned here as a text generator.",
                         "TuneDesk fine-tunes causal language models (Llama, Qwen, Mistral, Gemma, Phi, SmolLM, …). "
                         "If this is a new architecture, update transformers.")
    weights = _weight_files(path)
    if not weights:
        raise _bad_folder(path, "it has config.json but no weights (*.safetensors or *.bin)")
    for index in path.glob("*.index.json"):
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (ValueError, KeyError) as exc:
            raise _bad_folder(path, f"{index.name} is damaged ({exc})") from exc
        missing = sorted(s for s in shards if not (path / s).is_file())
        if missing:
            raise ModelError(f"{path.name} is missing {len(missing)} weight file(s): {', '.join(missing[:3])}.",
                             "The download or copy is incomplete: download the model again.")
    for file in weights:
        if file.suffix == ".safetensors":
            safetensors_header(file)
    return config


def count_params(folder: Path) -> int:
    """Parameter count from safetensors headers, without loading any weight (0 when there are none)."""
    total = 0
    for file in sorted(folder.glob("*.safetensors")):
        for key, meta in safetensors_header(file).items():
            if key == "__metadata__":
                continue
            numel = 1
            for d in meta["shape"]:
                numel *= d
            total += numel
    return total


def has_own_chat_template(folder: Path) -> bool:
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    config = folder / "tokenizer_config.json"
    if config.is_file():
        try:
            return bool(json.loads(config.read_text(encoding="utf-8")).get("chat_template"))
        except ValueError:
            return False
    return False


def read_licence(folder: Path) -> str | None:
    """Licence from the model card's front matter, else where we recorded it (GGUF header, Hub), else config.json."""
    readme = folder / "README.md"
    if readme.is_file():
        from huggingface_hub.repocard import metadata_load

        try:
            meta = metadata_load(readme) or {}
        except Exception:  # a malformed card is not worth failing over
            meta = {}
        licence = meta.get("license_name") if meta.get("license") == "other" else meta.get("license")
        if licence:
            return str(licence[0] if isinstance(licence, list) else licence)
    source = folder / SOURCE_FILE
    if source.is_file():
        try:
            recorded = json.loads(source.read_text(encoding="utf-8"))
        except ValueError:
            recorded = {}
        licence = recorded.get("licence")
        if not licence and recorded.get("gguf") and Path(recorded["gguf"]).is_file():
            try:  # converted before licences were recorded
                licence = read_gguf_header(Path(recorded["gguf"])).licence
            except ModelError:
                licence = None
        if licence:
            return str(licence)
    try:
        licence = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("license")
    except (OSError, ValueError):
        licence = None
    return str(licence) if licence else None


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def model_info(folder: Path) -> ModelInfo:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    name = DEMO_NAME if folder.name.startswith(DEMO_NAME) else folder.name
    return ModelInfo(str(folder), name, (config.get("architectures") or ["?"])[0], count_params(folder), size,
                     has_own_chat_template(folder), read_licence(folder))
