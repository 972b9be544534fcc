"""Issue #21, the core half: a first run that starts training soon and says how long each stage takes.

The demo model's general-knowledge answers ship with the app; any other model's are written with a
count and the time left; the app's worker process prepares and then trains a requested run; the lists
say "preparing" for a run being prepared; time left ignores the compiled first steps.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import SAMPLE_DOCS, quick_config
from core.events import Finished, Progress, Stage, StepMetrics, from_dict
from core.store import RunDir, RunStatus


def test_the_demo_models_general_answers_ship_with_the_app(demo_model_dir: Path, tmp_path: Path, monkeypatch):
    from core.dataset.replay import replay_examples, shipped_answers_path
    from core.models.identity import model_fingerprint

    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "fresh"))  # nothing cached on this "machine"
    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "fresh" / "models"))

    def no_model(prompts):
        raise AssertionError("the demo model's answers were written again instead of read")

    fingerprint = model_fingerprint(demo_model_dir)
    examples = replay_examples(demo_model_dir, no_model, fingerprint)
    shipped = [json.loads(line) for line in shipped_answers_path(fingerprint).read_text().splitlines()]
    assert len(examples) == len([r for r in shipped if r["a"]]) >= 100
    assert examples[0].messages == [{"role": "user", "content": shipped[0]["q"]},
                                    {"role": "assistant", "content": shipped[0]["a"]}]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory, demo_model_dir: Path) -> Path:
    """A random-weight model with the demo's tokenizer: no shipped answers, and quick to generate with."""
    import shutil

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                                 tie_word_embeddings=True)).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                 "generation_config.json"):
        if (demo_model_dir / name).is_file():
            shutil.copy(demo_model_dir / name, folder / name)
    return folder


def test_another_models_answers_are_written_with_a_count_and_the_time_left(tiny_llama: Path, tmp_path: Path,
                                                                          monkeypatch):
    from core.pipeline import prepare_run

    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "fresh"))
    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "fresh" / "models"))  # where answers are cached
    config = quick_config(model=str(tiny_llama), qa_pairs=False, replay=True)
    events: list = []
    prepare_run([SAMPLE_DOCS], tmp_path / "run", config, on_event=events.append)

    writing = [e for e in events if isinstance(e, Progress) and e.message.startswith("Writing general-knowledge")]
    assert len(writing) >= 5 and writing[-1].done == writing[-1].total == 120, [e.message for e in writing]
    assert [e.done for e in writing] == sorted(e.done for e in writing) and all(e.total == 120 for e in writing)
    assert any("left" in e.message for e in writing[:-1])  # "12/120 · about 40 seconds left"
    assert any(e.message.startswith("Loading the model") for e in events)
    reading = [e for e in events if isinstance(e, Progress) and e.stage == "ingest" and e.total]
    assert reading and reading[-1].done == reading[-1].total == 3  # the three sample documents, counted

    again: list = []  # the second run of the same model reads what the first wrote
    prepare_run([SAMPLE_DOCS], tmp_path / "run2", config, on_event=again.append)
    assert not [e for e in again if isinstance(e, Progress) and e.message.startswith(("Writing general", "Loading the model"))]


def test_the_worker_prepares_a_requested_run_then_trains_it(tmp_path: Path, demo_model_dir: Path):
    """The app's Start: a request in the run folder, then one worker process that prepares and trains."""
    from core.pipeline import request_preparation
    from core.runs import run_state
    from core.worker import worker_command

    run = tmp_path / "run"
    request_preparation(run, [SAMPLE_DOCS], quick_config(max_steps=2, save_every=0, eval_every=0, batch_size=2,
                                                         max_seq_len=128, report=True))
    assert run_state(run).status is RunStatus.PREPARING  # requested by this live process: the lists say so at once
    done = subprocess.run(worker_command(run, prepare=True), capture_output=True, text=True, timeout=900,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    events = [from_dict(json.loads(line)) for line in done.stdout.splitlines() if line.startswith("{")]
    stages = [e.stage for e in events if isinstance(e, Progress)]
    assert stages.index("ingest") < stages.index(Stage.ESTIMATE) < stages.index(Stage.TRAIN)
    assert [e.step for e in events if isinstance(e, StepMetrics)] == [1, 2]
    finished = [e for e in events if isinstance(e, Finished)]
    assert len(finished) == 1 and not finished[0].stopped_by_user
    # then the "did it learn?" report the app shows, counted answer by answer after the Finished event
    checking = [e for e in events[events.index(finished[0]):] if isinstance(e, Progress) and e.stage == Stage.EVALUATE]
    assert checking and checking[-1].done == checking[-1].total > 0
    assert json.loads(RunDir(run).report.read_text())["facts"]
    assert not RunDir(run).prepare_request.exists()  # run.json holds it all now
    assert run_state(run).status is RunStatus.FINISHED


def test_a_run_being_prepared_is_named_so_and_a_dead_request_is_not(tmp_path: Path):
    from core.locks import run_lock
    from core.runs import run_state
    from core.store import write_json

    run = tmp_path / "run"
    run.mkdir()
    with run_lock(run):  # a preparing process holds the lock before run.json exists
        state = run_state(run)
        assert state.status is RunStatus.PREPARING and not state.trained_elsewhere
        assert state.describe().startswith("Being prepared")
    write_json(RunDir(run).prepare_request, {"documents": [], "config": {}, "requested_by": _dead_pid()})
    state = run_state(run)
    assert state.status is RunStatus.UNKNOWN and "did not finish" in state.describe()


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_time_left_ignores_the_compiled_first_steps_and_weighs_each_batch():
    """A 40 s compile in the first step must not say '2 h 46 min' for a run of 1 s steps, and ten short
    batches first must not promise half the real time (issue #21: within 25% from step 10 on)."""
    import random

    from core.training.eta import StepClock
    from core.training.plan import StepPlan

    plan = StepPlan(batches_per_epoch=50, steps_per_epoch=50, total_steps=248, warmup_steps=10, eval_every=31,
                    save_every=20)
    rng = random.Random(0)
    sizes = [240] * 15 + [rng.choice([240, 480, 1200]) for _ in range(233)]  # length-grouped: short ones first
    seconds = [0.2 + size / 240 * 0.4 for size in sizes]  # a fixed cost per step and a cost per token
    clock = StepClock(plan, first_step=0, started=0.0, step_tokens=sizes, prior_step_s=1.2, prior_eval_s=4.0)
    times, now = [], 0.0
    for step in range(1, 249):  # the run as it happens: compile, steps, a check every 31, a checkpoint every 20
        now += seconds[step - 1] + (40.0 if step == 1 else 0.0)
        times.append(now)
        if plan.evaluates_at(step):
            now += 5.0
        if plan.saves_at(step):
            now += 2.0
    end = now + 5.0 + 2.0  # the finish checks and saves once more
    for step in range(1, 249):
        left = clock.eta(step, times[step - 1])
        if step >= 10:
            truth = end - times[step - 1]
            assert abs(left - truth) <= 0.25 * truth + 1, (step, left, truth)
        if plan.evaluates_at(step):
            clock.aside("eval", 5.0)
        if plan.saves_at(step):
            clock.aside("save", 2.0)
    assert clock.eta(2, 42.0) < 600  # the pre-flight's figure before any steady step was measured
