"""How much 4-bit (NF4) weights raise the demo model's loss, batch by batch: the figure behind
tests/test_training.py NF4_LOSS_TOLERANCE.

That test compares one run's first-batch loss under nf4 and bf16, and which batch comes first moves
with the dataset; this prints the spread over many batches of a prepared run's training set, so the
tolerance is set from it rather than from one batch. Usage:
    prepare RUN as tests/conftest.py quick_config does (core.pipeline.prepare_run on resources/sample_docs)
    python3 scripts/nf4_loss_spread.py RUN [--batches 16]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    import torch

    from core.dataset import load_examples
    from core.models import load_model, load_tokenizer, resolve_model
    from core.store import RunDir
    from core.training.data import batch_order, collate, encode

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--batches", type=int, default=16)
    args = parser.parse_args()
    demo = resolve_model("demo")
    tokenizer = load_tokenizer(demo)
    examples = load_examples(RunDir(args.run).train_file)
    encoded = [encode(tokenizer, ex.messages, 256) for ex in examples]
    order = [b for b in batch_order([len(e.input_ids) for e in encoded], 4, 7, 0)
             if any(label >= 0 for i in b for label in encoded[i].labels)][: args.batches]  # some answer tokens
    losses: dict[str, list[float]] = {}
    for precision in ("bf16", "nf4"):
        model = load_model(demo, precision, "cpu").eval()
        with torch.no_grad():
            losses[precision] = [float(model(**collate([encoded[i] for i in b], tokenizer.pad_token_id or 0)).loss)
                                 for b in order]
        del model
    raised = [n / b - 1 for b, n in zip(losses["bf16"], losses["nf4"])]
    for b, n, r in zip(losses["bf16"], losses["nf4"], raised):
        print(f"bf16 {b:.3f}  nf4 {n:.3f}  {r:+.1%}")
    print(f"nf4 raised the loss {min(raised):+.1%} to {max(raised):+.1%} over {len(raised)} batches")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
