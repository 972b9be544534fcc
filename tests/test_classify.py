"""The classify task end to end with the real encoder: training learns, files keep their rows, stop and
resume continue exactly, the export loads with transformers' pipeline, and the CLI's exact forms work."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from classify_data import ticket_rows, write_tickets
from core.classify.config import ClassifyConfig
from core.classify.prepare import prepare_classify_run
from core.classify.train import train_classifier
from core.cli import main
from core.events import ClassifierEval, StepMetrics
from core.runs import run_state
from core.store import RunDir, RunStatus


def test_training_rises_above_chance_on_a_separable_set(classify_run: Path):
    result = json.loads((classify_run / "eval.json").read_text())
    assert result["labels"] == ["billing", "technical"]
    assert result["accuracy"] >= 0.85 and result["macro_f1"] >= 0.85  # chance is 0.5 on these balanced labels
    assert sum(map(sum, result["confusion"])) == sum(result["support"]) == 12
    checks = [r for r in RunDir(classify_run).read_metrics() if r["type"] == "classify"]
    assert len(checks) == 4 and checks[-1]["accuracy"] == result["accuracy"]  # one per epoch, in metrics.jsonl
    assert run_state(classify_run).status is RunStatus.FINISHED and run_state(classify_run).has_adapter


def test_classify_run_writes_every_row_in_input_order(classify_run: Path, tmp_path: Path, capsys):
    source = tmp_path / "new.csv"
    rows = [(f"T-{i}", text, "x") for i, (text, _team) in enumerate(ticket_rows(15, seed=5))]
    rows.insert(7, ("T-empty", "", "y"))  # a row with no text keeps its place, unlabelled
    with open(source, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ref", "ticket", "note"])
        writer.writerows(rows)
    out = tmp_path / "labelled.csv"
    assert main(["classify", "run", str(classify_run), "--in", str(source), "--out", str(out)]) == 0
    with open(out, encoding="utf-8", newline="") as f:
        written = list(csv.reader(f))
    assert written[0] == ["ref", "ticket", "note", "predicted_label", "score"]
    assert [r[:3] for r in written[1:]] == [list(r) for r in rows]
    assert written[8][3:] == ["", ""]
    truth = dict(ticket_rows(15, seed=5))
    labelled = [r for r in written[1:] if r[1]]
    assert all(r[3] in ("billing", "technical") and 0.5 <= float(r[4]) <= 1.0 for r in labelled)
    assert sum(r[3] == truth[r[1]] for r in labelled) >= 0.85 * len(labelled)


def test_classify_eval_prints_accuracy_and_macro_f1(classify_run: Path, tmp_path: Path, capsys):
    data = write_tickets(tmp_path / "held_out.csv", per_label=12, seed=9)
    capsys.readouterr()
    assert main(["classify", "eval", str(classify_run), "--in", str(data), "--label-column", "team"]) == 0
    printed = capsys.readouterr().out.splitlines()
    accuracy = float(next(l for l in printed if l.startswith("accuracy:")).split()[1])
    f1 = float(next(l for l in printed if l.startswith("macro-F1:")).split()[1])
    assert accuracy >= 0.85 and f1 >= 0.85


def test_export_loads_with_pipeline_and_labels_as_the_run(classify_run: Path, tmp_path: Path):
    from transformers import pipeline

    from core.classify.export import export_classifier, exported_labels

    check = export_classifier(classify_run, tmp_path / "exported")
    assert check.ok and check.rows == 12
    assert exported_labels(tmp_path / "exported") == ["billing", "technical"]
    assert not list((tmp_path / "exported").glob("adapter_*"))  # merged: a plain transformers folder
    pipe = pipeline("text-classification", model=str(tmp_path / "exported"))
    assert pipe("Hello team, I was charged twice for my subscription!")[0]["label"] == "billing"


def test_stop_then_resume_continues_exactly(tmp_path: Path):
    data = write_tickets(tmp_path / "t.csv", per_label=16)
    config = ClassifyConfig(text_column="ticket", label_column="team", max_steps=6, epochs=0, batch_size=8,
                            save_every=0, val_fraction=0.2)

    def losses(events: list) -> dict[int, float]:
        return {e.step: e.loss for e in events if isinstance(e, StepMetrics)}

    prepare_classify_run(data, tmp_path / "whole", config)
    whole: list = []
    train_classifier(tmp_path / "whole", on_event=whole.append)

    prepare_classify_run(data, tmp_path / "parts", config)
    first: list = []
    stopped = train_classifier(tmp_path / "parts", on_event=first.append,
                               should_stop=lambda: any(isinstance(e, StepMetrics) and e.step == 3 for e in first))
    state = run_state(tmp_path / "parts")
    assert stopped.status is RunStatus.STOPPED and state.resumable and state.checkpoint_step == 3
    second: list = []
    resumed = train_classifier(tmp_path / "parts", on_event=second.append, resume=True)
    assert resumed.status is RunStatus.FINISHED and resumed.step == 6
    assert sorted(losses(first)) == [1, 2, 3] and sorted(losses(second)) == [4, 5, 6]
    joined = {**losses(first), **losses(second)}
    assert all(abs(joined[s] - losses(whole)[s]) < 1e-4 for s in range(1, 7)), (joined, losses(whole))
    final = [e for e in second if isinstance(e, ClassifierEval)][-1]
    assert final.accuracy == [e for e in whole if isinstance(e, ClassifierEval)][-1].accuracy
