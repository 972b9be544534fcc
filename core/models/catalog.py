"""The catalogue of installed base models: `models.json` in the data folder.

A small JSON file rather than a table in SQLite: a handful of entries, read
whole, written atomically (core.store.write_json), and readable by a user who
opens the data folder. The facts shown in a list (architecture, parameters,
size, licence, chat template) are read once when a model is added, from file
headers only, so listing is instant. The demo model is not stored: it is always
listed first, described from its converted folder or, before the first
conversion, from its GGUF header.

Sources: "demo" (built in), "folder" (the user's own folder, referenced and
never deleted by us), "gguf" (converted into our models folder), "hub"
(downloaded into our models folder).
"""

from __future__ import annotations

import datetime as _dt
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.events import OnEvent, ignore_event
from core.models.folders import check_model_folder, count_params, folder_size, has_own_chat_template, read_licence
from core.models.gguf import convert_gguf, demo_gguf_path, gguf_cache_dir, read_gguf_header
from core.models.encoder import ENCODER, ENCODER_NAME, encoder_dir
from core.models.names import DEMO, DEMO_NAME
from core.models.shape import params_from_config
from core.paths import data_dir, models_dir
from core.store import read_json, write_json

CATALOG_FILE = "models.json"
SOURCES = ("demo", "folder", "gguf", "hub")


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    """What the user types (`--model NAME`) and sees in lists."""
    source: str
    """demo | folder | gguf | hub"""
    path: str
    """The model folder that training and chat load."""
    origin: str
    """What it came from: the user's folder, the .gguf file, or owner/name on the Hub."""
    architecture: str
    params: int
    size_bytes: int
    """Size on disk of `path`."""
    licence: str | None
    has_chat_template: bool
    """False: the model ships none, so TuneDesk's default (ChatML) template is used and saved with adapters."""
    added: str = ""
    revision: str | None = None
    """Hub commit the download is pinned to."""

    @property
    def missing(self) -> bool:
        return not Path(self.path).exists()

    @property
    def owned(self) -> bool:
        """Files we created (converted or downloaded) and may delete on remove; never the user's own folder."""
        return self.source in ("gguf", "hub")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "missing": self.missing}


def _catalog_path() -> Path:
    return data_dir() / CATALOG_FILE


def _read() -> list[CatalogEntry]:
    path = _catalog_path()
    if not path.is_file():
        return []
    try:
        rows = read_json(path).get("models", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise ModelError(f"The model list {path} is damaged ({exc}).",
                         f"Delete {path}; models can then be added again (their files are kept).") from exc
    known = {f.name for f in fields(CatalogEntry)}
    return [CatalogEntry(**{k: v for k, v in row.items() if k in known}) for row in rows]


def _write(entries: list[CatalogEntry]) -> None:
    write_json(_catalog_path(), {"models": [asdict(e) for e in entries]})


def describe_folder(folder: Path, name: str, source: str, origin: str, revision: str | None = None,
                    causal: bool = True) -> CatalogEntry:
    """A catalogue entry for a checked model folder, from its small files and headers only (`causal` False:
    any model that takes a classification head, such as the built-in encoder)."""
    config = check_model_folder(folder, causal=causal)
    params = count_params(folder) or params_from_config(config)
    arch = (config.get("architectures") or [config.get("model_type", "?")])[0]
    return CatalogEntry(name, source, str(folder), origin, arch, params, folder_size(folder), read_licence(folder),
                        has_own_chat_template(folder), _dt.datetime.now().isoformat(timespec="seconds"), revision)


def demo_entry() -> CatalogEntry:
    gguf = demo_gguf_path()
    folder = gguf_cache_dir(gguf)
    if (folder / "config.json").is_file():
        entry = describe_folder(folder, DEMO, "demo", f"built in ({DEMO_NAME})")
        return CatalogEntry(**{**asdict(entry), "added": ""})
    header = read_gguf_header(gguf)  # not converted yet: describe it from the GGUF header
    return CatalogEntry(DEMO, "demo", str(folder), f"built in ({DEMO_NAME})", header.architecture, header.params,
                        header.file_size, header.licence, header.has_chat_template)


def list_models() -> list[CatalogEntry]:
    """The demo model first, then the installed models in the order they were added."""
    return [demo_entry(), *_read()]


def encoder_entry() -> CatalogEntry:
    """The built-in encoder (all-MiniLM-L6-v2): the classify task's default model, never the chat task's."""
    entry = describe_folder(encoder_dir(), ENCODER, "encoder", f"built in ({ENCODER_NAME})", causal=False)
    return CatalogEntry(**{**asdict(entry), "added": ""})


def classifier_models() -> list[CatalogEntry]:
    """What the classify task offers: the built-in encoder first, then every installed model (encoders and
    decoders alike train with a classification head)."""
    try:
        first = [encoder_entry()]
    except ModelError:  # the encoder's wheel is missing: the user's own models still work
        first = []
    return first + _read()


def find_model(name: str) -> CatalogEntry | None:
    if name == DEMO:
        return demo_entry()
    if name == ENCODER:
        return encoder_entry()
    return next((e for e in _read() if e.name == name), None)


def check_name_free(name: str) -> None:
    if name in (DEMO, ENCODER) or any(e.name == name for e in _read()):
        raise ModelError(f"A model named '{name}' is already installed.",
                         "Choose another name with --name, or remove the old one first (tunedesk models remove).")


def register(entry: CatalogEntry, replace: bool = False) -> CatalogEntry:
    if not replace:
        check_name_free(entry.name)
    _write([e for e in _read() if e.name != entry.name] + [entry])
    return entry


def add_model(spec: str | Path, name: str | None = None, on_event: OnEvent = ignore_event) -> CatalogEntry:
    """Add a local model folder (referenced in place) or a .gguf file (checked, then converted once)."""
    path = Path(spec).expanduser()
    if not path.exists():
        raise ModelError(f"Not found: {path}", "Give a model folder (config.json + weights) or a .gguf file. "
                                                "For Hub models use: tunedesk models download owner/name")
    if name is not None and not name.strip():
        raise ModelError("The model name is empty.", "Give a name with --name, or leave it out.")
    if name is None:
        name = path.stem if path.is_file() else path.resolve().name
    check_name_free(name)  # before any long conversion
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelError(f"{path.name} is not a model file.", "Give a .gguf file or a folder with config.json and weights.")
        folder = convert_gguf(path, on_event)
        return register(describe_folder(folder, name, "gguf", str(path.resolve())))
    return register(describe_folder(path.resolve(), name, "folder", str(path.resolve())))


def remove_model(name: str) -> CatalogEntry:
    """Forget a model; delete its files only if we made them (downloads, conversions) — never the user's folder."""
    if name == DEMO:
        raise ModelError("The built-in demo model cannot be removed.", "It is part of the app and takes no extra space.")
    entries = _read()
    entry = next((e for e in entries if e.name == name), None)
    if entry is None:
        raise ModelError(f"No installed model is named '{name}'.", "See the names with: tunedesk models list")
    _write([e for e in entries if e.name != name])
    folder = Path(entry.path)
    root = models_dir().resolve()
    still_used = any(Path(e.path).resolve() == folder.resolve() for e in entries if e.name != name)
    if entry.owned and folder.exists() and root in folder.resolve().parents and not still_used:
        shutil.rmtree(folder, ignore_errors=True)
    return entry
