"""SIGKILL of the real training worker at random moments: the run folder stays valid and resumes exactly.

20 kills in one run folder (seeded), across the places a kill can land:
  import      0–4 s after the start: the interpreter importing torch / transformers / peft
  load        0–2.5 s after "Loading demo…": reading the model, restoring the checkpoint (before step 1)
  checkpoint  0–0.15 s after `.tmp-step-N/` appears: inside save_checkpoint (write, fsync, rename, prune)
  step        0–1 s after CheckpointSaved: in the forward/backward of the next step
  finish      after the last step: final checkpoint, adapter swap, run.json (the last kill)
After every kill the folder must hold only loadable complete checkpoints, a
parseable run.json, no lock, and lose at most the step in progress; every
resume must continue from the newest complete checkpoint; and the run, once
finished, must equal an uninterrupted one (same losses per step, same adapter).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from faults import TOTAL_STEPS, Worker, fresh_run, is_event, one_thread, run_template  # noqa: F401 (fixtures)
from safetensors.torch import load_file

from core.events import Caution, CheckpointSaved, StepMetrics
from core.locks import holder
from core.store import RunDir
from core.training.checkpoints import MARKER, complete_checkpoints, load_checkpoint
from core.training.loop import train_run
from core.runs import run_state

KILLS = 20
SEED = 7


def _step(path: Path) -> int:
    return int(path.name.split("-", 1)[1])


def check_folder(run: Path, before: int, last_step_seen: int) -> int:
    """The invariants that must hold after any kill; returns the newest complete checkpoint's step."""
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))  # parses: written atomically
    assert meta["config"]["max_steps"] == TOTAL_STEPS
    complete = complete_checkpoints(run / "checkpoints")
    for path in complete:
        assert path.name.startswith("step-"), path  # never a .tmp-* / .trash-* folder
        ckpt = load_checkpoint(path)
        assert ckpt["state"]["step"] == _step(path)
        assert ckpt["adapter"] and ckpt["optimizer"]["state"]
    newest = _step(complete[-1]) if complete else 0
    assert newest >= before, "a kill must never lose a checkpoint that was already complete"
    assert newest <= max(last_step_seen, before), "a checkpoint of a step that never finished was taken as complete"
    assert last_step_seen - newest <= 1, "more than the step in progress was lost"
    RunDir(run).read_metrics()  # a torn last line is skipped, never an error
    state = run_state(run)
    assert state.trainer_pid is None and holder(run) is None  # the kernel dropped the dead worker's lock
    assert state.checkpoint_step == (newest or None)
    if meta["status"] == "training":  # what run.json says after a kill; run_state knows better
        assert state.status == "interrupted" and state.resumable
    adapter = run / "adapter"
    if adapter.exists():  # swapped in by renames: whole or absent
        assert json.loads((adapter / "adapter_config.json").read_text())["r"] >= 1
        assert load_file(str(adapter / "adapter_model.safetensors"))
    return newest


def _reference(fresh_run) -> tuple[dict[int, float], dict]:
    ref = fresh_run("reference")
    result = train_run(ref)
    assert result.status == "finished" and result.step == TOTAL_STEPS
    losses = {m["step"]: m["loss"] for m in RunDir(ref).read_metrics() if m["type"] == "step"}
    return losses, load_file(str(RunDir(ref).adapter / "adapter_model.safetensors"))


def test_twenty_sigkills_lose_nothing_and_resume_exactly(fresh_run, one_thread) -> None:
    started = time.monotonic()
    ref_losses, ref_adapter = _reference(fresh_run)
    run = fresh_run("killed")
    rng = random.Random(SEED)
    plan = ["import"] * 4 + ["load"] * 4 + ["checkpoint"] * 4 + ["step"] * (TOTAL_STEPS - 1)
    rng.shuffle(plan)
    plan.append("finish")
    assert len(plan) == KILLS
    newest, log = 0, []
    for i, mode in enumerate(plan):
        if newest >= TOTAL_STEPS - 1 and not (mode == "finish" and newest == TOTAL_STEPS - 1):
            mode = rng.choice(["import", "load"])  # keep the run unfinished until the last kill
        training = lambda e: e["type"] == "StepMetrics" or (e["type"] == "Progress" and e["stage"] == "train")  # noqa: E731
        worker = Worker(run)
        if mode == "import":
            delay = rng.uniform(0.05, 4.0)
            worker.wait_for(lambda e: True, delay)  # at the delay, or at the first event if that comes sooner
        elif mode == "load":
            assert worker.wait_for(is_event("Progress", stage="load-model"), 180), worker.describe()
            delay = rng.uniform(0.0, 2.5)
            worker.wait_for(training, delay)  # never into the first step
        elif mode == "checkpoint":
            assert worker.wait_for(is_event("StepMetrics"), 180), worker.describe()
            step = worker.steps()[0]
            tmp = run / "checkpoints" / f".tmp-step-{step}"
            deadline = time.monotonic() + 5
            while not tmp.exists() and time.monotonic() < deadline and worker.proc.poll() is None:
                time.sleep(0.002)
            delay = rng.uniform(0.0, 0.15)
            time.sleep(delay)
        elif mode == "step":
            assert worker.wait_for(is_event("CheckpointSaved"), 180), worker.describe()
            delay = rng.uniform(0.0, 1.0)
            # Cut the wait short at the last step's metrics: with one step left, a 1 s wait can
            # outlast it and the worker would finish before the kill (a kill that tests nothing).
            worker.wait_for(is_event("StepMetrics", step=TOTAL_STEPS), delay)
        else:
            assert worker.wait_for(is_event("StepMetrics", step=TOTAL_STEPS), 180), worker.describe()
            delay = rng.uniform(0.0, 1.5)
            time.sleep(delay)
        at = worker.events[-1][1] if worker.events else {"type": "(nothing yet)"}
        worker.kill()
        assert worker.proc.returncode == -9 or (mode == "finish" and worker.proc.returncode == 0), worker.describe()

        resumed = [e for e in worker.of_type("Progress") if e["stage"] == "train" and e["message"].startswith(("Resuming", "No complete"))]
        if resumed:  # it got as far as restoring: from the newest complete checkpoint, always
            expected = f"Resuming from step {newest} (step-{newest})" if newest else "No complete checkpoint found"
            assert resumed[0]["message"].startswith(expected), (resumed, newest)
        assert all(s > newest for s in worker.steps())
        partial = [p.name for p in (run / "checkpoints").glob(".*")] if (run / "checkpoints").is_dir() else []
        before = newest
        newest = check_folder(run, before, max(worker.steps(), default=before))
        log.append((i, mode, round(delay, 2), at["type"], before, newest, partial))

    final = Worker(run)
    assert final.finish(600) == 0, final.describe()
    meta = RunDir(run).read_run()
    assert meta["status"] == "finished" and meta["step"] == meta["total_steps"] == TOTAL_STEPS
    check_folder(run, TOTAL_STEPS, TOTAL_STEPS)

    # Exact resume: every logged step (re-done steps appear again) has the uninterrupted run's loss,
    # and the final adapter is the uninterrupted run's adapter.
    steps = [m for m in RunDir(run).read_metrics() if m["type"] == "step"]
    assert {m["step"] for m in steps} == set(range(1, TOTAL_STEPS + 1))
    for m in steps:
        assert m["loss"] == pytest.approx(ref_losses[m["step"]], abs=1e-3), m
    adapter = load_file(str(RunDir(run).adapter / "adapter_model.safetensors"))
    assert adapter.keys() == ref_adapter.keys()
    for key in adapter:
        assert (adapter[key].float() - ref_adapter[key].float()).abs().max() < 1e-3, key

    modes = {m for _, m, *_ in log}
    assert {"import", "load", "checkpoint", "step"} <= modes
    print(f"\n{KILLS} SIGKILLs in {time.monotonic() - started:.0f} s (kill, mode, delay s, last event, newest before → after, leftovers):")
    for row in log:
        print("  ", *row)


def test_resume_ignores_unmarked_truncated_and_damaged_checkpoints(fresh_run, one_thread) -> None:
    run = fresh_run()
    meta = RunDir(run).read_run()
    meta["config"]["keep_checkpoints"] = 5
    RunDir(run).update_run(**meta)
    events: list = []
    train_run(run, on_event=events.append, should_stop=lambda: any(isinstance(e, StepMetrics) and e.step >= 4 for e in events))
    ckpts = run / "checkpoints"
    assert [p.name for p in complete_checkpoints(ckpts)] == ["step-1", "step-2", "step-3", "step-4"]

    adapter4 = ckpts / "step-4" / "adapter.safetensors"  # truncated: the marker's size no longer matches
    adapter4.write_bytes(adapter4.read_bytes()[: adapter4.stat().st_size // 2])
    (ckpts / "step-3" / MARKER).unlink()  # never marked complete
    optimizer2 = ckpts / "step-2" / "optimizer.pt"  # same size, garbage bytes: marker matches, load fails
    optimizer2.write_bytes(b"\x00" * optimizer2.stat().st_size)
    tmp = ckpts / ".tmp-step-5"  # a fully written but never renamed checkpoint
    tmp.mkdir()
    for f in (ckpts / "step-1").iterdir():
        (tmp / f.name).write_bytes(f.read_bytes())

    assert [p.name for p in complete_checkpoints(ckpts)] == ["step-1", "step-2"]
    resumed: list = []
    result = train_run(run, on_event=resumed.append, should_stop=lambda: any(isinstance(e, StepMetrics) for e in resumed), resume=True)
    messages = [getattr(e, "message", "") for e in resumed]
    assert any(isinstance(e, Caution) and "step-2 is damaged" in e.message for e in resumed), messages
    assert "Resuming from step 1 (step-1)" in messages, messages
    assert [e.step for e in resumed if isinstance(e, StepMetrics)] == [2]
    assert result.status == "stopped" and result.step == 2
    saved = [e for e in resumed if isinstance(e, CheckpointSaved)]
    assert [e.step for e in saved] == [2]
    assert load_checkpoint(ckpts / "step-2")["state"]["step"] == 2  # the damaged step-2 was replaced, not reused
    assert not tmp.exists()  # the next save cleared the stray temporary folder
