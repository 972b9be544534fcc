"""Real LoRA / QLoRA training on the demo model: loss, files, stop/resume, bad inputs."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import threading
from pathlib import Path

import pytest
import torch
from conftest import SAMPLE_DOCS, quick_config
from safetensors.torch import load_file

from core.errors import Cancelled, NoDocumentsError, RunError
from core.events import Caution, Finished, StepMetrics
from core.pipeline import prepare_run, train
from core.store import RunDir
from core.training.checkpoints import complete_checkpoints, latest_checkpoint
from core.training.config import TrainConfig
from core.training.loop import train_run
from core.training.model import should_compile

NF4_LOSS_TOLERANCE = 0.3  # nf4 raised the base loss 3.5-23% over 16 batches of the sample documents' training set
# (scripts/nf4_loss_spread.py; which batch comes first moves with the dataset); random weights give ~10.8, 600% off


def test_run_folder_is_complete_and_loss_falls(trained_run: Path):
    run = RunDir(trained_run)
    meta = run.read_run()
    assert meta["status"] == "finished"
    assert meta["step"] == meta["total_steps"] == 10
    assert meta["precision"] in ("bf16", "fp32", "nf4")
    assert meta["precision_reason"]
    steps = [m for m in run.read_metrics() if m["type"] == "step"]
    assert [m["step"] for m in steps] == list(range(1, 11))
    assert all(math.isfinite(m["loss"]) for m in steps)
    # Training batches mix passages, questions and replay, so single-step losses jump between kinds;
    # the validation set is fixed, so its loss is the one that shows learning.
    evals = [m for m in run.read_metrics() if m["type"] == "eval"]
    print("validation loss by eval:", [(m["step"], round(m["val_loss"], 3)) for m in evals])
    assert len(evals) >= 2 and evals[-1]["val_loss"] < evals[0]["val_loss"] * 0.97, evals  # measured: 1.92 → 1.79
    assert (run.adapter / "adapter_config.json").is_file()
    assert (run.adapter / "adapter_model.safetensors").is_file()
    assert (run.dataset / "train.jsonl").is_file() and (run.dataset / "validation.jsonl").is_file()
    train_lines = (run.dataset / "train.jsonl").read_text().splitlines()
    val_lines = (run.dataset / "validation.jsonl").read_text().splitlines()
    assert val_lines and not set(train_lines) & set(val_lines)  # validation is never trained on
    assert json.loads(train_lines[0])["messages"][-1]["role"] == "assistant"
    assert [p.name for p in complete_checkpoints(run.checkpoints)][-1] == "step-10"


def test_adapter_changes_the_answers(trained_run: Path, base_chat):
    from core.chat import load_chat_model

    tuned = load_chat_model(trained_run)
    question = "What does the document \"velloran expedition\" say? Part 1."
    assert tuned.ask(question) != base_chat.ask(question)


def _adapter_tensors(run: Path) -> dict:
    return load_file(str(RunDir(run).adapter / "adapter_model.safetensors"))


def test_stopped_run_resumes_to_the_same_result(tmp_path: Path, demo_model_dir: Path):
    cfg = dict(max_steps=6, save_every=2, eval_every=0)
    full = tmp_path / "full"
    train([SAMPLE_DOCS], full, quick_config(**cfg))

    part = tmp_path / "part"
    stop = threading.Event()
    events: list = []

    def on_event(event):
        events.append(event)
        if isinstance(event, StepMetrics) and event.step == 3:
            stop.set()  # the loop checks before step 4

    result = train([SAMPLE_DOCS], part, quick_config(**cfg), on_event=on_event, should_stop=stop.is_set)
    assert result.status == "stopped" and result.step == 3
    assert RunDir(part).read_run()["status"] == "stopped"
    assert latest_checkpoint(RunDir(part).checkpoints).name == "step-3"
    assert any(isinstance(e, Finished) and e.stopped_by_user for e in events)

    resumed_events: list = []
    result = train([], part, None, on_event=resumed_events.append, resume=True)
    assert result.status == "finished" and result.step == 6
    steps = [e.step for e in resumed_events if isinstance(e, StepMetrics)]
    assert steps == [4, 5, 6]
    # Totals survive Resume (issue #21): the clock goes on from the first session's 3 steps, not from zero.
    before = [e.elapsed_s for e in events if isinstance(e, StepMetrics)][-1]
    after = [e.elapsed_s for e in resumed_events if isinstance(e, StepMetrics)]
    assert after[0] > before and after == sorted(after)
    assert RunDir(part).read_run()["train_seconds"] >= after[-1]
    done = [e for e in resumed_events if isinstance(e, Finished)][-1]
    assert done.message == f"Finished 6 steps in {RunDir(part).read_run()['train_seconds'] / 60:.1f} min."
    # Same data order and state: the resumed adapter and losses equal the uninterrupted run's, bit for bit.
    a, b = _adapter_tensors(full), _adapter_tensors(part)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    full_losses = [m["loss"] for m in RunDir(full).read_metrics() if m["type"] == "step"]
    part_losses = [m["loss"] for m in RunDir(part).read_metrics() if m["type"] == "step"]
    assert part_losses == full_losses

    with pytest.raises(RunError) as err:
        train([], part, None, resume=True)
    assert "already finished" in err.value.message


@pytest.mark.skipif(not should_compile(TrainConfig(compile="on"), "cpu", 0),
                    reason="no C++ compiler here: CPU runs never compile")
def test_a_resumed_run_compiles_its_layers_as_it_began(tmp_path: Path, demo_model_dir: Path):
    """Whether a CPU run compiles its layers is decided from its plan, not from the steps left: compiled and
    eager layers round bf16 differently, so a run resumed near its end and finished eager ended 4.5e-4 away
    from the uninterrupted run (session 35). A run planned at the compile threshold, stopped after one step
    (149 left, under the threshold), must compile again when resumed. The first session runs eager
    (compile off, then set to auto in run.json) only to keep this test seconds long: the checkpoint it
    leaves is what the decision reads either way. Stopped as soon as the compile is announced (before
    the first compiled step), so nothing is compiled here."""
    from core.events import Progress
    from core.training.model import COMPILE_MIN_STEPS

    config = quick_config(max_steps=COMPILE_MIN_STEPS, save_every=1, eval_every=0, compile="off")
    assert should_compile(dataclasses.replace(config, compile="auto"), "cpu", COMPILE_MIN_STEPS)
    stop = threading.Event()

    def after_one_step(event):
        if isinstance(event, StepMetrics) and event.step == 1:
            stop.set()

    assert train([SAMPLE_DOCS], tmp_path, config, on_event=after_one_step, should_stop=stop.is_set).step == 1
    run = RunDir(tmp_path)
    run.update_run(config={**run.read_run()["config"], "compile": "auto"})
    seen: list = []  # the compile's announcement, or else the first step (then it ran eager)

    def on_event(event):
        if isinstance(event, StepMetrics) or (isinstance(event, Progress) and event.message.startswith("Compiling")):
            seen.append(event)

    try:
        train([], tmp_path, None, on_event=on_event, should_stop=lambda: bool(seen), resume=True)
    except Cancelled:  # stopped after the announcement, before any step: the folder is unchanged
        pass
    assert isinstance(seen[0], Progress), f"a run planned for {COMPILE_MIN_STEPS} steps resumed at step 1 ran eager"
    assert latest_checkpoint(run.checkpoints).name == "step-1"


def test_the_same_documents_config_and_seed_train_the_same_weights(tmp_path: Path, demo_model_dir: Path):
    """A learning benchmark judges a change against runs of the unchanged method made earlier (a dev seed costs
    ~10 minutes): sound only while the same documents, config and seed give the same weights, bit for bit.
    Session 35 found they do (a 660-step dev run equal to one an earlier session made); this keeps it so, from the
    dataset files to the adapter."""
    cfg = dict(max_steps=4, eval_every=0, save_every=0)
    first, second = tmp_path / "first", tmp_path / "second"
    train([SAMPLE_DOCS], first, quick_config(**cfg))
    train([SAMPLE_DOCS], second, quick_config(**cfg))
    for name in ("train.jsonl", "validation.jsonl", "heldout.jsonl"):
        assert (RunDir(first).dataset / name).read_bytes() == (RunDir(second).dataset / name).read_bytes(), name
    a, b = _adapter_tensors(first), _adapter_tensors(second)
    assert any(t.abs().max() > 0 for k, t in a.items() if "lora_B" in k), "training never moved the adapter"
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    losses = [[m["loss"] for m in RunDir(run).read_metrics() if m["type"] == "step"] for run in (first, second)]
    assert losses[0] == losses[1] and len(losses[0]) == 4


def test_qlora_nf4_trains_with_real_4bit_layers(tmp_path: Path, demo_model_dir: Path):
    import bitsandbytes as bnb

    out = tmp_path / "nf4"
    # No replay rows: they learn the base model's own distribution, so a first batch of them has a loss near 0
    # (0.0002 in bf16, 0.0010 in nf4 on this session's sample data) that no relative tolerance can compare.
    prepare_run([SAMPLE_DOCS], out, quick_config(max_steps=2, precision="nf4", save_every=0, eval_every=0,
                                                 replay=False))
    reference = tmp_path / "bf16"  # the same prepared examples, seed and batch order; 16-bit weights
    shutil.copytree(out, reference)
    RunDir(reference).update_run(config={**RunDir(out).read_run()["config"], "precision": "bf16", "max_steps": 1})
    seen: list = []
    result = train_run(out, on_event=seen.append)
    assert result.status == "finished" and result.step == 2
    assert RunDir(out).read_run()["precision"] == "nf4"
    ref_seen: list = []
    train_run(reference, on_event=ref_seen.append)
    # The first step's loss is measured before any update, and LoRA starts as a no-op (B = 0): it is the base
    # model's loss on the first batch, which 4-bit weights change by their quantisation error only.
    first = next(e.loss for e in seen if isinstance(e, StepMetrics) and e.step == 1)
    ref_first = next(e.loss for e in ref_seen if isinstance(e, StepMetrics) and e.step == 1)
    print(f"\nfirst-batch loss: nf4 {first:.4f}, bf16 {ref_first:.4f}")
    assert first == pytest.approx(ref_first, rel=NF4_LOSS_TOLERANCE)
    from core.models import load_model

    model = load_model(demo_model_dir, "nf4", "cpu")
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in model.modules())


def test_bad_documents_are_named_and_skipped_while_the_rest_train(tmp_path: Path, demo_model_dir: Path):
    from doc_fixtures import make_corrupt_pdf

    docs = tmp_path / "docs"
    docs.mkdir()
    for f in SAMPLE_DOCS.iterdir():
        (docs / f.name).write_bytes(f.read_bytes())
    make_corrupt_pdf(docs / "broken report.pdf")
    (docs / "empty notes.txt").write_bytes(b"")
    events: list = []
    result = train([docs], tmp_path / "run", quick_config(max_steps=2, save_every=0, eval_every=0), on_event=events.append)
    assert result.status == "finished"
    warnings = [e.message for e in events if isinstance(e, Caution)]
    assert any("broken report.pdf" in w and "PDF" in w for w in warnings), warnings
    assert any("empty notes.txt" in w and "empty" in w for w in warnings), warnings
    manifest = json.loads(RunDir(tmp_path / "run").documents_manifest.read_text())
    status = {d["name"]: d["status"] for d in manifest["documents"]}
    assert status["broken report.pdf"] == "skipped" and status["empty notes.txt"] == "skipped"
    assert sum(1 for s in status.values() if s == "read") == 3
    lines = [json.loads(l) for l in (RunDir(tmp_path / "run").dataset / "train.jsonl").read_text().splitlines()]
    sources = {l["source"] for l in lines if l.get("kind") != "replay"}  # replay examples come from no document
    assert sources == {f.name for f in SAMPLE_DOCS.iterdir()}


def test_only_bad_documents_give_one_clear_error(tmp_path: Path, demo_model_dir: Path):
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "b.xyz").write_text("hello")
    with pytest.raises(NoDocumentsError) as err:
        prepare_run([tmp_path / "a.txt", tmp_path / "b.xyz"], tmp_path / "run", quick_config())
    assert "a.txt" in str(err.value) and "b.xyz" in str(err.value)
    assert err.value.hint


def test_existing_run_folder_is_not_overwritten(trained_run: Path):
    with pytest.raises(RunError) as err:
        prepare_run([SAMPLE_DOCS], trained_run, quick_config())
    assert "--resume" in err.value.hint


def test_answer_loss_equals_transformers_loss_on_a_right_padded_batch(demo_model_dir: Path, tokenizer):
    """Our loss skips the padding mask (pads come after every real token under a causal mask) and the
    head on prompt tokens; it must still be transformers' own masked loss over the answer tokens."""
    import torch

    from core.models import load_model
    from core.training.data import collate, encode
    from core.training.loss import answer_loss

    pairs = (("Who founded Harbor Lane Bakery?", "Marta Okonkwo founded it in 1987."),
             ("What is the capital of France, the country in western Europe?", "Paris."))
    encoded = [encode(tokenizer, [{"role": "user", "content": q}, {"role": "assistant", "content": a}], 256)
               for q, a in pairs]
    batch = collate(encoded, tokenizer.pad_token_id)
    assert (batch["attention_mask"] == 0).any()  # the two rows differ in length: one is padded
    model = load_model(demo_model_dir, "fp32", "cpu")
    with torch.no_grad():
        ours, n = answer_loss(model, batch)
        labels = batch["labels"]
        theirs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss
    assert n == int((labels[:, 1:] != -100).sum())
    assert abs(float(ours) - float(theirs)) < 1e-4


def _said_and_unsaid(model_dir: Path, tokenizer) -> tuple[list[dict], list[dict]]:
    """Examples whose answer the base model already says, every token its first choice by a margin (greedy,
    fp32) that the test's fp32 steps at a tiny learning rate do not undo, and examples it cannot say (invented
    codes). A greedy answer whose re-tokenised words are not the model's own first choices is left out."""
    import torch

    from core.models import load_model
    from core.training.data import answer_positions, collate, encode

    model = load_model(model_dir, "fp32", "cpu")
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    said = []
    for question in ("What is 2 + 2? Reply with the number only.", "What is 3 + 5? Reply with the number only.",
                     "What is the capital of France?", "What is the capital of Italy?",
                     "What is the capital of Germany?", "Say hello."):
        ids = tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                            tokenize=True, return_dict=False)
        ids = list(ids["input_ids"] if hasattr(ids, "keys") else ids)
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), max_new_tokens=24, do_sample=False)[0, len(ids):].tolist()
        if end not in out:
            continue
        messages = [{"role": "user", "content": question},
                    {"role": "assistant", "content": tokenizer.decode(out[: out.index(end)])}]
        batch = collate([encode(tokenizer, messages, 256)], tokenizer.pad_token_id)
        with torch.no_grad():
            logits = model(input_ids=batch["input_ids"]).logits[:, :-1][answer_positions(batch["labels"])]
        top = logits.topk(2, -1).values
        if (logits.argmax(-1) == batch["labels"][:, 1:][answer_positions(batch["labels"])]).all() \
                and bool((top[:, 0] - top[:, 1] > 0.05).all()):
            said.append({"messages": messages, "source": "test", "kind": "qa"})
    unsaid = [{"messages": [{"role": "user", "content": f"What is the code of locker {n}?"},
                            {"role": "assistant", "content": f"Locker {n} opens with code QX-{n * 7919 % 9973}."}],
               "source": "test", "kind": "qa"} for n in (11, 23, 37, 52)]
    return said, unsaid


def test_examples_the_model_already_says_sit_out_their_next_pass(tmp_path: Path, demo_model_dir: Path, tokenizer):
    """What the model says word for word rests one pass, then comes back (config.rest_said); what it cannot say
    trains every pass. The resting set is in each checkpoint, so a resumed run rests the same examples."""
    said, unsaid = _said_and_unsaid(demo_model_dir, tokenizer)
    assert len(said) >= 2, "the demo model should say at least two of the candidate answers confidently"
    run_path = tmp_path / "run"
    settings = dict(epochs=3.0, max_steps=0, min_steps=0, batch_size=2, learning_rate=1e-5, precision="fp32",
                    save_every=0, eval_every=0)
    prepare_run([SAMPLE_DOCS], run_path, quick_config(**settings, rest_said=True))
    run = RunDir(run_path)
    rows = said + unsaid
    run.train_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    per_epoch = math.ceil(len(rows) / 2)
    steps: list[StepMetrics] = []
    train_run(run_path, on_event=lambda e: steps.append(e) if isinstance(e, StepMetrics) else None)
    meta = run.read_run()
    assert meta["step"] == 3 * per_epoch
    # Epoch 1 finds the said ones; epoch 2 rests them; epoch 3 trains them again and finds them said again.
    assert meta["rested_passes"] == len(said), meta.get("rested_passes")
    state = json.loads((latest_checkpoint(run.checkpoints) / "state.json").read_text())
    assert sorted(state["resting"]) == list(range(len(said)))
    assert all(math.isfinite(s.loss) for s in steps)

    off = tmp_path / "off"
    prepare_run([SAMPLE_DOCS], off, quick_config(**settings))  # the default: off
    RunDir(off).train_file.write_text(run.train_file.read_text())
    train_run(off)
    assert RunDir(off).read_run()["rested_passes"] == 0
