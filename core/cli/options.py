"""The options that describe a run (documents, model, preset, settings): `train` and `prepare` take the same ones.

Apart from both commands' modules (core/cli/training.py, core/cli/scale.py) so that neither imports the other
for them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.training.config import CHOICES


def config_from_args(args: argparse.Namespace) -> Any:
    """The TrainConfig the options of add_run_options ask for: a preset, then what was given."""
    from core.training.config import preset_config

    preset = args.preset or "standard"
    overrides: dict[str, Any] = {"model": args.model or "demo"}
    for name in ("max_steps", "epochs", "batch_size", "max_seq_len", "precision", "learning_rate", "lora_r",
                 "lora_alpha", "anchor", "save_every", "eval_every", "seed", "compile"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if args.lora_r is not None and args.lora_alpha is None:
        overrides["lora_alpha"] = 2 * args.lora_r
    config = preset_config(preset, **overrides)
    if any(k not in ("model",) for k in overrides):
        config.preset = preset if len(overrides) == 1 else f"{preset} (customised)"
    return config


def add_run_options(p: Any) -> None:
    """The documents and settings of a run: `train` and `prepare` take the same ones (core/cli/scale.py)."""
    p.add_argument("documents", nargs="*", help="files or folders (.txt .md .pdf .docx .html)")
    p.add_argument("--out", help="run folder to create (or continue with --resume)")
    # No defaults here ("demo", "standard" in config_from_args): `train --run` refuses what was given.
    p.add_argument("--model", help="'demo' (built in, the default), a model folder, a .gguf file, or a name from "
                                   "`tunedesk models list`")
    p.add_argument("--preset", choices=["quick", "standard", "thorough"], help="standard when not given")
    p.add_argument("--max-steps", type=int, help="stop after N optimiser steps")
    p.add_argument("--questions", metavar="FILE",
                   help="your own questions, each with what a right answer contains: JSON lines "
                        '({"q": ..., "a": [...]}) or CSV rows (question, right answer, ...); kept in the run, asked '
                        'by its "did it learn?" check and reported apart')
    adv = p.add_argument_group("advanced")
    adv.add_argument("--epochs", type=float)
    adv.add_argument("--learning-rate", "--lr", dest="learning_rate", type=float)
    adv.add_argument("--batch-size", type=int, help="examples per step, shared out over the processes of a torchrun")
    adv.add_argument("--max-seq-len", type=int)
    adv.add_argument("--lora-r", "--rank", dest="lora_r", type=int)
    adv.add_argument("--lora-alpha", type=int)
    adv.add_argument("--precision", choices=CHOICES["precision"])
    adv.add_argument("--anchor", type=float,
                     help="0 to 1: the tuned model keeps more of what it knew on its own (an export), at some cost "
                          "to learning your facts; 0, the default, is off (the app's \"Hold on to what it knew\")")
    adv.add_argument("--save-every", type=int)
    adv.add_argument("--eval-every", type=int)
    adv.add_argument("--seed", type=int)
    adv.add_argument("--compile", choices=CHOICES["compile"],
                     help="torch.compile the layers on a CPU: ~8%% faster steps after a 10-40 s compile (auto: runs of 150+ steps)")


def questions_from_args(args: argparse.Namespace) -> list[Any] | None:
    """--questions, read before any work: a file that cannot be checked stops the command here, not after an hour of
    training. None when not given."""
    if not getattr(args, "questions", None):
        return None
    from core.evaluation.own_questions import read_question_file

    return read_question_file(args.questions)


def keep_questions(run: Path, questions: list[Any] | None) -> None:
    """Keep --questions in the run folder once the command has made it, so its check (and the app's) asks them."""
    if questions is None or not run.is_dir():
        return
    from core.evaluation.own_questions import save_own_questions

    print(f"Your questions are kept in {save_own_questions(run, questions)}")
