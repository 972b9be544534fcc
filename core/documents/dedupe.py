"""Drop passages already seen, exactly or nearly, across all documents.

Training on the same paragraph many times (a disclaimer in every file, two
drafts of one memo) over-weights it and wastes steps. Exact duplicates are
found by a normalised-text hash; near duplicates by word 5-gram shingles and
Jaccard similarity >= `threshold`. Candidates come from a bottom-k sketch
(the k smallest shingle hashes): two passages with Jaccard 0.8 share one of
them with probability ~1 - 0.2**k, so each new passage is compared with a
handful of earlier ones instead of all of them — O(n) for a few thousand
passages. Hashes are blake2b, so results do not depend on PYTHONHASHSEED.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def exact_key(passage: str) -> str:
    """Case and whitespace do not make a passage different."""
    return " ".join(passage.casefold().split())


def shingles(passage: str, size: int = 5) -> frozenset[int]:
    """Hashes of the word `size`-grams (the whole passage if it is shorter)."""
    words = _WORD.findall(passage.casefold())
    if not words:
        return frozenset()
    if len(words) <= size:
        return frozenset({_hash(" ".join(words))})
    return frozenset(_hash(" ".join(words[i : i + size])) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Seen:
    """Where a kept passage came from, to tell the user what a drop duplicated."""

    source: str
    index: int  # order in which passages were kept (all documents)


class Deduplicator:
    """Feed passages in order with `check`; the first of each duplicate set is kept."""

    def __init__(self, threshold: float = 0.8, sketch_size: int = 8, max_candidates: int = 200) -> None:
        self.threshold = threshold
        self.sketch_size = sketch_size
        self.max_candidates = max_candidates
        self._exact: dict[int, int] = {}
        self._shingles: list[frozenset[int]] = []
        self._origin: list[Seen] = []
        self._buckets: dict[int, list[int]] = defaultdict(list)
        self.dropped = 0

    def check(self, passage: str, source: str = "") -> Seen | None:
        """None if `passage` is new (and remember it); else where it was seen first."""
        key = _hash(exact_key(passage))
        if key in self._exact:
            self.dropped += 1
            return self._origin[self._exact[key]]
        sh = shingles(passage)
        sketch = sorted(sh)[: self.sketch_size]
        match = self._near(sh, sketch)
        if match is not None:
            self.dropped += 1
            return self._origin[match]
        ident = len(self._shingles)
        self._exact[key] = ident
        self._shingles.append(sh)
        self._origin.append(Seen(source, ident))
        for h in sketch:
            self._buckets[h].append(ident)
        return None

    def _near(self, sh: frozenset[int], sketch: list[int]) -> int | None:
        if not sh:
            return None
        votes: dict[int, int] = defaultdict(int)
        for h in sketch:
            for ident in self._buckets.get(h, ()):
                votes[ident] += 1
        ranked = sorted(votes, key=votes.__getitem__, reverse=True)[: self.max_candidates]
        for ident in ranked:
            other = self._shingles[ident]
            small, large = sorted((len(sh), len(other)))
            if small < self.threshold * large:  # Jaccard <= |small| / |large|
                continue
            if jaccard(sh, other) >= self.threshold:
                return ident
        return None
