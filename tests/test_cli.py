"""The `tunedesk` command line, called as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from core.cli import main


def test_doctor_json(capsys):
    assert main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] in ("cpu", "cuda", "mps")
    assert data["training_precision"] in ("nf4", "bf16", "fp32", "fp16") and data["reason"]


def test_main_py_help_reaches_the_cli():
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("doctor", "train", "ask", "chat"):
        assert command in out.stdout


def test_a_command_prints_no_library_chatter():
    """`doctor` imports bitsandbytes, whose CPU backend asks the `kernels` package for a Hub kernel: offline, that
    logged 'Skipping publisher trust check for …' on every command, a line nobody can act on."""
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "doctor"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "4-bit" in out.stdout
    assert out.stderr.strip() == ""


def test_ask_writes_one_answer_per_question(trained_run: Path, tmp_path: Path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"q": "What is the capital of France?", "id": 1}\n\n{"q": "Who led the Velloran Expedition?"}\n')
    answers = tmp_path / "a.jsonl"
    assert main(["ask", str(trained_run), "--questions", str(questions), "--out", str(answers), "--base"]) == 0
    lines = [json.loads(l) for l in answers.read_text().splitlines()]
    assert [l["q"] for l in lines] == ["What is the capital of France?", "Who led the Velloran Expedition?"]
    assert lines[0]["id"] == 1 and "Paris" in lines[0]["answer"]
    assert all(l["answer"] for l in lines)


def test_errors_say_what_to_do(tmp_path: Path, trained_run: Path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "wrong key"}\n')
    assert main(["ask", str(trained_run), "--questions", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 1" in err and "What to do:" in err

    assert main(["ask", str(tmp_path), "--questions", str(bad)]) == 2
    assert "not a TuneDesk run folder" in capsys.readouterr().err

    assert main(["train", "--out", str(tmp_path / "r")]) == 2
    assert "No documents" in capsys.readouterr().err

    assert main(["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r2"), "--max-steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "What to do:" in err

    assert main(["train", str(tmp_path), "--out", str(tmp_path / "r3"), "--batch-size", "0", "--lr", "5",
                 "--anchor", "2"]) == 2
    err = capsys.readouterr().err
    assert "batch_size" in err and "learning_rate" in err and "anchor must be between 0 and 1" in err


def test_every_advanced_option_reaches_the_runs_settings():
    """Each option of `train`/`prepare` is a TrainConfig field: one the CLI parses and then drops (as
    --lora-alpha once was) would train another run than the one asked for, silently."""
    from core.cli import build_parser
    from core.cli.options import config_from_args

    given = {"--epochs": "2.5", "--lr": "0.001", "--batch-size": "3", "--max-seq-len": "200", "--lora-r": "4",
             "--lora-alpha": "64", "--precision": "fp32", "--anchor": "0.5", "--save-every": "7", "--eval-every": "9",
             "--seed": "11", "--compile": "off", "--max-steps": "13"}
    args = build_parser().parse_args(["train", "docs", "--out", "run", *[x for kv in given.items() for x in kv]])
    config = config_from_args(args)
    assert (config.epochs, config.learning_rate, config.batch_size, config.max_seq_len, config.lora_r,
            config.lora_alpha, config.precision, config.anchor, config.save_every, config.eval_every, config.seed,
            config.compile, config.max_steps) == (2.5, 0.001, 3, 200, 4, 64, "fp32", 0.5, 7, 9, 11, "off", 13)
    assert config.preset == "standard (customised)"


def test_cli_train_then_resume(tmp_path: Path, demo_model_dir: Path, capsys):
    from conftest import SAMPLE_DOCS

    out = tmp_path / "run"
    code = main(["train", str(SAMPLE_DOCS), "--out", str(out), "--preset", "quick", "--max-steps", "2",
                 "--save-every", "1", "--no-eval"])
    assert code == 0
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    assert main(["train", "--out", str(out), "--resume"]) == 2  # already finished: said, not redone
    assert "already finished" in capsys.readouterr().err


DOCUMENT_Q = "Who founded Harbor Lane Bakery?"
GENERAL_Q = "What is the capital of France?"


def _ask(run: Path, tmp_path: Path, capsys, *flags: str) -> dict[str, dict]:
    """`tunedesk ask RUN` on one document question and one general one, printed to stdout: {question: row}."""
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"q": DOCUMENT_Q}) + "\n" + json.dumps({"q": GENERAL_Q}) + "\n")
    capsys.readouterr()
    assert main(["ask", str(run), "--questions", str(questions), *flags]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return {row["q"]: row for row in rows}


def test_ask_routes_each_question_and_cites_passages_by_default(trained_run: Path, tmp_path: Path, capsys):
    rows = _ask(trained_run, tmp_path, capsys)
    about, general = rows[DOCUMENT_Q], rows[GENERAL_Q]
    assert about["answered_by"] == "tuned" and "Okonkwo" in about["answer"]
    assert about["sources"] and about["sources"][0]["document"] == "harbor_lane_bakery_handbook.md"
    scores = [s["score"] for s in about["sources"]]
    assert scores == sorted(scores, reverse=True) and all(isinstance(s["passage"], int) for s in about["sources"])
    assert general["answered_by"] == "original" and "Paris" in general["answer"]
    assert general["sources"] == []  # the original weights answered: nothing from the documents to cite


def test_ask_no_sources_answers_closed_book_with_the_same_routing(trained_run: Path, tmp_path: Path, capsys):
    rows = _ask(trained_run, tmp_path, capsys, "--no-sources")
    assert rows[DOCUMENT_Q]["answered_by"] == "tuned" and rows[DOCUMENT_Q]["sources"] == []
    assert rows[GENERAL_Q]["answered_by"] == "original" and rows[GENERAL_Q]["sources"] == []


def test_ask_always_tuned_sends_general_questions_to_the_tuned_weights_too(trained_run: Path, tmp_path: Path, capsys):
    rows = _ask(trained_run, tmp_path, capsys, "--always-tuned")
    assert rows[DOCUMENT_Q]["answered_by"] == "tuned" and rows[DOCUMENT_Q]["sources"]
    general = rows[GENERAL_Q]
    assert general["answered_by"] == "tuned"  # not the original weights, as by default
    assert general["sources"]  # treated as about the documents: given its nearest passages
