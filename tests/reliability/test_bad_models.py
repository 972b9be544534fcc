"""Bad models, through the calls the app and CLI make (core.models.resolve_model, core.chat.load_chat_model,
and prepare_run): a named ModelError with what to do, at once, never a stack trace or a long conversion.

Real bad inputs: a folder of documents, a folder with config.json and no
weights, a real model folder whose weights file was cut short, a GGUF cut
inside its header and one cut inside its tensor data, a text file named
.gguf, and a real adapter trained on the demo model loaded over a different
(randomly initialised, 2-layer) base model.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from faults import fresh_run, one_thread, run_template, tiny_config  # noqa: F401
from conftest import SAMPLE_DOCS

from core.errors import ModelError
from core.events import StepMetrics
from core.store import RunDir


def _assert_model_error(err: pytest.ExceptionInfo, *names: str) -> None:
    message = err.value.message
    assert err.value.hint, message
    assert "Traceback" not in message and len(message) < 600, message
    assert any(name in message for name in names), (names, message)


def _bad_folders(tmp_path: Path, demo_model_dir: Path) -> dict[str, Path]:
    docs = tmp_path / "my documents"
    docs.mkdir()
    (docs / "notes.txt").write_text("Not a model at all.")
    no_weights = tmp_path / "config only"
    no_weights.mkdir()
    shutil.copy(demo_model_dir / "config.json", no_weights / "config.json")
    cut = tmp_path / "cut weights"
    shutil.copytree(demo_model_dir, cut)
    weights = next(cut.glob("*.safetensors"))
    with open(weights, "r+b") as f:
        f.truncate(weights.stat().st_size // 3)  # an interrupted copy
    return {"documents": docs, "config only": no_weights, "cut weights": cut}


def test_a_folder_that_is_not_a_model(tmp_path: Path, demo_model_dir: Path) -> None:
    from core.chat import load_chat_model
    from core.models import resolve_model
    from core.pipeline import prepare_run

    for label, folder in _bad_folders(tmp_path, demo_model_dir).items():
        started = time.perf_counter()
        with pytest.raises(ModelError) as err:
            resolve_model(str(folder))
        _assert_model_error(err, folder.name, str(folder))
        with pytest.raises(ModelError) as err:
            load_chat_model(model=str(folder))
        _assert_model_error(err, folder.name, str(folder))
        run = tmp_path / f"run {label}"
        with pytest.raises(ModelError):  # training refuses before reading any document
            prepare_run([SAMPLE_DOCS], run, tiny_config(model=str(folder)))
        assert not (run / "run.json").exists()
        assert time.perf_counter() - started < 60, label


def test_truncated_and_fake_gguf_files(tmp_path: Path) -> None:
    from core.models import demo_gguf_path, resolve_model

    data = demo_gguf_path().read_bytes()
    cases = {
        "header cut.gguf": data[: 1_000_000],  # inside the metadata (the vocabulary alone is ~2 MB)
        "data cut.gguf": data[: len(data) // 2],  # header whole, tensors missing: a broken download
        "not really.gguf": b"These are my meeting notes, saved with the wrong extension.\n" * 100,
        "empty.gguf": b"",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        started = time.perf_counter()
        with pytest.raises(ModelError) as err:
            resolve_model(str(path))
        _assert_model_error(err, name)
        assert time.perf_counter() - started < 30, name  # checked before any conversion
    assert not any(p.name.startswith(("header cut", "data cut")) for p in tmp_path.iterdir() if p.is_dir())


def test_an_adapter_trained_on_a_different_base(fresh_run, tmp_path: Path, demo_model_dir: Path, one_thread) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from core.chat import load_chat_model
    from core.training.loop import train_run

    run = fresh_run()
    events: list = []
    train_run(run, on_event=events.append, should_stop=lambda: any(isinstance(e, StepMetrics) for e in events))
    assert (RunDir(run).adapter / "adapter_config.json").is_file()

    other = tmp_path / "other base"  # same family and vocabulary, different shapes: a real, different model
    config = AutoConfig.from_pretrained(str(demo_model_dir))
    config.hidden_size, config.intermediate_size, config.num_hidden_layers = 64, 128, 2
    config.num_attention_heads, config.num_key_value_heads, config.head_dim = 4, 2, 16
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(str(other))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"):
        if (demo_model_dir / name).is_file():
            shutil.copy(demo_model_dir / name, other / name)
    meta = RunDir(run).read_run()
    meta["model_path"] = str(other)
    meta["config"]["model"] = str(other)
    RunDir(run).update_run(**meta)

    with pytest.raises(ModelError) as err:
        load_chat_model(run)
    _assert_model_error(err, other.name, "adapter")
    assert load_chat_model(run, base=True).ask("Say hello.").strip()  # the base alone still answers
    assert json.loads((RunDir(run).adapter / "adapter_config.json").read_text())  # nothing was changed
