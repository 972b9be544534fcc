"""Models from every source — demo, a local folder, a GGUF file — and the bad ones, refused before long work.

The Hub source is in test_hub.py. Tests that add models point TUNEDESK_HOME
(the catalogue) and, where a conversion happens, TUNEDESK_MODELS at tmp_path,
so nothing is left in the shared model cache.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import SAMPLE_DOCS, quick_config

from core.chat import SamplingSettings
from core.errors import ModelError
from core.events import Caution, Progress
from core.models import (DEFAULT_CHAT_TEMPLATE, DEFAULT_TEMPLATE_NOTE, check_gguf, demo_gguf_path, model_info,
                         resolve_model)
from core.models.catalog import add_model, find_model, list_models, remove_model

DEMO_PARAMS = 134_515_008  # SmolLM2-135M with tied embeddings


@pytest.fixture
def catalogue_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("TUNEDESK_HOME", str(home))
    return home


def _copy_model(src: Path, dst: Path) -> Path:
    """A real model folder: small files copied, the 540 MB weights hard-linked (or copied) to save disk."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.suffix == ".safetensors":
            try:
                os.link(f, dst / f.name)
            except OSError:
                shutil.copy(f, dst / f.name)
        elif f.is_file() and f.name != "tunedesk_source.json":  # a user's folder has no record of ours
            shutil.copy(f, dst / f.name)
    return dst


def test_demo_is_always_listed_with_its_facts(catalogue_home: Path, demo_model_dir: Path, capsys):
    from core.cli import main

    demo = list_models()[0]
    assert demo.name == "demo" and demo.source == "demo"
    assert demo.architecture == "LlamaForCausalLM"
    assert demo.params == DEMO_PARAMS
    assert demo.licence == "apache-2.0"  # from the GGUF header
    assert demo.has_chat_template
    assert demo.size_bytes > 500_000_000  # the converted fp32 folder
    assert Path(demo.path) == demo_model_dir
    with pytest.raises(ModelError, match="cannot be removed"):
        remove_model("demo")

    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "demo" and rows[0]["fit"] == "trains here"
    assert "Trains here" in rows[0]["fit_message"]


def test_models_list_says_what_each_model_supports_here(catalogue_home: Path, demo_model_dir: Path, capsys):
    """TRAIN, 4-BIT and FAST-CHAT columns (core/support.py), the same answers with reasons in --json. The demo
    model trains here, and on a CPU the lean decoder answers for it; 4-bit is what this device's own check says."""
    from core.cli import main
    from core.device import detect

    device = detect()
    four_bit = "yes" if device.nf4 else "no"
    chat = "yes" if device.kind == "cpu" else "n/a"
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.match(r"NAME .* TEMPLATE\s+TRAIN\s+4-BIT\s+FAST-CHAT\s+FIT$", lines[0])
    assert re.match(rf"demo\s+demo\s+LlamaForCausalLM .* own\s+yes\s+{four_bit}\s+{chat}\s+trains here$", lines[1])
    notes = [line for line in lines if line.startswith("  demo: ")]
    assert [n.split(":")[1] for n in notes] == ([] if device.nf4 else [" 4-bit"])  # nothing else is missing

    assert main(["models", "list", "--json"]) == 0
    supports = json.loads(capsys.readouterr().out)[0]["supports"]
    assert supports["train_here"]["ok"] and supports["train_here"]["why"].startswith("Trains here")
    assert supports["lean_chat"] == {"ok": True, "why": "the lean int8 decoder answers for it"}
    assert supports["cpu_kernels"]["ok"] and supports["kernels_declined"] == {}
    assert supports["four_bit"]["ok"] == device.nf4


def test_local_folder_is_added_by_reference_used_by_name_and_never_deleted(catalogue_home: Path, demo_model_dir: Path,
                                                                           tmp_path: Path):
    from core.chat import load_chat_model

    folder = _copy_model(demo_model_dir, tmp_path / "My SmolLM")
    (folder / "README.md").write_text("---\nlicense: mit\nlanguage: en\n---\n# My model\n", encoding="utf-8")
    entry = add_model(folder, name="my-smol")
    assert (entry.source, entry.path, entry.params) == ("folder", str(folder.resolve()), DEMO_PARAMS)
    assert entry.licence == "mit"  # from the model card's front matter
    assert entry.has_chat_template and not entry.missing
    assert [e.name for e in list_models()] == ["demo", "my-smol"]
    assert resolve_model("my-smol") == folder.resolve()
    with pytest.raises(ModelError, match="already installed"):
        add_model(folder, name="my-smol")

    # The name works wherever a model is asked for: load it and generate.
    answer = load_chat_model(model="my-smol").ask("What is the capital of France?", SamplingSettings(max_new_tokens=12))
    assert "Paris" in answer

    remove_model("my-smol")
    assert find_model("my-smol") is None
    assert (folder / "model.safetensors").is_file()  # the user's folder is untouched
    with pytest.raises(ModelError) as err:
        resolve_model("my-smol")
    assert "tunedesk models list" in err.value.hint


def test_gguf_file_is_checked_converted_once_and_listed(catalogue_home: Path, demo_model_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    from safetensors import safe_open

    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "models"))
    gguf = tmp_path / "downloads" / "smollm2-135m-instruct.Q4_1.gguf"
    gguf.parent.mkdir()
    shutil.copy(demo_gguf_path(), gguf)
    header = check_gguf(gguf)
    assert (header.architecture, header.params, header.licence) == ("llama", DEMO_PARAMS, "apache-2.0")
    assert header.tensor_types == {"Q4_1": 210, "F32": 61, "Q8_0": 1} and header.complete

    events: list = []
    entry = add_model(gguf, on_event=events.append)
    assert entry.source == "gguf" and entry.origin == str(gguf.resolve())
    assert entry.name == "smollm2-135m-instruct.Q4_1"
    assert (entry.architecture, entry.params, entry.licence) == ("LlamaForCausalLM", DEMO_PARAMS, "apache-2.0")
    assert entry.has_chat_template  # SmolLM2's GGUF carries its template
    assert any(isinstance(e, Progress) and "Converting" in e.message for e in events)
    converted = Path(entry.path)
    assert converted.parent == tmp_path / "models"
    # The same file dequantised the same way: identical weights to the demo model's conversion.
    with safe_open(converted / "model.safetensors", "pt") as a, safe_open(demo_model_dir / "model.safetensors", "pt") as b:
        for key in ("model.layers.0.self_attn.q_proj.weight", "model.embed_tokens.weight"):
            assert a.get_tensor(key).equal(b.get_tensor(key)), key
    assert resolve_model(entry.name) == converted

    again: list = []  # converted once: a second add reuses the folder
    add_model(gguf, name="second", on_event=again.append)
    assert not any(isinstance(e, Progress) and "Converting" in e.message for e in again)
    remove_model("second")
    assert converted.is_dir()  # still used by the first entry
    remove_model(entry.name)
    assert not converted.exists()  # ours to delete: the conversion; the .gguf stays
    assert gguf.is_file()


def test_truncated_or_foreign_gguf_is_refused_before_any_conversion(catalogue_home: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    import gguf as gguf_lib
    import numpy as np

    models = tmp_path / "models"
    monkeypatch.setenv("TUNEDESK_MODELS", str(models))
    data = demo_gguf_path().read_bytes()
    for cut, words in ((len(data) // 2, "MB of the 98.4 MB"), (4_000, "ends inside its header")):
        part = tmp_path / f"cut-{cut}.gguf"
        part.write_bytes(data[:cut])
        started = time.perf_counter()
        with pytest.raises(ModelError) as err:
            add_model(part)
        assert "incomplete" in err.value.message and words in err.value.message, err.value.message
        assert "again" in err.value.hint
        assert time.perf_counter() - started < 10  # the header only, not a conversion

    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 a zip file renamed")
    with pytest.raises(ModelError, match="not a GGUF file"):
        add_model(not_gguf)

    bert = tmp_path / "encoder.gguf"  # a real, complete GGUF of an architecture transformers cannot convert
    writer = gguf_lib.GGUFWriter(str(bert), "bert")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelError) as err:
        add_model(bert)
    assert "'bert'" in err.value.message and "llama" in err.value.hint
    assert not any(models.iterdir()) if models.exists() else True  # nothing converted, nothing left behind
    assert [e.name for e in list_models()] == ["demo"]


def test_folders_that_are_not_models_are_named_with_the_reason(catalogue_home: Path, tmp_path: Path,
                                                               demo_model_dir: Path):
    import torch
    from safetensors.torch import save_file

    docs = tmp_path / "my documents"
    docs.mkdir()
    (docs / "notes.txt").write_text("hello")
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(docs)

    encoder = tmp_path / "bert"
    encoder.mkdir()
    (encoder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertForMaskedLM"]}))
    save_file({"w": torch.zeros(2, 2)}, str(encoder / "model.safetensors"))
    with pytest.raises(ModelError, match="BertForMaskedLM"):
        add_model(encoder)

    cut = tmp_path / "half copied"
    cut.mkdir()
    shutil.copy(demo_model_dir / "config.json", cut / "config.json")
    with open(demo_model_dir / "model.safetensors", "rb") as src:
        (cut / "model.safetensors").write_bytes(src.read(3_000_000))
    started = time.perf_counter()
    with pytest.raises(ModelError) as err:
        resolve_model(cut)
    assert "incomplete" in err.value.message and "of 538.1 MB" in err.value.message
    assert time.perf_counter() - started < 2

    no_weights = tmp_path / "config only"
    no_weights.mkdir()
    shutil.copy(demo_model_dir / "config.json", no_weights / "config.json")
    with pytest.raises(ModelError, match="no weights"):
        add_model(no_weights)
    assert [e.name for e in list_models()] == ["demo"]


def test_adapter_from_another_base_model_is_refused_before_merging(tmp_path: Path, demo_model_dir: Path):
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from core.chat import load_chat_model
    from core.store import RunDir, write_json

    other = LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, vocab_size=49152))
    run = RunDir(tmp_path / "run")
    get_peft_model(other, LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM")).save_pretrained(str(run.adapter))
    write_json(run.run_json, {"status": "finished", "model_path": str(demo_model_dir), "config": {"model": "demo"}})
    started = time.perf_counter()
    with pytest.raises(ModelError) as err:
        load_chat_model(run.root)
    assert "different base model" in err.value.message
    assert re.search(r"its model\.layers\.\d+\.\S+ has \d+ (inputs|outputs), but \S+ has \d+", err.value.message), \
        err.value.message
    assert "base model the adapter was trained on" in err.value.hint
    assert time.perf_counter() - started < 5  # decided from headers, before loading any weight


def test_model_without_chat_template_trains_and_chats_with_the_default(catalogue_home: Path, tmp_path: Path,
                                                                        demo_model_dir: Path):
    from core.chat import load_chat_model
    from core.pipeline import train
    from core.store import RunDir

    folder = _copy_model(demo_model_dir, tmp_path / "no-template")
    (folder / "chat_template.jinja").unlink()
    tok_config = json.loads((folder / "tokenizer_config.json").read_text())
    tok_config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_config))

    info = model_info(folder)
    assert not info.has_chat_template and info.chat_template_note == DEFAULT_TEMPLATE_NOTE
    entry = add_model(folder, name="plain")
    assert not entry.has_chat_template

    events: list = []
    config = quick_config(model="plain", max_steps=2, save_every=0, eval_every=0, qa_pairs=False, replay=False,
                          max_seq_len=96, batch_size=2)
    result = train([SAMPLE_DOCS], tmp_path / "run", config, on_event=events.append)
    assert result.status == "finished" and result.step == 2
    assert any(isinstance(e, Caution) and e.message == DEFAULT_TEMPLATE_NOTE for e in events)
    adapter = RunDir(tmp_path / "run").adapter
    assert (adapter / "chat_template.jinja").read_text() == DEFAULT_CHAT_TEMPLATE  # saved with the adapter

    tuned = load_chat_model(tmp_path / "run")
    assert tuned.tokenizer.chat_template == DEFAULT_CHAT_TEMPLATE  # chat uses what training used
    prompt = tuned.tokenizer.decode(tuned.prompt_ids([{"role": "user", "content": "Who founded Harbor Lane Bakery?"}]))
    assert prompt == "<|im_start|>user\nWho founded Harbor Lane Bakery?<|im_end|>\n<|im_start|>assistant\n"
    answer = tuned.ask("Who founded Harbor Lane Bakery?", SamplingSettings(max_new_tokens=16))
    assert answer.strip() and "<|im_start|>" not in answer


def test_two_processes_converting_the_same_gguf_convert_it_once(tmp_path: Path, monkeypatch):
    """The app's Model page and its training worker both resolve the demo model on a first run: the second
    waits for the first instead of converting too (twice the CPU for one result)."""
    import subprocess
    import sys
    import time

    from core.events import Progress
    from core.models.gguf import conversion_lock, convert_gguf, demo_gguf_path, gguf_cache_dir

    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "models"))
    target = gguf_cache_dir(demo_gguf_path())
    first = subprocess.Popen([sys.executable, "-c", "from core.models.gguf import convert_gguf, demo_gguf_path; "
                              "print(convert_gguf(demo_gguf_path()))"], env={**os.environ}, stdout=subprocess.PIPE,
                             text=True, cwd=Path(__file__).resolve().parent.parent)
    deadline = time.time() + 120
    while not conversion_lock(target).exists() and time.time() < deadline:  # the first one holds the lock
        time.sleep(0.05)
    events: list = []
    second = convert_gguf(demo_gguf_path(), on_event=events.append)
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0 and Path(out.strip()) == second == target
    said = [e.message for e in events if isinstance(e, Progress)]
    assert any(m.startswith("Waiting for another") for m in said) and not any("Converting" in m for m in said), said
    assert not list((tmp_path / "models").glob(".convert-*"))  # no second half-made copy left behind
