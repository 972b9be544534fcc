"""`tunedesk classify train|run|eval|export` — the labelled-rows task from a terminal.

Scripts depend on these forms (issue #17):
    tunedesk classify train DATA --text-column COL --label-column COL --out RUN [--model FOLDER] [--epochs N] [--max-steps N]
    tunedesk classify run RUN --in FILE --out FILE      every input row, its columns + predicted_label, score
    tunedesk classify eval RUN --in FILE --label-column COL   accuracy and macro-F1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.cli.console import ConsolePrinter, DownloadPrinter, stop_on_ctrl_c
from core.errors import TuneDeskError
from core.events import ClassifierEval, Event
from core.store import RunStatus


class ClassifyPrinter(ConsolePrinter):
    """The training printer, plus each validation check's accuracy and macro-F1."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, ClassifierEval):
            self._line(f"  step {event.step}: accuracy {event.accuracy:.1%} · macro-F1 {event.macro_f1:.3f}")
            return
        super().__call__(event)


def cmd_train(args: argparse.Namespace) -> int:
    from core.classify.config import ClassifyConfig
    from core.classify.metrics import describe
    from core.classify.prepare import prepare_classify_run
    from core.classify.train import train_classifier
    from core.events import from_dict

    out = Path(args.out)
    printer = ClassifyPrinter()
    stop = stop_on_ctrl_c()
    if not args.resume:
        if not args.data:
            raise TuneDeskError("No data file given.", "tunedesk classify train DATA.csv --text-column text "
                                                       "--label-column label --out my_run")
        values: dict[str, Any] = {"text_column": args.text_column, "label_column": args.label_column}
        for name in ("model", "epochs", "max_steps", "batch_size", "learning_rate", "max_length", "seed"):
            if getattr(args, name) is not None:
                values[name] = getattr(args, name)
        prepared = prepare_classify_run(args.data, out, ClassifyConfig(**values), on_event=printer)
        for line in prepared.report.summary():
            print(line, file=sys.stderr)
    result = train_classifier(out, on_event=printer, should_stop=stop.is_set, resume=args.resume)
    print(f"Run folder: {out}")
    records = [r for r in _metrics(out) if r.get("type") == "classify"]
    if result.status == RunStatus.FINISHED and records:
        record = {k: v for k, v in records[-1].items() if k != "type"}
        for line in describe(from_dict({"type": "ClassifierEval", **record})):  # type: ignore[arg-type]
            print(line)
    print(f"Steps: {result.step}/{result.total_steps} · {result.seconds / 60:.1f} min · "
          f"{result.rows_per_second:.1f} rows/s")
    return 0 if result.status == RunStatus.FINISHED else 3


def _metrics(run: Path) -> list[dict[str, Any]]:
    from core.store import RunDir

    return RunDir(run).read_metrics()


class RowsPrinter(DownloadPrinter):
    """A progress bar in rows for labelling a file (Progress ticks); every other event is a line."""

    def __call__(self, event: Event) -> None:
        from core.events import Progress

        if isinstance(event, Progress) and event.tick and event.total and self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=event.total, unit="row", file=sys.stderr, dynamic_ncols=True, desc="labelling")
        super().__call__(event)


def cmd_run(args: argparse.Namespace) -> int:
    from core.classify.predict import Classifier, classify_file

    printer = RowsPrinter()
    stop = stop_on_ctrl_c()
    n = classify_file(Classifier(args.run), args.input, args.out, text_column=args.text_column, on_event=printer,
                      should_stop=stop.is_set)
    printer.close()
    print(f"{n} rows written to {args.out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from core.classify.metrics import describe
    from core.classify.predict import Classifier, evaluate_file

    score = evaluate_file(Classifier(args.run), args.input, args.label_column, text_column=args.text_column)
    print(f"accuracy: {score.metrics.accuracy:.4f}")
    print(f"macro-F1: {score.metrics.macro_f1:.4f}")
    for line in describe(score.metrics)[1:]:
        print(line)
    print(f"{score.rows} rows scored" + (f", {score.skipped} without text or label skipped" if score.skipped else ""))
    if score.unknown_labels:
        unknown = ", ".join(f"{label} ({n})" for label, n in score.unknown_labels.items())
        print(f"Not scored, labels the model was not trained on: {unknown}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from core.classify.export import export_classifier

    check = export_classifier(args.run, args.out, on_event=ConsolePrinter())
    print(f"Exported to {check.folder}: pipeline(\"text-classification\") labels {check.same_labels}/{check.rows} "
          f"validation rows as the run does (largest score difference {check.max_score_difference:.1e}).")
    return 0


def add_parsers(sub: Any) -> None:
    """Mount `classify train|run|eval|export` on the `tunedesk` parser."""
    group = sub.add_parser("classify", help="label text: train a classifier on labelled rows, then label files")
    commands = group.add_subparsers(dest="classify_command", required=True)

    p = commands.add_parser("train", help="labelled rows (CSV, TSV, JSONL) → a trained classifier in a run folder")
    p.add_argument("data", nargs="?", help="the labelled file (not needed with --resume)")
    p.add_argument("--text-column", default="text", help="the column holding the text (default: text)")
    p.add_argument("--label-column", default="label", help="the column holding the label (default: label)")
    p.add_argument("--out", required=True, help="run folder to create (or continue with --resume)")
    p.add_argument("--model", help="'minilm' (built in, the default), an encoder or decoder folder, or a model name")
    p.add_argument("--epochs", type=float)
    p.add_argument("--max-steps", type=int, help="stop after N optimiser steps")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    adv = p.add_argument_group("advanced")
    adv.add_argument("--batch-size", type=int)
    adv.add_argument("--learning-rate", "--lr", dest="learning_rate", type=float)
    adv.add_argument("--max-length", type=int, help="longest text in tokens (longer ones are cut)")
    adv.add_argument("--seed", type=int)
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("run", help="label every row of a file into a CSV (its columns + predicted_label, score)")
    p.add_argument("run", help="a trained classify run folder")
    p.add_argument("--in", dest="input", required=True, help="CSV, TSV or JSONL file to label")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--text-column", help="the column to label (default: the one the run was trained on)")
    p.set_defaults(func=cmd_run)

    p = commands.add_parser("eval", help="accuracy and macro-F1 on a labelled file")
    p.add_argument("run", help="a trained classify run folder")
    p.add_argument("--in", dest="input", required=True, help="labelled CSV, TSV or JSONL file")
    p.add_argument("--label-column", required=True)
    p.add_argument("--text-column", help="the text column (default: the one the run was trained on)")
    p.set_defaults(func=cmd_eval)

    p = commands.add_parser("export", help="a merged transformers folder that pipeline('text-classification') loads")
    p.add_argument("run", help="a trained classify run folder")
    p.add_argument("--out", help="folder to write (default: RUN/exports/classifier)")
    p.set_defaults(func=cmd_export)
