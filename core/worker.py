"""Training in a child process, speaking JSON lines.

The GUI (and reliability tests) start `sys.executable main.py --worker train
RUN [--resume]` — in a frozen app `sys.executable` is the app itself, which
routes `--worker` here. A child process keeps the app alive when training
runs out of memory or is killed, and frees all model memory when it ends.
Each core event is one JSON line on stdout; a stop is requested by creating
`RUN/STOP` (works on every OS, no signals needed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

from core.errors import Cancelled, TuneDeskError
from core.events import Event, Failed, to_dict

STOP_FILE = "STOP"


def request_stop(run: Path | str) -> None:
    (Path(run) / STOP_FILE).touch()


def worker_command(run: Path | str, resume: bool = False) -> list[str]:
    """The argv that starts a training worker, source checkout or frozen bundle alike."""
    if getattr(sys, "frozen", False):
        base = [sys.executable]
    else:
        base = [sys.executable, str(Path(__file__).resolve().parent.parent / "main.py")]
    return base + ["--worker", "train", str(run)] + (["--resume"] if resume else [])


def _emit(event: Event) -> None:
    sys.stdout.write(json.dumps(to_dict(event)) + "\n")
    sys.stdout.flush()


def worker_main(argv: Sequence[str]) -> int:
    from core.quiet import quiet_libraries

    quiet_libraries()
    if len(argv) < 2 or argv[0] != "train":
        _emit(Failed("Unknown worker command.", "This is an internal entry point of the app."))
        return 2
    run = Path(argv[1])
    resume = "--resume" in argv[2:]
    stop_file = run / STOP_FILE
    stop_file.unlink(missing_ok=True)
    from core.training.loop import train_run

    try:
        result = train_run(run, on_event=_emit, should_stop=stop_file.exists, resume=resume)
        return 0 if result.status == "finished" else 3
    except Cancelled:
        return 3
    except TuneDeskError as exc:
        _emit(Failed(exc.message, exc.hint))
        return 2
    except Exception as exc:  # shown to the user through the GUI's funnel, never silent
        _emit(Failed(f"Training failed: {type(exc).__name__}: {exc}", "See the log in the run folder, then resume."))
        return 1
    finally:
        stop_file.unlink(missing_ok=True)
