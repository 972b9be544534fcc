"""Importing labelled rows: formats, encodings and headers sniffed; every bad input explained, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classify_data import write_tickets
from core.classify.config import ClassifyConfig
from core.classify.labelled import guess_columns, labelled_rows, stratified_split
from core.classify.prepare import load_labelled, prepare_classify_run
from core.classify.table import read_table
from core.errors import DataError


def test_excel_exports_are_read_with_their_encoding_delimiter_and_header(tmp_path: Path):
    # "CSV" from Excel on Windows: cp1252 and semicolons; "Unicode text": UTF-16 with tabs and a BOM.
    cp = tmp_path / "reviews.csv"
    cp.write_bytes("Bewertung;Stimmung\nSehr schön, gerne wieder;positiv\nZu teuer für das Geld;negativ\n"
                   "Großartig!;positiv\n".encode("cp1252"))
    table = read_table(cp)
    assert (table.delimiter, table.has_header, table.columns) == (";", True, ["Bewertung", "Stimmung"])
    assert table.rows[0] == ["Sehr schön, gerne wieder", "positiv"] and table.encoding.lower() != "utf-8"
    assert any("not UTF-8" in note for note in table.notes)

    utf16 = tmp_path / "export.txt"
    utf16.write_bytes("text\tlabel\nLove it, works great\tpos\nBroke in a week\tneg\n".encode("utf-16"))
    table = read_table(utf16)
    assert (table.delimiter, table.columns, table.rows[1]) == ("\t", ["text", "label"], ["Broke in a week", "neg"])


def test_a_file_without_header_row_and_jsonl(tmp_path: Path):
    bare = tmp_path / "bare.tsv"
    bare.write_text("The delivery came two days late and the box was crushed\tnegative\n"
                    "Lovely staff and the room was spotless\tpositive\n"
                    "Food was cold when it arrived\tnegative\n", encoding="utf-8")
    table = read_table(bare)
    assert not table.has_header and table.columns == ["column 1", "column 2"] and len(table.rows) == 3
    assert guess_columns(table) == ("column 1", "column 2") and table.first_line == 1

    lines = tmp_path / "rows.jsonl"
    lines.write_text('{"id": 1, "body": "Refund please", "team": "billing"}\n\n'
                     '{"id": 2, "body": "App crashes", "team": "tech", "extra": [1, 2]}\n', encoding="utf-8")
    table = read_table(lines)
    assert table.columns == ["id", "body", "team", "extra"] and table.rows[1] == ["2", "App crashes", "tech", "[1, 2]"]
    assert guess_columns(table) == ("body", "team")


def test_report_flags_empty_rows_duplicates_and_conflicting_labels(tmp_path: Path):
    path = tmp_path / "data.csv"
    path.write_text("text,label\n"
                    "great phone,pos\n"       # line 2
                    ",pos\n"                  # 3: no text
                    "awful battery,\n"        # 4: no label
                    "great phone,pos\n"       # 5: exact duplicate of 2
                    "it is fine,pos\n"        # 6: conflicts with 7
                    "it is fine,neg\n"        # 7
                    "screen cracked,neg\n"    # 8
                    "love the camera,pos\n", encoding="utf-8")
    data = load_labelled(path)
    report = data.report
    assert (report.rows, report.usable) == (8, 3)
    assert (report.empty_text_lines, report.empty_label_lines, report.duplicate_lines) == ([3], [4], [5])
    assert report.conflicts == 2 and report.conflict_examples[0] == {"text": "it is fine", "labels": {"pos": [6], "neg": [7]}}
    assert report.label_counts == {"pos": 2, "neg": 1}
    assert [e.line for e in data.examples] == [2, 8, 9]
    lines = report.summary()
    assert any("repeating an earlier row exactly" in line and "5" in line for line in lines)
    assert any("two labels" in line and "it is fine" in line for line in lines)


def test_stratified_split_keeps_every_label_measured(tmp_path: Path):
    data = load_labelled(write_tickets(tmp_path / "t.csv", per_label=20), "ticket", "team")
    rare = [e for e in data.examples if e.label == "billing"][:4]
    examples = [e for e in data.examples if e.label == "technical"] + rare
    train, val = stratified_split(examples, 0.15, seed=1)
    assert {e.label for e in val} == {"billing", "technical"}
    assert sum(e.label == "billing" for e in val) == 1 and len(val) == 1 + 3
    assert not {e.text for e in train} & {e.text for e in val}


@pytest.mark.parametrize("case", ["missing column", "one class", "unreadable", "too large", "workbook", "bad json",
                                  "binary"])
def test_each_bad_input_is_a_clear_error_and_writes_nothing(tmp_path: Path, case: str):
    good = write_tickets(tmp_path / "tickets.csv", per_label=5)
    config = ClassifyConfig(text_column="ticket", label_column="team")
    path, expected = good, ""
    if case == "missing column":
        config = ClassifyConfig(text_column="ticket", label_column="department")
        expected = "no column “department”"
    elif case == "one class":
        path = tmp_path / "one.csv"
        path.write_text("ticket,team\nrefund me,billing\ninvoice wrong,billing\n", encoding="utf-8")
        expected = "same label, “billing”"
    elif case == "unreadable":
        path = tmp_path / "locked.csv"
        path.write_text("ticket,team\n", encoding="utf-8")
        path.chmod(0)
        expected = "Could not read locked.csv" if not _root() else "ticket"  # root reads anything
        if _root():
            path = tmp_path / "gone.csv"
            expected = "does not exist"
    elif case == "too large":
        path = tmp_path / "huge.csv"
        with open(path, "wb") as f:  # a sparse 200 MB file: refused by its size, never read
            f.truncate(200 * 2**20)
        expected = "is 200 MB; TuneDesk reads labelled files up to 100 MB"
    elif case == "workbook":
        path = tmp_path / "book.xlsx"
        path.write_bytes(b"PK\x03\x04")
        expected = "spreadsheet workbook"
    elif case == "bad json":
        path = tmp_path / "rows.jsonl"
        path.write_text('{"ticket": "a", "team": "x"}\n{"ticket": "b", team: y}\n', encoding="utf-8")
        expected = "Line 2 of rows.jsonl is not valid JSON"
    elif case == "binary":
        path = tmp_path / "photo.csv"
        path.write_bytes(bytes(range(256)) * 40)
        expected = "not a text file"
    out = tmp_path / "run"
    with pytest.raises(DataError) as info:
        prepare_classify_run(path, out, config)
    assert expected in info.value.message and info.value.hint
    assert not out.exists()
    assert good.read_text(encoding="utf-8").count("\n") == 11  # the input itself is untouched


def test_missing_column_lists_the_columns_there_are(tmp_path: Path):
    table = read_table(write_tickets(tmp_path / "t.csv", per_label=3))
    with pytest.raises(DataError) as info:
        labelled_rows(table, "text", "team")
    assert "id, ticket, team" in info.value.hint


def test_prepared_run_folder(tmp_path: Path):
    prepared = prepare_classify_run(write_tickets(tmp_path / "t.csv", per_label=20), tmp_path / "run",
                                    ClassifyConfig(text_column="ticket", label_column="team"))
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["task"] == "classify" and meta["labels"] == ["billing", "technical"] and meta["status"] == "prepared"
    assert (prepared.train_rows, prepared.validation_rows) == (34, 6)


def _root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def test_metrics_match_scikit_learns_definitions():
    import random

    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score

    from core.classify.metrics import classifier_eval

    rng = random.Random(3)
    truth = [rng.choice([0, 0, 1, 2]) for _ in range(200)]
    predicted = [t if rng.random() < 0.6 else rng.choice([0, 1]) for t in truth]  # label 2 is never predicted
    event = classifier_eval(7, ["a", "b", "c"], truth, predicted)
    assert abs(event.accuracy - accuracy_score(truth, predicted)) < 1e-12
    assert abs(event.macro_f1 - f1_score(truth, predicted, average="macro", zero_division=0)) < 1e-12
    assert list(event.precision) == list(precision_score(truth, predicted, average=None, zero_division=0))
    assert list(event.recall) == list(recall_score(truth, predicted, average=None, zero_division=0))
    assert [list(r) for r in event.confusion] == confusion_matrix(truth, predicted).tolist()
