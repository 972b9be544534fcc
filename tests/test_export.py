"""Exports of a real trained run on the demo model: each format written, loaded back and checked.

The round trips are the product's own checks (core/export/verify.py); these tests assert that they ran, with
which figures, and read the files back themselves where a check could be fooled (GGUF metadata with
gguf.GGUFReader, the Modelfile's lines). The template translation is tested on the chat templates of the common
families, rendered by the demo tokenizer's Jinja.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from chat_templates import CHATML_NO_SYSTEM, FAMILIES
from core.errors import ConfigError, ModelError, TuneDeskError
from core.events import ExportCheck, Exported

LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None


@pytest.fixture(scope="session")
def export_run(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's trained run: exports write their records (and a reference cache) into it."""
    target = tmp_path_factory.mktemp("export-runs") / "sample"
    shutil.copytree(trained_run, target)
    return target


def _export(run: Path, fmt: str, out: Path, quant: str | None = None, **kw):
    from core.export import export_run

    events: list = []
    result = export_run(run, fmt, out, quant, on_event=events.append, **kw)
    return result, events


def _check(result, words: str) -> ExportCheck:
    return next(c for c in result.checks if words in c.name)


# Templates: every family translates, and the check compares real strings ---------------------------------------

def _render(tokenizer, template):
    return lambda messages, gen: tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False,
                                                               add_generation_prompt=gen)


@pytest.mark.parametrize("family", sorted(FAMILIES) + ["smollm2"])
def test_each_template_family_becomes_an_ollama_template_that_renders_the_same(tokenizer, family):
    from core.export.ollama import check_template, go_template, read_turns

    template = tokenizer.chat_template if family == "smollm2" else FAMILIES[family]
    render = _render(tokenizer, template)
    turns = read_turns(render, tokenizer.bos_token, template)  # what Jinja writes for {{ bos_token }}
    result = check_template(go_template(turns), render, turns, turns.default_system)
    assert result.passed, (result.jinja, result.go)
    assert "What is the capital of France?" in result.go and "And what is the capital of Spain?" in result.go
    if family in ("gemma2", "mistral", "chatml-no-system"):
        assert turns.system_prefix is None and turns.default_system is None  # no system role
    if family == "smollm2":
        assert turns.default_system == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
        assert turns.user_prefix == "<|im_start|>user\n" and turns.assistant_suffix == "<|im_end|>\n"


def test_a_template_that_moves_the_system_prompt_is_refused(tokenizer):
    from core.export.ollama import read_turns

    folded = ("{% for message in messages %}{% if message['role'] == 'user' and loop.last and messages[0]['role'] == "
              "'system' %}{{ '[INST] ' + messages[0]['content'] + '\\n\\n' + message['content'] + ' [/INST]' }}"
              "{% elif message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
              "{% elif message['role'] == 'assistant' %}{{ message['content'] + '</s>' }}{% endif %}{% endfor %}")
    with pytest.raises(ModelError) as err:
        read_turns(_render(tokenizer, folded), tokenizer.bos_token, folded)
    assert "cannot be turned into an Ollama TEMPLATE" in err.value.message and "gguf" in err.value.hint


def test_the_go_interpreter_sees_a_template_that_differs(tokenizer):
    """The check renders the TEMPLATE text itself: a trim marker that eats a piece's newline fails it."""
    from core.export.ollama import check_template, go_template, read_turns

    render = _render(tokenizer, tokenizer.chat_template)
    turns = read_turns(render, tokenizer.bos_token, tokenizer.chat_template)
    good = go_template(turns)
    assert check_template(good, render, turns, turns.default_system).passed
    broken = good.replace('{{ "<|im_end|>\\n" }}', '{{ "<|im_end|>" }}\n', 1)
    result = check_template(broken, render, turns, turns.default_system)
    assert not result.passed and result.jinja != result.go
    assert not check_template(good, render, turns, None).passed  # without the default SYSTEM it differs too


# Formats --------------------------------------------------------------------------------------------------------

def test_merged_export_loads_in_plain_transformers_with_the_same_answers(export_run, tmp_path):
    out = tmp_path / "merged"
    result, events = _export(export_run, "merged", out)
    check = _check(result, "merged model")
    assert result.passed and check.passed, check
    assert check.detail.startswith("4/4 greedy answers identical")
    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
            "chat_template.jinja"} <= set(result.files)
    generation = json.loads((out / "generation_config.json").read_text())
    assert generation["eos_token_id"] == 2  # <|im_end|>: the end of a turn, so generate() stops
    assert (out / "chat_template.jinja").read_text() == (export_run / "adapter" / "chat_template.jinja").read_text()
    # Streamed: the private memory the merge adds stays far below one fp32 copy of the model (538 MB).
    model_bytes = (out / "model.safetensors").stat().st_size
    assert result.added_private_gb * 2**30 < 0.5 * model_bytes, result.summary()
    print(result.summary())
    assert any(isinstance(e, Exported) and e.passed for e in events)
    record = json.loads(Path(result.record).read_text())
    assert record["passed"] and record["format"] == "merged" and record["checks"][0]["detail"] == check.detail
    assert not list(out.glob(".tunedesk-export-*"))  # the hidden work folder is gone


@pytest.fixture(scope="module")
def f16_export(export_run, tmp_path_factory):
    """One f16 GGUF export of the run, read by the tests below."""
    out = tmp_path_factory.mktemp("f16") / "gguf"
    result, _ = _export(export_run, "gguf", out, "f16")
    return out, result


def _f16_reference(export_run):
    """The reference the f16 check compares with, from the export's cache: the tuned model's answers in full
    precision and with its weights rounded to f16 as the file stores them; and how many of the 4 answers that
    rounding alone changes (a near-tie, which the training data decides)."""
    from core.export import verify
    from core.export.base import base_for_export
    from core.models import load_tokenizer
    from core.models.identity import model_fingerprint

    base = base_for_export(export_run)
    cached = json.loads((export_run / "exports" / "reference.json").read_text())
    ref = verify.reference(export_run, base, load_tokenizer(export_run / "adapter"), cached["key"]["eos"],
                           model_fingerprint(base), f16=True)
    assert ref.f16_answers is not None and len(ref.f16_answers) == 4
    return ref, sum(int(a != b) for a, b in zip(ref.f16_answers, ref.answers))


def test_gguf_f16_export_round_trips_through_transformers(export_run, f16_export):
    from gguf import GGUFReader

    out, result = f16_export
    check = _check(result, "f16 GGUF")
    assert check.passed and check.detail.startswith("4/4 greedy answers identical"), check
    # Teacher-forced on the full-precision answers, the file agrees on every token unless rounding to f16 flips a
    # near-tie in one of them (the training data decides: session 46's question mends gave the sample run one),
    # and then the check says how many it changes.
    _, rounding = _f16_reference(export_run)
    if rounding:
        assert f"rounding to f16 alone changes {rounding} of the 4 answers" in check.detail, check
    else:
        assert "token agreement 100.0%" in check.detail and "rounding" not in check.detail, check
    llama_cpp = _check(result, "llama-cpp-python")
    if LLAMA_CPP:  # llama.cpp itself loads the file and every answer ends by itself
        assert llama_cpp.passed and llama_cpp.detail == "4/4 prompts answered, 4/4 stopped by themselves", llama_cpp
    else:
        assert llama_cpp.passed is None and llama_cpp.detail == "skipped: llama-cpp-python not installed"
    assert result.passed
    (name,) = result.files
    reader = GGUFReader(out / name)

    def field(key):
        f = reader.fields[key]
        return f.contents()

    assert field("general.architecture") == "llama" and field("tokenizer.ggml.model") == "gpt2"
    # GPT-2's split is "gpt-2" to llama.cpp (llama-vocab.cpp), so to Ollama too: it refuses to load "gpt2".
    assert field("tokenizer.ggml.pre") == "gpt-2"
    assert field("tokenizer.ggml.eos_token_id") == 2 and field("tokenizer.ggml.bos_token_id") == 1
    assert field("tokenizer.ggml.eot_token_id") == 2 and field("tokenizer.ggml.add_bos_token") is False
    assert field("tokenizer.chat_template") == (export_run / "adapter" / "chat_template.jinja").read_text()
    assert len(field("tokenizer.ggml.tokens")) == 49152 and len(field("tokenizer.ggml.merges")) > 40000
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    assert types["blk.0.attn_q.weight"] == "F16" and types["blk.0.attn_norm.weight"] == "F32"
    assert len(types) == 272  # every tensor of the demo model (its output layer is the tied embedding)


def test_the_f16_check_holds_the_file_to_the_tuned_models_f16_twin(export_run, f16_export):
    """Rounding to f16 can flip a near-tie in the full-precision model's greedy answer (it did, in CI, for a run
    whose adapter moved a little): the file is then still a faithful export, and the check passes and says so,
    because it compares with the tuned weights rounded as the file stores them, which it reproduces bit for bit."""
    from core.export import verify

    out, result = f16_export
    ref, rounding = _f16_reference(export_run)  # the export's own, from its cache
    # A full-precision answer that rounding leaves alone goes another way at its third word: a near-tie flipped.
    i = next(k for k, (a, b) in enumerate(zip(ref.f16_answers, ref.answers)) if a == b)
    ref.answers[i] = ref.answers[i][:2] + [ref.answers[i][2] + 1] + ref.answers[i][3:]
    check = verify.check_gguf(out / next(iter(result.files)), "f16", ref)
    assert check.passed, check
    assert f"rounding to f16 alone changes {rounding + 1} of the 4 answers" in check.detail, check


def test_a_gguf_written_without_llamas_query_key_reordering_fails_its_check(export_run, tmp_path, monkeypatch):
    """The classic conversion bug (llama.cpp's rope wants q/k rows reordered): the file loads, the tokenizer and
    template are right, and its answers are wrong, so the check fails and the file stays for inspection."""
    from core.export import gguf_file

    monkeypatch.setattr(gguf_file, "_permute", lambda weights, n_head: weights)
    out = tmp_path / "gguf"
    result, _ = _export(export_run, "gguf", out, "f16")
    check = _check(result, "f16 GGUF")
    assert check.passed is False and not result.passed, check
    assert check.detail.startswith("0/4 greedy answers identical"), check
    assert (out / next(iter(result.files))).is_file()


def test_a_q4_0_gguf_with_the_rope_bug_falls_below_the_agreement_floor(export_run, tmp_path, monkeypatch):
    """A quantised file cannot match word for word, so its check is a floor on token agreement; the floor must sit
    below faithful files (72-93% on six adapters) and above the classic bug (28% on the sample run)."""
    from core.export import gguf_file

    monkeypatch.setattr(gguf_file, "_permute", lambda weights, n_head: weights)
    result, _ = _export(export_run, "gguf", tmp_path / "gguf", "q4_0")
    check = _check(result, "q4_0 GGUF")
    assert check.passed is False and not result.passed, check


@pytest.mark.skipif(not LLAMA_CPP, reason="needs llama-cpp-python (CMAKE_BUILD_PARALLEL_LEVEL=1 pip install llama-cpp-python)")
def test_a_gguf_llama_cpp_cannot_load_fails_its_check_with_llama_cpps_reason(export_run, tmp_path, monkeypatch):
    """A file llama.cpp refuses (here: a pre-tokenizer name it does not know, what every export wrote before this
    test) is a failed check that says why in llama.cpp's words, not a traceback; the file and the other checks stay."""
    from core.export import gguf_file

    monkeypatch.setattr(gguf_file, "_pre_tokenizer", lambda tokenizer_json: "gpt2")
    out = tmp_path / "gguf"
    result, _ = _export(export_run, "gguf", out, "f16")
    llama_cpp = _check(result, "llama-cpp-python")
    assert llama_cpp.passed is False
    assert llama_cpp.detail.startswith("llama.cpp could not load the file: ") and "pre-tokenizer type: 'gpt2'" in \
        llama_cpp.detail, llama_cpp
    assert _check(result, "f16 GGUF").passed  # transformers' reader does not check the name
    assert not result.passed and (out / next(iter(result.files))).is_file()


def test_ollama_export_of_a_run_whose_template_has_no_system_role(export_run, tmp_path):
    """A run trained with a chat template that refuses a system message: the Modelfile has no SYSTEM, and its
    TEMPLATE, read back from the file, renders the three-turn conversation as the Jinja template does."""
    from core.export.ollama import read_modelfile

    run = tmp_path / "no-system-run"
    shutil.copytree(export_run, run, ignore=shutil.ignore_patterns("exports"))
    (run / "adapter" / "chat_template.jinja").write_text(CHATML_NO_SYSTEM)
    out = tmp_path / "ollama"
    result, _ = _export(run, "ollama", out, "q4_0")
    template_check = _check(result, "Modelfile TEMPLATE")
    assert template_check.passed and "three-turn conversation rendered identically (1 variant)" in template_check.detail
    gguf_check = _check(result, "q4_0 GGUF")
    assert gguf_check.passed, gguf_check  # token agreement above the q4_0 floor, with the same template and tokens
    print(gguf_check.detail)
    assert result.passed and set(result.files) == {"Modelfile", "tunedesk-no-system-run-q4_0.gguf"}
    modelfile = read_modelfile(out / "Modelfile")
    assert modelfile["from"] == "./tunedesk-no-system-run-q4_0.gguf" and modelfile["system"] is None
    assert modelfile["stop"] == ["<|im_end|>", "<|im_start|>"]
    assert result.command == f'ollama create tunedesk-no-system-run -f "{out / "Modelfile"}"'
    assert result.files["tunedesk-no-system-run-q4_0.gguf"] < 0.4 * 2 * 135e6  # 4-bit: well under the f16 size


def test_adapter_export_from_the_command_line(export_run, tmp_path, capsys):
    from core.cli import main

    out = tmp_path / "adapter"
    assert main(["export", str(export_run), "--format", "adapter", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "✓ adapter loaded with peft onto the base model: 4/4 greedy answers identical" in printed.err
    assert "adapter export passed" in printed.out and "Recorded in" in printed.out
    from core.evaluation.summary import export_outlook

    outlook = export_outlook(export_run)  # how an export answers everyday questions on its own, from the report
    assert outlook in printed.out
    record = printed.out.split("Recorded in ")[1].strip()
    assert json.loads(Path(record).read_text())["outlook"] == outlook
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["r"] == json.loads((export_run / "adapter" / "adapter_config.json").read_text())["r"]
    assert (out / "tokenizer.json").is_file() and (out / "chat_template.jinja").is_file()
    # The folder already holds an export: a second one into it is refused, and nothing is overwritten.
    before = (out / "adapter_model.safetensors").stat().st_mtime_ns
    assert main(["export", str(export_run), "--format", "adapter", "--out", str(out)]) == 2
    assert "already holds" in capsys.readouterr().err
    assert (out / "adapter_model.safetensors").stat().st_mtime_ns == before


# Refusals ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> Path:
    """A different (tiny, random) llama model with the demo tokenizer: a real model folder, not the run's base."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("other-model")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    LlamaForCausalLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(demo_model_dir)).save_pretrained(folder)
    return folder


def test_export_with_another_base_model_is_refused(export_run, other_model, tmp_path, capsys):
    from core.cli import main

    out = tmp_path / "out"
    with pytest.raises(ModelError) as err:
        _export(export_run, "merged", out, model=str(other_model))
    assert "trained on another base model" in err.value.message and str(other_model) in err.value.message
    assert not out.exists() or not any(out.iterdir())
    assert main(["export", str(export_run), "--format", "gguf", "--out", str(out), "--model", str(other_model)]) == 2
    assert "Error: This run was trained on another base model" in capsys.readouterr().err


def test_an_export_into_a_file_says_it_needs_a_folder(export_run, tmp_path, capsys):
    from core.cli import main

    target = tmp_path / "model.gguf"
    target.write_text("mine")
    assert main(["export", str(export_run), "--format", "gguf", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"Error: {target} is a file, not a folder" in err and "Choose a folder for the export" in err, err
    assert target.read_text() == "mine"  # the user's file is untouched


def test_an_export_of_a_folder_that_is_no_trained_run_says_which_it_is(export_run, tmp_path, capsys):
    """A mistyped path is not a run 'with no adapter yet'; a run still training (or stopped before its first
    adapter) is: each is told what it is, and nothing is written."""
    from core.cli import main

    out = tmp_path / "out"
    for folder in (tmp_path / "no-such-run", tmp_path):
        assert main(["export", str(folder), "--format", "adapter", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"Error: {folder} is not a TuneDesk run folder (no run.json)." in err, err
    untrained = tmp_path / "untrained"
    shutil.copytree(export_run, untrained, ignore=shutil.ignore_patterns("exports", "adapter"))
    assert main(["export", str(untrained), "--format", "gguf", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"Error: The run in {untrained} has no trained adapter yet" in err and "Finish (or resume)" in err, err
    assert not out.exists()


def test_export_after_the_base_model_changed_is_refused(export_run, tmp_path):
    """run.json records which weights the adapter was trained on; a base folder that holds others is refused."""
    run = tmp_path / "changed-base"
    shutil.copytree(export_run, run, ignore=shutil.ignore_patterns("exports"))
    meta = json.loads((run / "run.json").read_text())
    assert len(meta["base_fingerprint"]) == 16  # recorded at preparation
    meta["base_fingerprint"] = "0123456789abcdef"  # as if the folder's weights were replaced since
    (run / "run.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError) as err:
        _export(run, "adapter", tmp_path / "out")
    assert "trained on another base model" in err.value.message and "0123456789abcdef" in err.value.message


def test_gguf_refuses_an_architecture_it_does_not_write(other_model, tmp_path):
    from core.export.gguf_file import SUPPORTED_WORDS, plan_gguf

    gpt2 = tmp_path / "gpt2"
    shutil.copytree(other_model, gpt2)
    config = json.loads((gpt2 / "config.json").read_text())
    config.update(architectures=["GPT2LMHeadModel"], model_type="gpt2")
    (gpt2 / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError) as err:
        plan_gguf(gpt2, gpt2)
    assert err.value.message == f"GGUF export supports {SUPPORTED_WORDS}; this model is GPT2LMHeadModel."
    assert "merged" in err.value.hint
    plan_gguf(other_model, other_model)  # the llama one is accepted


def test_bad_requests_list_every_problem():
    from core.export.runner import check_request

    with pytest.raises(ConfigError) as err:
        check_request("merged", "q5_k")
    assert len(err.value.problems) == 2
    assert check_request("ollama", None) == "f16" and check_request("adapter", None) is None
    assert isinstance(err.value, TuneDeskError)


def test_llama_cpp_log_capture_works_in_a_program_without_stderr(tmp_path: Path) -> None:
    """A windowed program (pythonw, the frozen app on Windows) has no descriptor 2 and sys.stderr is None: the
    capture around llama.cpp's load must still work there, keeping what Python writes, not raise."""
    import subprocess
    import sys

    script = tmp_path / "no_stderr.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
        "from core.export.verify import _stderr_captured\n"
        "os.close(2)\n"
        "sys.stderr = None\n"
        "with _stderr_captured() as said:\n"
        "    print('llama.cpp said: unknown pre-tokenizer', file=sys.stderr)\n"
        "    kept = said()\n"
        "print('kept:', kept.strip())\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kept: llama.cpp said: unknown pre-tokenizer" in done.stdout
