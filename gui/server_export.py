"""Export run for a server: the run folder and its launch commands in one archive (issue #19).

The same archive as `tunedesk pack` (core/pack.py: the folder, SERVER.md with the torchrun / accelerate
lines, a SLURM batch file), offered in a run's menu (gui/run_actions.py) for a run that has not
finished. Writing it takes seconds (a dataset and perhaps checkpoints), so it runs on a worker; a refusal
(a run being trained, one already finished) reaches the funnel with what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from core.runs import RunStatus, run_state
from gui import dialogs
from gui.context import AppContext

SERVER_EXPORT = "Export run for a server…"


def export_for_server(ctx: AppContext, parent: QWidget, run: Path) -> Any:
    """Ask where to write the archive, then pack `run` there on a worker; returns the Task (None if not started)."""
    state = run_state(run)
    if state.status is RunStatus.FINISHED:
        ctx.notifier.warning(f"“{state.label}” has finished training.",
                             "Export its model instead (Export… on the Train page); to train on a server, "
                             "start a new run and export that one before training it.")
        return None
    suggested = str(Path.home() / f"{run.name}.tar.gz")
    out = dialogs.choose_save_file(parent, SERVER_EXPORT, suggested, "Archives (*.tar.gz)")
    if not out:
        return None
    if not out.endswith(".tar.gz"):
        out += ".tar.gz"

    def pack(emit: Any, should_stop: Any) -> Any:
        from core.pack import pack_run

        return pack_run(run, Path(out), on_event=emit)

    def packed(result: Any) -> None:
        ctx.notifier.info(f"Packed for a server: {result.archive} ({result.bytes / 2**20:.1f} MB).",
                          f"Copy it to the server, unpack it there and follow {result.name}/SERVER.md inside "
                          "(torchrun, accelerate launch or SLURM); bring the folder back to chat with it.")

    return ctx.workers.run(pack, "pack", on_success=packed)
