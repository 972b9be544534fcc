"""The classifier's model: an encoder (or decoder) with a classification head, LoRA on its layers.

transformers' AutoModelForSequenceClassification puts the head on (BERT: the
pooler's [CLS] vector → a linear layer; a decoder: its last token's state), so
the merged export is exactly what `pipeline("text-classification")` loads. peft's
SEQ_CLS task trains the head in full beside the LoRA adapters; the pooler is
trained in full too, since all-MiniLM-L6-v2 was tuned for mean pooling and its
[CLS] pooler was never trained for labels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.classify.config import ClassifyConfig
from core.errors import ModelError
from core.models.catalog import find_model
from core.models.encoder import ENCODER, encoder_dir
from core.models.folders import check_model_folder

ENCODER_TARGETS = r".*(encoder|layer|layers)\.\d+\..*(query|key|value|dense|q_lin|k_lin|v_lin|out_lin|lin1|lin2)$"
"""Every attention and feed-forward linear of a BERT-family encoder, not the pooler's own `dense`."""


def resolve_classifier_model(spec: str | Path) -> Path:
    """'minilm', a folder, or a catalogue name → a checked model folder that takes a classification head."""
    if str(spec) == ENCODER:
        return encoder_dir()
    path = Path(spec).expanduser()
    if not path.exists():
        entry = find_model(str(spec))
        if entry is None:
            raise ModelError(f"Model not found: {spec}",
                             "Give 'minilm' (built in), a model folder, or a name from `tunedesk models list`.")
        path = Path(entry.path)
    check_model_folder(path, causal=False)
    return path


def is_encoder(model_dir: Path) -> bool:
    """An encoder (BERT and kin): no causal-LM class for its type. Decoders get LoRA on all linear layers."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return config.get("model_type") not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES


def load_tokenizer(model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token is None:  # decoders often ship none; a batch needs one
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_for_training(model_dir: Path, labels: list[str], config: ClassifyConfig, pad_token_id: int) -> Any:
    """The base model with a fresh head for `labels` and LoRA adapters, in fp32 (a 22M encoder is small)."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(config.seed)  # the head's initial weights: part of what makes a run repeat
    model = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)}, dtype=torch.float32)
    model.config.pad_token_id = pad_token_id
    encoder = is_encoder(model_dir)
    extra = ["pooler"] if encoder and hasattr(getattr(model, "bert", None), "pooler") else []
    lora = LoraConfig(task_type=TaskType.SEQ_CLS, r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout,
                      target_modules=ENCODER_TARGETS if encoder else "all-linear", modules_to_save=extra or None)
    return get_peft_model(model, lora)


def load_trained(run_root: Path, device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer) of a trained run: its base model with the adapter merged in, ready to predict."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    adapter = run_root / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise ModelError(f"{run_root} has no trained classifier yet (no adapter).",
                         "Train it first (tunedesk classify train …), or resume it if it was stopped.")
    meta = json.loads((run_root / "run.json").read_text(encoding="utf-8"))
    labels = meta["labels"]
    model_dir = Path(meta.get("model_path") or resolve_classifier_model(meta["config"]["model"]))
    if not model_dir.is_dir():
        model_dir = resolve_classifier_model(meta["config"]["model"])
    tokenizer = load_tokenizer(adapter if (adapter / "tokenizer_config.json").is_file() else model_dir)
    base = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)}, dtype=torch.float32)
    base.config.pad_token_id = tokenizer.pad_token_id
    model = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    return model.to(device).eval(), tokenizer
