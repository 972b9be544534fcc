"""Out of memory in the real training worker: a named error with what to do, the checkpoint kept, the caller alive.

Memory is capped with RLIMIT_DATA set on the running worker (prlimit) at a
chosen moment: its current heap plus a small margin (faults.limit_memory says
why not RLIMIT_AS). The first allocation past it fails the way it does on a
full machine — a refused mmap of the weights ("Cannot allocate memory") or a
MemoryError while loading (wrapped in a ModelError by core.models), torch's
"DefaultCPUAllocator: can't allocate memory" or oneDNN's "could not create a
primitive" during a step.
"""

from __future__ import annotations

from faults import (MEMORY_LIMIT_ENV, Worker, files_state, fresh_run, is_event, limit_memory,  # noqa: F401
                    one_thread, run_template)

from core.events import StepMetrics
from core.store import RunDir
from core.training.checkpoints import complete_checkpoints, load_checkpoint
from core.training.loop import train_run
from core.runs import run_state


def test_out_of_memory_while_loading_the_model(fresh_run) -> None:
    run = fresh_run()
    worker = Worker(run)
    assert worker.wait_for(is_event("Progress", message=lambda m: m.startswith("Loading")), 180), worker.describe()
    limit_memory(worker.pid, 64 * 2**20)  # the weights alone need ~270 MB more
    rc = worker.finish(300)

    assert rc == 2, worker.describe()  # an orderly exit with a Failed event, not a crash or a signal
    failed = worker.of_type("Failed")
    assert len(failed) == 1, worker.describe()
    assert failed[0]["message"].startswith("Out of memory while loading the model."), failed
    assert "No checkpoint had been saved yet" in failed[0]["message"]
    assert "--resume" in failed[0]["hint"] and "smaller model" in failed[0]["hint"]
    assert "Could not load the model" not in failed[0]["message"]  # not mistaken for a broken model folder
    assert not worker.steps()
    meta = RunDir(run).read_run()
    assert meta["status"] == "failed" and meta["error"] == "out of memory"
    assert not complete_checkpoints(run / "checkpoints")
    state = run_state(run)  # what the app's Resume button and the CLI's --resume read: resumable, from the start
    assert state.status == "failed" and state.resumable and state.resumes_from() == "the beginning"


def test_out_of_memory_at_a_step_keeps_the_last_checkpoint_and_resumes(fresh_run, one_thread) -> None:
    run = fresh_run()
    meta = RunDir(run).read_run()
    meta["config"].update(preset="standard", batch_size=2, max_seq_len=192)  # what the hint should talk about
    RunDir(run).update_run(**meta)
    events: list = []
    train_run(run, on_event=events.append, should_stop=lambda: any(isinstance(e, StepMetrics) for e in events))
    saved = files_state(run / "checkpoints")
    assert [p.name for p in complete_checkpoints(run / "checkpoints")] == ["step-1"]

    worker = Worker(run, env=MEMORY_LIMIT_ENV)
    assert worker.wait_for(is_event("Progress", stage="train", message=lambda m: m.startswith("Training steps")), 180), worker.describe()
    limit_memory(worker.pid, 16 * 2**20)  # a step needs far more than 16 MB
    rc = worker.finish(300)

    assert rc == 2, worker.describe()
    failed = worker.of_type("Failed")
    assert len(failed) == 1, worker.describe()
    assert failed[0]["message"] == "Out of memory at step 2. The last checkpoint (step 1) is kept.", failed
    hint = failed[0]["hint"]
    for advice in ("--resume", "'quick' preset", "--batch-size 1", "--max-seq-len 128", "--precision nf4"):
        assert advice in hint, hint
    assert files_state(run / "checkpoints") == saved  # nothing already saved was touched
    assert load_checkpoint(run / "checkpoints" / "step-1")["state"]["step"] == 1
    state = run_state(run)
    assert state.status == "failed" and state.resumable and state.checkpoint_step == 1

    resumed: list = []  # with memory back, --resume continues from step 1
    result = train_run(run, on_event=resumed.append, resume=True,
                       should_stop=lambda: any(isinstance(e, StepMetrics) for e in resumed))
    assert [e.step for e in resumed if isinstance(e, StepMetrics)] == [2] and result.step == 2
    assert RunDir(run).read_run().get("error") is None
