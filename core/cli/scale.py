"""`tunedesk prepare|pack` and `tunedesk train --run`: a run designed here, trained on a server (issue #19).

`prepare` writes a run folder (documents → dataset and settings) without training; `pack` puts it in one
archive with the exact launch commands; `train --run RUN` trains such a folder, alone or as one of the
processes `torchrun` / `accelerate launch` start, and continues it from its newest checkpoint when run
again (a preempted SLURM job just runs the same line). Only rank 0 prints and writes the folder.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from core.cli.console import ConsolePrinter, stop_on_ctrl_c
from core.cli.options import add_run_options, config_from_args, keep_questions, questions_from_args
from core.errors import Cancelled, RunError, TuneDeskError
from core.events import ignore_event
from core.store import RunStatus

FIXED_IN_RUN = ("model", "preset", "epochs", "learning_rate", "batch_size", "max_seq_len", "lora_r", "lora_alpha", "precision",
                "save_every", "eval_every", "seed", "compile")
"""Settings `train --run` refuses: the run folder holds them, and every process (and every restart) must read
the same ones. --max-steps alone may change (it is written back to run.json first)."""


def _stop_wish(run: Path, main: bool) -> Callable[[], bool]:
    """This process's wish to stop: Ctrl-C or SIGTERM (SLURM's and torchrun's way to end a job), and on rank 0
    a STOP file in the run folder newer than this process (one left by a killed run is stale)."""
    stop = stop_on_ctrl_c()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    stop_file, started = run / "STOP", time.time() - 1.0

    def wish() -> bool:
        if stop.is_set():
            return True
        if not main:
            return False
        try:
            return stop_file.stat().st_mtime >= started
        except OSError:
            return False

    return wish


def _check_prepared(args: argparse.Namespace) -> Path:
    run = Path(args.run)
    given = [name for name in (*FIXED_IN_RUN, "questions") if getattr(args, name, None) is not None]
    if args.documents or args.out or args.resume or given:
        extra = ", ".join(["documents" if args.documents else "", "--out" if args.out else "",
                           "--resume" if args.resume else "", *(f"--{n.replace('_', '-')}" for n in given)])
        raise TuneDeskError(f"--run trains the run folder as it was prepared; these do not apply: {extra.strip(', ')}.",
                            "Give only --run RUN (and --max-steps N); to change settings, prepare a new run with "
                            "tunedesk prepare DOCS --out RUN; your own questions go in with tunedesk prepare, or "
                            "tunedesk eval RUN --questions FILE after training.")
    if not (run / "run.json").is_file():
        raise RunError(f"{run} is not a prepared run folder (it has no run.json).",
                       "Make one with: tunedesk prepare DOCS... --out RUN (or unpack the archive tunedesk pack made).")
    from core.classify.prepare import is_classify_run

    if is_classify_run(run):
        raise RunError(f"{run} is a label-text (classify) run.",
                       "Train it with tunedesk classify train; torchrun / accelerate launch take chat runs only.")
    return run


def train_prepared(args: argparse.Namespace) -> int:
    """`tunedesk train --run RUN [--max-steps N] [--fsdp]`: one process, or each of torchrun's / accelerate's."""
    from core.device import detect
    from core.store import RunDir
    from core.training.distributed import Launch, Sharding

    run = _check_prepared(args)
    launch = Launch.from_env()
    sharding = Sharding.from_launch(getattr(args, "fsdp", False))
    sharding.validate(launch, detect().kind, str(RunDir(run).read_run()["config"].get("precision", "auto")))
    if launch.world == 1:
        return _train_alone(run, args)
    return _train_rank(run, args, launch, sharding)


def _ready(run: Path, max_steps: int | None) -> bool:
    """Refuse a finished run; write --max-steps into run.json (so every restart plans the same steps).
    True when there is a checkpoint to continue from."""
    from core.locks import run_lock
    from core.runs import run_state
    from core.store import RunDir
    from core.training.checkpoints import newest_step

    state = run_state(run)
    if state.status is RunStatus.TRAINING:
        pid = f" (pid {state.trainer_pid})" if state.trainer_pid and state.trainer_pid > 0 else ""
        raise RunError(f"{run} is being trained by another process{pid}.",
                       "Wait for it to finish, or stop it (touch RUN/STOP), then run this again.")
    if state.status is RunStatus.FINISHED:
        raise RunError(f"The run in {run} has already finished.",
                       "Chat with it (tunedesk ask / chat) or export it; to train more, prepare a new run.")
    if max_steps is not None:
        if max_steps < 1:
            raise TuneDeskError(f"--max-steps must be at least 1 (got {max_steps}).", "Give a positive number of steps.")
        with run_lock(run):
            config = RunDir(run).read_run()["config"]
            RunDir(run).update_run(config={**config, "max_steps": max_steps})
    return newest_step(RunDir(run).checkpoints) is not None


def _train_alone(run: Path, args: argparse.Namespace) -> int:
    """No launcher: the app's own loop (core/training/loop.py), exactly as the Train page runs it."""
    from core.training.loop import train_run

    resume = _ready(run, args.max_steps)
    printer = ConsolePrinter()
    result = train_run(run, on_event=printer, should_stop=_stop_wish(run, True), resume=resume)
    return _report(run, args, result, printer)


def _train_rank(run: Path, args: argparse.Namespace, launch: Any, sharding: Any) -> int:
    """One of several processes: join the group, rank 0 readies the folder while the others wait, then train
    (with DDP, or FSDP as `sharding` says)."""
    from core.device import detect
    from core.models import resolve_model
    from core.store import RunDir
    from core.training.checkpoints import newest_step
    from core.training.ddp_loop import train_ranks
    from core.training.distributed import Ranks

    ranks = Ranks.start(launch, detect().kind)
    try:
        ready = False
        try:
            if launch.main:
                _ready(run, args.max_steps)
            if launch.local_rank == 0:  # a GGUF is converted once a machine, not once a process
                resolve_model(RunDir(run).read_run()["config"]["model"])
            ready = True
        finally:
            someone_failed = ranks.any(not ready)  # every rank waits here and learns whether all can go on
        if someone_failed:
            return 2  # the rank that failed printed why
        resume = newest_step(RunDir(run).checkpoints) is not None
        printer: Any = ConsolePrinter() if launch.main else ignore_event
        try:
            result = train_ranks(run, ranks, on_event=printer, should_stop=_stop_wish(run, launch.main), resume=resume,
                                 sharding=sharding)
        except Cancelled:  # stopped while loading, by the same agreement on every rank: nothing to save yet
            if launch.main:
                (run / "STOP").unlink(missing_ok=True)
                print("Stopped before training began; nothing changed. Run the same command again to start.",
                      file=sys.stderr)
            return 0
    finally:
        ranks.close()
    if not launch.main:
        return 0
    code = _report(run, args, result, printer)
    # A stop is a choice, never a failure (core/errors.py): under a launcher a non-zero exit is reported as a
    # crash of the whole job (torchrun's ChildFailedError), so every rank ends with 0; run.json says "stopped".
    return 0 if code == 3 else code


def _report(run: Path, args: argparse.Namespace, result: Any, printer: Any) -> int:
    (run / "STOP").unlink(missing_ok=True)  # answered: a later restart must not stop at once
    from core.cli.finish import report_and_summary

    return report_and_summary(run, result, args.no_eval, printer)


def cmd_prepare(args: argparse.Namespace) -> int:
    """`tunedesk prepare DOCS... --out RUN`: what `train` does before its first step, and nothing after."""
    from core.pipeline import prepare_run

    if not args.documents:
        raise TuneDeskError("No documents given.", "Name files or folders: tunedesk prepare my_docs/ --out my_run")
    if not args.out:
        raise TuneDeskError("No run folder given.", "Name one with --out: tunedesk prepare my_docs/ --out my_run")
    questions = questions_from_args(args)
    stop = stop_on_ctrl_c()
    prepare_run(args.documents, Path(args.out), config_from_args(args), on_event=ConsolePrinter(),
                should_stop=stop.is_set)
    keep_questions(Path(args.out), questions)
    print(f"Prepared: {args.out}\nTrain it here:      tunedesk train --run {args.out}\n"
          f"or on a server:     tunedesk pack {args.out} --out {Path(args.out).name}.tar.gz")
    return 0


def cmd_pack(args: argparse.Namespace) -> int:
    from core.pack import pack_run

    result = pack_run(Path(args.run), Path(args.out), on_event=ConsolePrinter())
    print(f"Packed {result.files} files ({result.bytes / 2**20:.1f} MB) into {result.archive}")
    print(f"On the server: tar xzf {result.archive.name} && cat {result.name}/SERVER.md")
    return 0


def add_parsers(sub: Any) -> None:
    """Mount `prepare` and `pack` on the `tunedesk` parser (`train --run` is in core/cli/training.py)."""
    p = sub.add_parser("prepare", help="read documents and write a run folder's dataset and settings, without training")
    add_run_options(p)
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("pack", help="a run folder in one .tar.gz with the torchrun / accelerate / SLURM commands")
    p.add_argument("run", help="run folder (prepared, or stopped to continue on a server)")
    p.add_argument("--out", required=True, help="archive to write, e.g. run.tar.gz")
    p.set_defaults(func=cmd_pack)

