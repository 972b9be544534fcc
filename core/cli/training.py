"""`tunedesk doctor|train|eval` — what this machine has, training a run, and its "did it learn?" report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.cli.console import ConsolePrinter, stop_on_ctrl_c
from core.cli.finish import report_and_summary
from core.cli.options import add_run_options, config_from_args, keep_questions, questions_from_args
from core.errors import TuneDeskError


def cmd_doctor(args: argparse.Namespace) -> int:
    from core.device import choose_precision, detect

    info = detect()
    choice = choose_precision(info, 135_000_000)
    if args.json:
        print(json.dumps({**info.to_dict(), "training_precision": choice.precision, "reason": choice.reason}, indent=2))
    else:
        print(info.describe())
        print(f"Training:      {choice.precision} — {choice.reason} (for the demo model)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from core.pipeline import train

    if args.run:
        from core.cli.scale import train_prepared

        return train_prepared(args)
    if args.fsdp:
        raise TuneDeskError("--fsdp shares one run's model over the processes of a launch, and applies to --run only.",
                            "Prepare the run (tunedesk prepare DOCS --out RUN), then: torchrun --nproc_per_node=N "
                            "--no-python -- tunedesk train --run RUN --fsdp")
    if not args.out:
        raise TuneDeskError("No run folder given.", "Name one: tunedesk train my_docs/ --out my_run "
                            "(or tunedesk train --run RUN for a folder made by tunedesk prepare)")
    out = Path(args.out)
    if not args.resume and not args.documents:
        raise TuneDeskError("No documents given.", "Name files or folders: tunedesk train my_docs/ --out my_run")
    questions = questions_from_args(args)
    stop = stop_on_ctrl_c()
    printer = ConsolePrinter()
    config = None if args.resume and (out / "run.json").is_file() else config_from_args(args)
    result = train(args.documents, out, config, on_event=printer, should_stop=stop.is_set, resume=args.resume)
    keep_questions(out, questions)
    return report_and_summary(out, result, args.no_eval, printer, stop.is_set)


def cmd_eval(args: argparse.Namespace) -> int:
    from core.evaluation.report import evaluate_run, format_report

    if args.questions:  # kept in the run: the app's report asks them too, and the next check again
        if not Path(args.run).is_dir():
            raise TuneDeskError(f"No run folder at {args.run}.", "Name a run folder made by tunedesk train.")
        keep_questions(Path(args.run), questions_from_args(args))
    report = evaluate_run(args.run, on_event=ConsolePrinter(), general=not args.no_general)
    print(format_report(report))
    print(f"Written to {Path(args.run) / 'report.json'}")
    return 0


def add_parsers(sub: Any) -> None:
    """Mount `doctor`, `train` and `eval` on the `tunedesk` parser."""
    p = sub.add_parser("doctor", help="what this machine has: CUDA / MPS / CPU, memory, bf16, 4-bit support")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("train", help="read documents, build a dataset and train an adapter into a run folder")
    add_run_options(p)
    p.add_argument("--run", help="train a run folder made by `tunedesk prepare` (or continue it from its newest "
                                 "checkpoint); runs unchanged under torchrun and accelerate launch")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    p.add_argument("--no-eval", action="store_true", help='skip the "did it learn?" report at the end')
    p.add_argument("--fsdp", action="store_true",
                   help="with --run under torchrun: shard the model over the processes while training (FSDP: each "
                        "holds about 1/N; each still loads it whole first); accelerate launch --use_fsdp asks the same")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help='"did it learn?": held-out fact recall and a general check, base vs tuned')
    p.add_argument("run", help="run folder")
    p.add_argument("--no-general", action="store_true", help="skip the general-knowledge check")
    p.add_argument("--questions", metavar="FILE",
                   help="your own questions, each with what a right answer contains: JSON lines "
                        '({"q": ..., "a": [...]}) or CSV rows (question, right answer, ...); kept in the run, '
                        "asked and reported apart")
    p.set_defaults(func=cmd_eval)
