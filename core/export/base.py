"""The base model an export merges into: the one the run was trained on, and nothing else.

An adapter merged into other weights loads and runs, and answers worse or in nonsense; nothing downstream
(llama.cpp, Ollama) can notice. So before any work the export checks, in order: the run has an adapter; the
model to export with (the run's own unless the user names one) resolves to a folder; its weights are the ones
the run was trained on (the fingerprint recorded in run.json at preparation, core/models/identity.py, or the
run's own model folder's for runs made before that was recorded); and every LoRA matrix fits a layer of it
(core/models/adapters.py). Any failure is a ModelError that names both models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import ModelError, RunError
from core.models import check_adapter_fits, resolve_model
from core.models.identity import model_fingerprint
from core.store import RunDir


def trained_on(run: Path) -> tuple[dict[str, Any], str]:
    """run.json and what the run names as its base (the resolved folder it trained with, else its --model)."""
    meta = RunDir(run).read_run()
    spec = str(meta.get("model_path") or (meta.get("config") or {}).get("model") or "")
    if not spec:
        raise RunError(f"The run in {run} does not say which model it was trained on (run.json has no model).",
                       "Export a run that TuneDesk trained, or train this one again.")
    return meta, spec


def base_for_export(run: Path, model: str | None = None) -> Path:
    """The checked base model folder to merge the run's adapter into; ModelError/RunError if it is not the one."""
    run = Path(run)
    meta, spec = trained_on(run)  # first: a folder that is no run (or is not there) is told so, not 'untrained'
    adapter = RunDir(run).adapter
    if not (adapter / "adapter_config.json").is_file():
        raise RunError(f"The run in {run} has no trained adapter yet, so there is nothing to export.",
                       "Finish (or resume) its training first.")
    own = Path(spec)
    if model is None and not own.exists() and own.is_absolute():
        raise ModelError(f"The model this run was trained on is gone: {own}",
                         "Add that model again (tunedesk models add …), or name it with --model.")
    folder = resolve_model(model if model is not None else spec)
    recorded = str(meta.get("base_fingerprint") or "")
    if not recorded and own.is_dir() and own.resolve() != folder.resolve():
        recorded = model_fingerprint(own)
    found = model_fingerprint(folder)
    if recorded and found != recorded:
        named = f"the model you named ({model})" if model is not None else f"the model in {folder}"
        raise ModelError(
            f"This run was trained on another base model: {named} is not the one its adapter was trained on "
            f"({spec}; weights {recorded}, found {found}).",
            "Export with the model the run was trained on; if it was changed or replaced, add the original again. "
            "Merging an adapter into other weights gives a model that loads but answers badly.")
    check_adapter_fits(adapter, folder)
    return folder
