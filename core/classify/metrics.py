"""Validation metrics of a classifier: accuracy, macro-F1, per-label precision and recall, the confusion
matrix, and the rows it gets most wrong. scikit-learn computes them (its definitions are the ones people
compare against: macro-F1 is the unweighted mean of each label's F1, a label never predicted scores 0)."""

from __future__ import annotations

from typing import Any, Sequence

from core.events import ClassifierEval

WORST_ROWS = 50
"""How many validation rows the Try-it page lists as the model's worst: enough to spot mislabelled ones."""


def classifier_eval(step: int, labels: Sequence[str], truth: Sequence[int], predicted: Sequence[int]) -> ClassifierEval:
    """The metrics event for class indices `truth` vs `predicted` (indices into `labels`)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    ids = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=ids, zero_division=0)
    matrix = confusion_matrix(truth, predicted, labels=ids)
    present = [i for i in ids if support[i] > 0]  # a label with no validation rows cannot be measured
    macro = float(sum(f1[i] for i in present) / len(present)) if present else 0.0
    return ClassifierEval(step, float(accuracy_score(truth, predicted)) if len(truth) else 0.0, macro, tuple(labels),
                          tuple(float(p) for p in precision), tuple(float(r) for r in recall),
                          tuple(int(s) for s in support), tuple(tuple(int(v) for v in row) for row in matrix))


def worst_rows(texts: Sequence[str], truth: Sequence[int], probs: Any, labels: Sequence[str],
               lines: Sequence[int] | None = None, limit: int = WORST_ROWS) -> list[dict[str, Any]]:
    """Validation rows ordered by how little probability the model gave their own label (wrong ones first):
    where a label is most often simply wrong in the data."""
    order = sorted(range(len(texts)), key=lambda i: float(probs[i][truth[i]]))[:limit]
    out = []
    for i in order:
        guess = int(max(range(len(labels)), key=lambda k: float(probs[i][k])))
        out.append({"text": texts[i], "label": labels[truth[i]], "predicted": labels[guess],
                    "label_score": round(float(probs[i][truth[i]]), 4), "score": round(float(probs[i][guess]), 4),
                    "line": int(lines[i]) if lines is not None else None})
    return out


def describe(event: ClassifierEval) -> list[str]:
    """The metrics as lines of text: what the CLI prints."""
    lines = [f"accuracy {event.accuracy:.1%} · macro-F1 {event.macro_f1:.3f}"]
    width = max(len(label) for label in event.labels)
    for i, label in enumerate(event.labels):
        lines.append(f"  {label:<{width}}  precision {event.precision[i]:.2f}  recall {event.recall[i]:.2f}  "
                     f"({event.support[i]} rows)")
    return lines
