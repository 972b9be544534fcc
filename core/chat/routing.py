"""Which questions the tuned weights answer: those about the user's documents.

A small model fine-tuned on a few documents learns their facts, but it also
learns to answer *every* question in their confident style: on
bench/recall.py the tuned demo model's general accuracy fell from 87.5% to
68.8% ("The Red Planet is Kepler-185p"), and neither replay data nor a
weaker adapter (scale 0.7: recall 62%, general 62%) kept it. So the chat
routes each question instead: the passage index that already finds the
sources (all-MiniLM-L6-v2, cosine similarity) says how close the question is
to the documents; close questions go to the tuned weights (with their
passages, when sources are on), the rest to the original weights, which
answer general questions as well as they did before training.

The threshold is calibrated per run from data the run already has: the
questions it was trained on (about the documents) against the replay prompts
(general). On the benchmark documents they separate widely (document
questions ≥ 0.46, general ≤ 0.31), and the threshold sits between them.
A follow-up that points back ("When did it open?", "And the café?") is
scored together with the previous question, so it stays with the documents
the conversation is about; a question that stands on its own is scored alone.

Similarity alone misses questions that only name something: "Tell me about
Beatrix Molnar" scores 0.09 against the passage that names her (a name is a
small part of a 200-token passage's embedding). So a question that names a
word the documents use as a name — capitalised inside a sentence, never
written in lower case there, not a word of the general prompts, and not a
whole word in the encoder's 30k-word vocabulary ("Molnar", "Wickerby"; not
"History", "Street") — is about the documents too, whatever its score.

The passages are written in the documents' words, not a question's, so one
more check: a question close enough to a passage but closer still to one of
the run's general (replay) questions than to any of its document questions is
general after all. "Which planet is known as the Red Planet?" scores above the
threshold against an observatory's passages, but its nearest training question
is "Which planet is closest to the Sun?" (0.62), not any question about the
observatory (0.30). On run C's benchmark: 0 of 29 document questions and 0 of
48 general ones misrouted with this check, 1 of 48 general ones without it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from core.chat.grounding import run_statements
from core.dataset import load_examples
from core.dataset.replay import replay_prompts
from core.errors import TuneDeskError
from core.retrieval import PassageIndex, Source
from core.store import RunDir, write_json

ROUTING_FILE = "routing.json"
DEFAULT_THRESHOLD = 0.38
"""Used when a run has no generated questions to calibrate on (question writing switched off)."""
THRESHOLD_RANGE = (0.25, 0.5)
"""Outside this band, MiniLM cosine similarity stops meaning 'same topic' / 'different topic'."""


@dataclass(frozen=True)
class Route:
    about_documents: bool
    """True: the tuned weights answer (with passages when sources are on); False: the original weights."""
    score: float
    """Best cosine similarity between the question and a passage."""
    passages: list[Source] = field(default_factory=list)
    """The best passages, most similar first."""


_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]")


def document_names(texts: list[str], common: list[str], vocabulary: Any = ()) -> frozenset[str]:
    """Lower-cased words the documents use only as names ("Molnar", "Wickerby"), minus words of `common`
    and of `vocabulary` (ordinary words that also start names: "Valley", "Museum")."""
    capitalised: set[str] = set()
    lower: set[str] = set()
    for text in texts:
        for sentence in re.split(r"(?<=[.!?:;])\s+|\n+", text):
            for n, match in enumerate(_WORD.finditer(sentence)):
                word = match.group()
                if word[0].isupper():
                    if n > 0 and len(word) >= 4 and not word.isupper():
                        capitalised.add(word.lower())
                else:
                    lower.add(word.lower())
    ordinary = {w.group().lower() for text in common for w in _WORD.finditer(text)}
    return frozenset(w for w in capitalised - lower - ordinary if w not in vocabulary)


_POINTS_BACK = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there)\b"
                          r"|^\s*(and|what about|how about)\b", re.IGNORECASE)


def named_in(question: str, names: frozenset[str]) -> list[str]:
    return [w.group() for w in _WORD.finditer(question) if w.group().lower() in names]


@dataclass
class Router:
    index: PassageIndex
    threshold: float = DEFAULT_THRESHOLD
    names: frozenset[str] = frozenset()
    about_vectors: Any = None
    """Embeddings of the run's questions about its documents (its Q&A prompts)."""
    general_vectors: Any = None
    """Embeddings of its general questions (the replay prompts)."""
    everything: bool = False
    """Every question is about the documents: the router only finds passages (`--always-tuned`)."""
    statements: tuple[str, ...] = ()
    """The documents' statements the run's questions were trained to answer (core/chat/grounding.py)."""
    _vectors: dict[str, Any] = field(default_factory=dict, repr=False)
    """Embeddings of the texts this session has compared (statements, questions, drafts): each is encoded once."""

    @classmethod
    def for_run(cls, run_path: Path | str, index: PassageIndex | None = None) -> "Router":
        """The run's router, calibrated on first use and remembered in routing.json."""
        run = RunDir(run_path)
        index = index or PassageIndex.for_run(run.root)
        examples = _examples(run)
        questions, general = _calibration_questions(examples)
        statements = run_statements(examples)
        names = document_names([c["text"] for c in index.chunks], general, index.encoder.tokenizer.get_vocab())
        about = index.encoder.encode(questions) if questions else None
        known = index.encoder.encode(general) if general else None
        path = run.root / ROUTING_FILE
        if path.is_file():
            try:
                threshold = float(json.loads(path.read_text(encoding="utf-8"))["threshold"])
                return cls(index, threshold, names, about, known, statements=statements)
            except (ValueError, KeyError, TypeError):
                pass  # damaged: calibrate again
        # Questions that name a document name are routed by it; the threshold is for the rest.
        unnamed = [i for i, q in enumerate(questions) if not named_in(q, names)]
        threshold, figures = calibrate(index, about[unnamed] if unnamed else None, known)
        try:
            write_json(path, {"threshold": threshold, **figures})
        except (OSError, TuneDeskError):  # a read-only or full run folder: calibrate again next time
            pass
        return cls(index, threshold, names, about, known, statements=statements)

    def similarity(self, question: str, texts: Sequence[str]) -> list[float]:
        """Cosine similarity of a question (or an answer) to each text."""
        q = self._embedded([question])[0]
        return [float(v @ q) for v in self._embedded(texts)]

    def _embedded(self, texts: Sequence[str]) -> list[Any]:
        """Each text's embedding, kept for the session: the question route() found passages for is ranked
        against statements next, and the same statements come back turn after turn."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.index.encoder.encode(missing)))
        return [self._vectors[t] for t in texts]

    def route(self, question: str, previous: str | None = None, k: int = 2) -> Route:
        vector = self._embedded([question])[0]
        passages = self.index.nearest(vector, k=k)
        score = passages[0].score if passages else 0.0
        if previous and score < self.threshold and _POINTS_BACK.search(question):  # a follow-up leans on the one before
            joined_vector = self.index.encoder.encode([f"{previous} {question}"])[0]
            joined = self.index.nearest(joined_vector, k=k)
            if joined and joined[0].score > score:
                passages, score, vector = joined, joined[0].score, joined_vector
        if self.everything or named_in(question, self.names):
            return Route(True, score, passages)
        about = score >= self.threshold
        if about and self.about_vectors is not None and self.general_vectors is not None:
            about = float((self.about_vectors @ vector).max()) >= float((self.general_vectors @ vector).max())
        return Route(about, score, passages)


def calibrate(index: PassageIndex, about_documents: Any, general: Any) -> tuple[float, dict[str, Any]]:
    """The threshold inside THRESHOLD_RANGE that misroutes the smallest share of each set (balanced:
    the replay prompts outnumber the document questions left once names route theirs); the middle
    of the best stretch when several tie. The sets come embedded (Router.for_run keeps them).
    Returns (threshold, figures for routing.json)."""
    if about_documents is None or general is None or not len(about_documents) or not index.chunks:
        return DEFAULT_THRESHOLD, {"calibrated": False}
    docs = (about_documents @ index.vectors.T).max(dim=1).values
    gen = (general @ index.vectors.T).max(dim=1).values
    low, high = THRESHOLD_RANGE
    grid = [round(low + i * 0.01, 2) for i in range(int(round((high - low) / 0.01)) + 1)]
    errors = [float((docs < t).float().mean() + (gen >= t).float().mean()) for t in grid]
    least = min(errors)
    best_ones = [t for t, e in zip(grid, errors) if e <= least + 1e-9]
    threshold = best_ones[len(best_ones) // 2]
    return threshold, {"calibrated": True, "document_questions": len(about_documents),
                       "general_questions": len(general),
                       "document_misrouted": round(float((docs < threshold).float().mean()), 3),
                       "general_misrouted": round(float((gen >= threshold).float().mean()), 3)}


def _examples(run: RunDir) -> list[Any]:
    """The run's training and validation examples (none where question writing was off or the files are gone)."""
    return [e for path in (run.train_file, run.validation_file) if path.is_file() for e in load_examples(path)]


def _calibration_questions(examples: Sequence[Any]) -> tuple[list[str], list[str]]:
    """The run's own questions: Q&A examples (about the documents) and replay prompts (general), from its
    training and validation sets both (the more questions, the steadier the threshold: with a few short documents
    the ones left once names route theirs are about twenty, so one question moved the misrouted share by 5%).
    Not key wordings: a few rare words with no sentence around them are a training aid, not how questions come in.
    Each as a person asks it (Example.asked): without the document's subject its training wording leads with
    ("Harbor Lane Bakery, Staff: …"); led, the sample run's threshold rose from 0.26 to 0.31 and 2 of 8 document
    questions in plain words went to the original weights, against 1 without the lead."""
    about, general = [], []
    for example in examples:
        if not example.question:
            continue
        if example.kind == "qa" and not example.key_wording:
            about.append(example.asked)
        elif example.kind == "replay":
            general.append(example.question)
    if not general:
        general = replay_prompts()
    return about, general
