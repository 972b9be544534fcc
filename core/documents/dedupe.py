"""Drop passages already seen, exactly or nearly, across all documents.

Training on the same paragraph many times (a disclaimer in every file, two
drafts of one memo) over-weights it and wastes steps. Exact duplicates are
found by a normalised-text hash; near duplicates by word 5-gram shingles and
Jaccard similarity >= `threshold`. Candidates come from a bottom-k sketch
(the k smallest shingle hashes): two passages with Jaccard 0.8 share one of
them with probability ~1 - 0.2**k, so each new passage is compared with a
handful of earlier ones instead of all of them. Hashes are blake2b, so
results do not depend on PYTHONHASHSEED.

Boilerplate would make that quadratic: when every file carries the same
disclaimer, every passage's smallest hashes are the disclaimer's and every
bucket holds every passage (5,000 templated files took ~10 s, 20,000 minutes).
So a bucket stops growing at `bucket_cap` entries — a shingle that common says
nothing about which passage is a copy, like a stop word — and a passage is
indexed under, and also looks up, the k smallest hashes whose buckets are not
full, i.e. its distinctive text. The work per passage is bounded by
2·k·bucket_cap whatever came before.

Shingle sets are kept as sorted uint64 arrays (8 bytes a shingle instead of
~70 in a frozenset): a 20 MB text file holds ~3 million of them.
"""

from __future__ import annotations

import hashlib
import re
from array import array
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


@dataclass(frozen=True)
class Seen:
    """Where a kept passage came from, to tell the user what a drop duplicated."""

    source: str
    index: int  # order in which passages were kept (all documents)


class Deduplicator:
    """Feed passages in order with `check`; the first of each duplicate set is kept."""

    def __init__(self, threshold: float = 0.8, sketch_size: int = 8, max_candidates: int = 200,
                 bucket_cap: int = 64) -> None:
        self.threshold = threshold
        self.sketch_size = sketch_size
        self.max_candidates = max_candidates
        self.bucket_cap = bucket_cap
        self._exact: dict[int, int] = {}
        self._shingles: list[array] = []
        self._origin: list[Seen] = []
        self._buckets: dict[int, list[int]] = defaultdict(list)
        self.dropped = 0
        self.lookups = 0  # bucket entries visited, all checks together: the cost that must stay linear

    def check(self, passage: str, source: str = "") -> Seen | None:
        """None if `passage` is new (and remember it); else where it was seen first."""
        key = _hash(exact_key(passage))
        if key in self._exact:
            self.dropped += 1
            return self._origin[self._exact[key]]
        sh = shingles(passage)
        ordered = sorted(sh)
        sketch = ordered[: self.sketch_size]
        distinctive = [h for h in ordered if len(self._buckets.get(h, ())) < self.bucket_cap][: self.sketch_size]
        match = self._near(sh, set(sketch) | set(distinctive))
        if match is not None:
            self.dropped += 1
            return self._origin[match]
        ident = len(self._shingles)
        self._exact[key] = ident
        self._shingles.append(array("Q", ordered))
        self._origin.append(Seen(source, ident))
        for h in distinctive:
            self._buckets[h].append(ident)
        return None

    def _near(self, sh: frozenset[int], lookup: set[int]) -> int | None:
        if not sh:
            return None
        votes: dict[int, int] = defaultdict(int)
        for h in lookup:
            bucket = self._buckets.get(h, ())
            self.lookups += len(bucket)
            for ident in bucket:
                votes[ident] += 1
        ranked = sorted(votes, key=votes.__getitem__, reverse=True)[: self.max_candidates]
        for ident in ranked:
            other = self._shingles[ident]
            small, large = sorted((len(sh), len(other)))
            if small < self.threshold * large:  # Jaccard <= |small| / |large|
                continue
            common = len(sh.intersection(other))
            if common / (len(sh) + len(other) - common) >= self.threshold:
                return ident
        return None
