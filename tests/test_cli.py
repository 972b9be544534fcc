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

    assert main(["train", str(tmp_path), "--out", str(tmp_path / "r3"), "--batch-size", "0", "--lr", "5"]) == 2
    err = capsys.readouterr().err
    assert "batch_size" in err and "learning_rate" in err


def test_cli_train_then_resume(tmp_path: Path, demo_model_dir: Path, capsys):
    from conftest import SAMPLE_DOCS

    out = tmp_path / "run"
    code = main(["train", str(SAMPLE_DOCS), "--out", str(out), "--preset", "quick", "--max-steps", "2",
                 "--save-every", "1", "--no-eval"])
    assert code == 0
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    assert main(["train", "--out", str(out), "--resume"]) == 2  # already finished: said, not redone
    assert "already finished" in capsys.readouterr().err
