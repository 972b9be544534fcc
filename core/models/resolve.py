"""What the user typed ("demo", a folder, a .gguf file, a catalogue name) → a checked model folder.

Above the catalogue (a name is looked up there) and the GGUF converter; nothing in
core/models imports this module, so resolution never goes in a circle.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import ModelError
from core.models.catalog import find_model
from core.models.folders import check_model_folder
from core.models.gguf import convert_gguf, demo_gguf_path
from core.models.names import DEMO


def resolve_model(spec: str | Path) -> Path:
    """Turn what the user typed ("demo", a folder, a .gguf file, a catalogue name) into a checked model folder."""
    if str(spec) == DEMO:
        return convert_gguf(demo_gguf_path())
    path = Path(spec).expanduser()
    if not path.exists():
        entry = find_model(str(spec))
        if entry is not None:
            if not Path(entry.path).exists():
                raise ModelError(f"The model '{entry.name}' is in your list, but its folder is gone: {entry.path}",
                                 f"Remove it (tunedesk models remove \"{entry.name}\") and add it again.")
            return resolve_model(entry.path)
        raise ModelError(f"Model not found: {spec}",
                         "Give 'demo', a model folder, a .gguf file, or a name from `tunedesk models list` "
                         "(get Hub models with `tunedesk models download owner/name`).")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelError(f"{path.name} is not a model file.", "Give a .gguf file or a folder with config.json and weights.")
        return convert_gguf(path)
    check_model_folder(path)
    return path
