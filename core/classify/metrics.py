"""Validation metrics of a classifier: accuracy, macro-F1, per-label precision and recall, the confusion
matrix, and the rows it gets most wrong. All from the confusion matrix, with scikit-learn's definitions
(macro-F1 is the unweighted mean of each label's F1; a label never predicted has precision 0). Computed
here rather than by scikit-learn because the installed app leaves scikit-learn and scipy out (packaging/
tunedesk.spec); tests/test_classify_data.py holds these figures to scikit-learn's on the same predictions."""

from __future__ import annotations

from typing import Any, Sequence

from core.events import ClassifierEval

WORST_ROWS = 50
"""How many validation rows the Try-it page lists as the model's worst: enough to spot mislabelled ones."""


def classifier_eval(step: int, labels: Sequence[str], truth: Sequence[int], predicted: Sequence[int]) -> ClassifierEval:
    """The metrics event for class indices `truth` vs `predicted` (indices into `labels`)."""
    k = len(labels)
    matrix = [[0] * k for _ in range(k)]
    for t, p in zip(truth, predicted):
        matrix[t][p] += 1
    support = [sum(row) for row in matrix]
    called = [sum(matrix[i][j] for i in range(k)) for j in range(k)]
    precision = [matrix[j][j] / called[j] if called[j] else 0.0 for j in range(k)]
    recall = [matrix[i][i] / support[i] if support[i] else 0.0 for i in range(k)]
    f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall)]
    present = [i for i in range(k) if support[i] > 0]  # a label with no validation rows cannot be measured
    macro = sum(f1[i] for i in present) / len(present) if present else 0.0
    accuracy = sum(matrix[i][i] for i in range(k)) / len(truth) if len(truth) else 0.0
    return ClassifierEval(step, accuracy, macro, tuple(labels), tuple(precision), tuple(recall), tuple(support),
                          tuple(tuple(row) for row in matrix))


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
