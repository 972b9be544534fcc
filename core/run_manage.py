"""Managing a run folder: give it a name a person chose, or delete it. Qt-free; the app's run menus call these.

A rename changes a *display name* kept in run.json ("name"), never the folder. The folder name is how
other things find the run: chat_history.json keys each conversation by it, a training worker or a CLI
`--resume` holds its path, the chat model cache is keyed by it, and a user's scripts may too. Renaming the
folder would silently cut those ties; a name in run.json is read by core.runs.run_state like every other
fact about a run, so every list shows it (RunState.label) and the folder stays where everything expects it.

Neither touches a run that someone is training or preparing (its lock is held, core/locks.py): the trainer
rewrites run.json as it goes, and deleting its folder under it would fail the run halfway.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.errors import DiskError, RunError
from core.locks import LOCK_NAME, holder, run_lock
from core.runs import RunState, run_state
from core.store import RunDir

MAX_NAME = 80


def _busy(state: RunState, doing: str) -> RunError:
    return RunError(f"“{state.label}” is being trained right now, so it cannot be {doing}.",
                    "Stop its training first (it keeps a checkpoint to resume from), then try again.")


def _require_run(path: Path) -> RunState:
    state = run_state(path)
    if not RunDir(path).run_json.is_file() and state.trainer_pid is None:
        raise RunError(f"{path} is not a TuneDesk run folder (no run.json).", "Refresh the list of runs and try again.")
    return state


def check_run_name(name: str) -> str:
    """A display name: any characters (it is not a folder name), one line, at most MAX_NAME characters."""
    name = " ".join(str(name).split())
    if len(name) > MAX_NAME:
        raise RunError("That run name is too long.", f"Use {MAX_NAME} characters or fewer.")
    return name


def rename_run(path: Path | str, name: str) -> RunState:
    """Give the run at `path` the display name `name` ("" goes back to the folder's name); its folder stays.

    A name another run of the same project already shows is refused, so two runs never read alike in a list.
    """
    path = Path(path)
    state = _require_run(path)
    if state.trainer_pid is not None:
        raise _busy(state, "renamed")
    name = check_run_name(name)
    if name and name != state.id:
        for sibling in path.parent.iterdir():
            if sibling != path and sibling.is_dir() and (sibling / "run.json").is_file():
                other = run_state(sibling)
                if name.casefold() in (other.label.casefold(), other.id.casefold()):
                    raise RunError(f"Another run is already called “{name}”.", "Choose another name.")
    with run_lock(path):  # nobody starts training it while run.json is rewritten
        RunDir(path).update_run(name="" if name == state.id else name)
    return run_state(path)


def delete_run(path: Path | str) -> None:
    """Delete the run folder at `path` with everything in it (adapter, checkpoints, report, exports kept there).

    Refused while a process trains or prepares it. The folder is emptied while holding its lock, so no
    training can start in it halfway; the lock file itself goes last (Windows cannot delete a locked file).
    """
    path = Path(path)
    state = _require_run(path)
    if state.trainer_pid is not None:  # holder() also sees this process's own lock (run_lock is re-entrant)
        raise _busy(state, "deleted")
    try:
        with run_lock(path):
            for child in path.iterdir():
                if child.name == LOCK_NAME:
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        shutil.rmtree(path)
    except OSError as exc:
        raise DiskError(f"Could not delete all of “{state.label}”: {exc.strerror or exc}",
                        "Close any program using files in the run's folder, then delete it again.") from exc
