"""A run folder in one archive, with the exact commands that train it on a server (issue #19).

`tunedesk pack RUN --out run.tar.gz` and the app's "Export run for a server" make the same archive: the
run folder as the trainer reads it (run.json, dataset/, documents.json, and any checkpoints, so a stopped
run continues there) and a SERVER.md and train.sbatch written into it, so the job can be copied to a GPU
box, trained with torchrun / accelerate launch / SLURM, and the finished folder opened here again.
Left out: the lock, a STOP request, exports (large, made from the adapter) and half-written folders.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import DiskError, RunError
from core.events import OnEvent, Progress, Stage, ignore_event
from core.store import RunDir

SKIPPED = {".tunedesk.lock", "STOP", "exports", ".adapter-tmp", ".adapter-old"}
"""Names under the run folder that stay home (at any depth); so do `.tmp-*` and `.trash-*` checkpoint folders."""


@dataclass(frozen=True)
class Packed:
    archive: Path
    name: str
    """The folder's name inside the archive (the run folder's own)."""
    files: int
    bytes: int


def launch_readme(name: str, model: str, batch_size: int, origin: str) -> str:
    """SERVER.md: what to install, the launch lines, stopping and continuing, and how the folder comes home."""
    return f"""# Training `{name}` on a server

Packed by TuneDesk from `{origin}`. The folder holds the settings (run.json), the training data
(dataset/) and any checkpoints; every command below reads them from here, so nothing else is needed
but TuneDesk itself and the base model.

## 1. Install

    pip install tunedesk            # or: pip install /path/to/a/TuneDesk/source/checkout
    pip install torch --index-url https://download.pytorch.org/whl/cu124   # a CUDA build of torch for your GPUs

Base model: `{model}`. `demo` is built in; a name from `tunedesk models list` must be there on the server
too (`tunedesk models download OWNER/NAME --name NAME`); a folder path must exist at the same path.

## 2. Train

One GPU or CPU, no launcher:

    tunedesk train --run {name}

All GPUs of one machine (N of them), with torchrun or accelerate:

    torchrun --nproc_per_node=N --no-python -- tunedesk train --run {name} --no-eval
    accelerate launch --multi_gpu --num_processes N --no_python tunedesk train --run {name} --no-eval

To shard the model over the processes while training (FSDP: each holds about 1/N of it), add `--fsdp`
to the torchrun line (or `--use_fsdp` to accelerate's). Each process still loads the whole model first,
and FSDP has not yet run on GPUs (docs/scale-out.md in TuneDesk's source).

(torchrun's `--` ends its own options: without it, Python 3.11 reads `--run` as a short form of
torchrun's `--run-path` and stops.) Several machines with SLURM: `sbatch {name}/train.sbatch` (edit its node and GPU counts; the run folder
must be on a file system every node sees).

Each step's batch of {batch_size} examples is shared out over the processes, so a run trains the same
steps on any number of them; more processes make each step faster only while each gets a few examples
(prepare the run with a larger --batch-size for many GPUs). Only process 0 writes the folder.

## 3. Stop and continue

`touch {name}/STOP` (or Ctrl-C, or `scancel --signal=TERM JOB`) stops every process after the current
step with a checkpoint. Run the same command again, with any number of processes, to continue from the
newest checkpoint: a preempted job just starts again.

## 4. Back home

Copy the folder back (`rsync -a server:{name} .`), then `tunedesk ask {name} --questions q.jsonl`,
`tunedesk chat {name}`, `tunedesk eval {name}` or `tunedesk export {name} ...`; in the app, put it back
in its project's runs folder (`{origin}`).
"""


def sbatch_script(name: str) -> str:
    """A SLURM batch file: one torchrun per node, joined by the c10d rendezvous on the first node."""
    return f"""#!/bin/bash
#SBATCH --job-name=tunedesk-{name}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=16
#SBATCH --time=04:00:00
#SBATCH --signal=TERM@120
#SBATCH --requeue
# SIGTERM two minutes before the time limit: every process stops after its step with a checkpoint, and a
# requeued job continues from it. The run folder must be on a file system every node sees.
set -euo pipefail
cd "$SLURM_SUBMIT_DIR"
HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun torchrun --nnodes="$SLURM_NNODES" --nproc_per_node="$SLURM_GPUS_PER_NODE" \\
    --rdzv_id="$SLURM_JOB_ID" --rdzv_backend=c10d --rdzv_endpoint="$HEAD:29500" \\
    --no-python -- tunedesk train --run {name} --no-eval
"""


def _kept(rel: Path) -> bool:
    return not any(part in SKIPPED or part.startswith((".tmp-", ".trash-")) for part in rel.parts)


def pack_run(run_path: Path | str, out: Path | str, on_event: OnEvent = ignore_event) -> Packed:
    """Write `out` (.tar.gz): the run folder plus SERVER.md and train.sbatch; written aside, then renamed."""
    from core.runs import RunStatus, run_state

    run, out = RunDir(run_path), Path(out)
    if not run.run_json.is_file():
        raise RunError(f"{run.root} is not a run folder (it has no run.json).",
                       "Prepare one first: tunedesk prepare DOCS... --out RUN (or create a run in the app).")
    state = run_state(run.root)
    if state.status is RunStatus.TRAINING:
        raise RunError(f"{run.root} is being trained right now.", "Stop it (its checkpoint travels along), then pack it.")
    if state.status is RunStatus.FINISHED:
        raise RunError(f"{run.root} has already finished training.",
                       "Export its model instead (tunedesk export), or prepare a new run to train on a server.")
    meta = run.read_run()
    if meta.get("task") == "classify":
        raise RunError(f"{run.root} is a label-text (classify) run.", "Only chat runs train on a server so far.")
    if out.resolve().is_relative_to(run.root.resolve()):
        raise RunError("The archive cannot go inside the run folder it packs.", "Choose --out outside it.")
    config, name = meta.get("config", {}), run.root.resolve().name
    extra = {"SERVER.md": launch_readme(name, str(config.get("model", "demo")), int(config.get("batch_size", 4)),
                                        str(run.root.resolve())),
             "train.sbatch": sbatch_script(name)}
    files = [p for p in sorted(run.root.rglob("*")) if p.is_file() and _kept(p.relative_to(run.root))]
    on_event(Progress(Stage.EXPORT, f"Packing {len(files)} files of {name}…", 0, len(files)))
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tmp, "w:gz") as tar:
            for path in files:
                tar.add(path, arcname=f"{name}/{path.relative_to(run.root).as_posix()}", recursive=False)
            for file_name, text in extra.items():
                data = text.encode("utf-8")
                info = tarfile.TarInfo(f"{name}/{file_name}")
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o755 if file_name.endswith(".sbatch") else 0o644
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DiskError(f"Could not write {out}: {exc.strerror or exc}",
                        "Free some disk space or choose a folder you can write to, then pack again.") from exc
    size = out.stat().st_size
    on_event(Progress(Stage.EXPORT, f"Packed {name} into {out} ({size / 2**20:.1f} MB)", len(files), len(files)))
    return Packed(out, name, len(files) + len(extra), size)
