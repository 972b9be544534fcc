"""The trained classifier as a plain transformers folder, checked by loading it back.

The adapter is merged into the base weights and saved with the tokenizer and the
label names (config.json's id2label), so `pipeline("text-classification",
model=FOLDER)` loads it with no TuneDesk and no peft. An export that has not been
loaded back and shown to label the validation rows as the app does is not
finished: the check runs the pipeline on them and compares with the run's own
predictions, and its result is saved beside the folder.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from core.classify.predict import Classifier
from core.errors import ModelError
from core.events import OnEvent, Progress, Stage, ignore_event
from core.store import RunDir, read_jsonl, write_json
from core.training.checkpoints import as_disk_error

CHECK_ROWS = 64
SCORE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class ExportCheck:
    folder: str
    rows: int
    same_labels: int
    max_score_difference: float

    @property
    def ok(self) -> bool:
        return self.rows > 0 and self.same_labels == self.rows and self.max_score_difference <= SCORE_TOLERANCE


def export_classifier(run: Path | str, out: Path | str | None = None, on_event: OnEvent = ignore_event) -> ExportCheck:
    """Write RUN/exports/classifier (or `out`) and verify it; raises ModelError when the reload disagrees."""
    run = Path(run)
    target = Path(out) if out else RunDir(run).root / "exports" / "classifier"
    on_event(Progress(Stage.LOAD_MODEL, "Merging the adapter into the encoder…"))
    classifier = Classifier(run)
    tmp = target.with_name(f".{target.name}-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        classifier.model.save_pretrained(str(tmp))
        classifier.tokenizer.save_pretrained(str(tmp))
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        error = as_disk_error(exc, "Could not write the export")
        if error is None:
            raise
        raise error from exc
    on_event(Progress(Stage.EVALUATE, "Loading the export back with transformers' pipeline to check it…"))
    check = verify_export(target, classifier)
    write_json(target.parent / f"{target.name}.check.json", {**asdict(check), "ok": check.ok})
    if not check.ok:
        raise ModelError(f"The exported classifier labels {check.rows - check.same_labels} of {check.rows} rows "
                         f"differently than the run (largest score difference {check.max_score_difference:.4f}).",
                         "Report this as a bug; the run itself is unchanged and still usable.")
    return check


def verify_export(folder: Path, classifier: Classifier) -> ExportCheck:
    """Label up to CHECK_ROWS validation rows with the pipeline and with the run's classifier; compare."""
    from transformers import pipeline

    rows = read_jsonl(RunDir(classifier.run).validation_file)[:CHECK_ROWS]
    if not rows:
        rows = read_jsonl(RunDir(classifier.run).train_file)[:CHECK_ROWS]
    texts = [r["text"] for r in rows]
    pipe = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device="cpu")
    theirs = pipe(texts, truncation=True, max_length=classifier.max_length, batch_size=16)
    ours = classifier.predict(texts)
    same = sum(1 for a, b in zip(theirs, ours) if a["label"] == b.label)
    diff = max((abs(a["score"] - b.score) for a, b in zip(theirs, ours)), default=0.0)
    return ExportCheck(str(folder), len(texts), same, float(diff))


def exported_labels(folder: Path) -> list[str]:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
