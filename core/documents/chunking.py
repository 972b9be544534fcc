"""Pack one document's passages into chunks that fit the model's context.

Chunks end at sentence boundaries, so a training example never starts or
stops mid-thought; a sentence longer than the budget is the only thing split
(by words, and a single giant "word" by characters). The last sentences of a
chunk are repeated at the start of the next (about `overlap_tokens`), so a
fact that straddles a boundary is seen whole at least once. Sizes are
measured with the caller's `count_tokens` (the model's tokenizer), and every
finished chunk is measured again as a whole, because a tokenizer's count of
joined text can differ from the sum of its parts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from core.documents.elements import Element, render
from core.errors import ConfigError

CountTokens = Callable[[str], int]

_SENTENCE = re.compile(r"(?<=[.!?…。])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")


def estimate_tokens(text: str) -> int:
    """Rough token count with no tokenizer: ~1.3 tokens a word.

    Also at least one token per 4 non-space characters, so text without spaces
    (CJK, a long URL) is not counted as a single 'word'.
    """
    words = len(text.split())
    chars = len(text) - text.count(" ")
    return math.ceil(max(words * 1.3, chars / 4))


def split_sentences(passage: str) -> list[str]:
    """Sentence ends: . ! ? followed by space and a capital or digit."""
    return [s.strip() for s in _SENTENCE.split(passage) if s.strip()]


@dataclass(frozen=True)
class _Unit:
    text: str
    tokens: int
    passage: int  # which passage it came from, to rejoin with a paragraph break


def check_budget(chunk_tokens: int, overlap_tokens: int) -> None:
    problems = []
    if chunk_tokens < 8:
        problems.append(f"chunk size must be at least 8 tokens (got {chunk_tokens})")
    if overlap_tokens < 0:
        problems.append(f"overlap must not be negative (got {overlap_tokens})")
    elif overlap_tokens >= max(chunk_tokens, 1) // 2 and overlap_tokens > 0:
        problems.append(f"overlap ({overlap_tokens}) must be less than half the chunk size ({chunk_tokens})")
    if problems:
        raise ConfigError(problems)


def chunk_passages(
    passages: list[str],
    count_tokens: CountTokens = estimate_tokens,
    chunk_tokens: int = 256,
    overlap_tokens: int = 32,
) -> list[str]:
    """Return chunk texts, each with count_tokens(text) <= chunk_tokens."""
    check_budget(chunk_tokens, overlap_tokens)
    units = _units(passages, count_tokens, chunk_tokens)
    chunks: list[str] = []
    carried: list[_Unit] = []
    i = 0
    while i < len(units):
        current = list(carried)
        total = sum(u.tokens for u in current)
        while current and total + units[i].tokens > chunk_tokens:  # overlap must leave room
            total -= current.pop(0).tokens
        start = len(current)  # current[start:] are new units
        while i < len(units) and total + units[i].tokens <= chunk_tokens:
            total += units[i].tokens
            current.append(units[i])
            i += 1
        text = _render(current)
        while count_tokens(text) > chunk_tokens:  # the whole can count more than its parts
            if len(current) - start > 1:
                current.pop()
                i -= 1
            elif start > 0:
                current.pop(0)
                start -= 1
            else:
                break  # one unit, already measured alone within budget
            text = _render(current)
        chunks.append(text)
        carried = _tail(current[start:], overlap_tokens)
    return chunks


def _units(passages: list[str], count: CountTokens, budget: int) -> list[_Unit]:
    units: list[_Unit] = []
    for p, passage in enumerate(passages):
        for sentence in split_sentences(passage):
            n = count(sentence)
            if n <= budget:
                units.append(_Unit(sentence, n, p))
            else:
                units.extend(_Unit(piece, count(piece), p) for piece in split_to_fit(sentence, count, budget))
    return units


def _render(units: list[_Unit]) -> str:
    out = ""
    for k, unit in enumerate(units):
        if k:
            out += "\n\n" if unit.passage != units[k - 1].passage else " "
        out += unit.text
    return out


def _tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """The trailing units that fit in `overlap` tokens (whole sentences only)."""
    tail: list[_Unit] = []
    size = 0
    for unit in reversed(units):
        if size + unit.tokens > overlap:
            break
        tail.insert(0, unit)
        size += unit.tokens
    return tail


def split_to_fit(text: str, count: CountTokens, budget: int) -> list[str]:
    """Split an over-long sentence into word runs (or character runs) within budget.

    Each piece is found by galloping from a window of `budget` words (a token
    rarely spans more than one word) and then a binary search inside it, so the
    work is proportional to the piece, not to what is left of the sentence: a
    20 MB text with no sentence ends used to take hours (quadratic).
    """
    pieces: list[str] = []
    words = text.split()
    start = 0
    while start < len(words):
        n = _longest_fitting(len(words) - start, budget,
                             lambda k: count(" ".join(words[start : start + k])) <= budget)
        if n == 0:  # one word alone is over budget: cut it by characters
            word, at = words[start], 0
            while at < len(word):
                m = max(1, _longest_fitting(len(word) - at, budget, lambda k: count(word[at : at + k]) <= budget))
                pieces.append(word[at : at + m])
                at += m
            start += 1
            continue
        pieces.append(" ".join(words[start : start + n]))
        start += n
    return pieces


def _longest_fitting(n: int, window: int, fits: Callable[[int], bool]) -> int:
    """Largest k in [0, n] with fits(k) (fits monotone), probing no further than twice the answer."""
    hi = min(n, max(1, window))
    while hi < n and fits(hi):
        hi = min(n, hi * 2)
    return _longest_prefix(hi, fits)


def _longest_prefix(n: int, fits: Callable[[int], bool]) -> int:
    """Largest k in [0, n] with fits(k), assuming fits is monotone (binary search)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def chunk_elements(
    elements: Sequence[Element],
    count_tokens: CountTokens = estimate_tokens,
    chunk_tokens: int = 256,
    overlap_tokens: int = 32,
) -> list[str]:
    """Pack a document's elements into passages, each opening with the heading path it sits under.

    A passage is what retrieval puts in front of the model and what the model recites, so it
    must be readable alone: a table row without its section, or a bullet list without its
    heading, answers nothing. Each element is one line (elements.render); a section too long
    for one passage continues in the next under the same heading line, with its last lines
    repeated (about `overlap_tokens`) so nothing is cut off from its neighbours. Small sections
    share a passage, each with its own heading line.
    """
    check_budget(chunk_tokens, overlap_tokens)
    sections: list[tuple[str, list[str]]] = []
    for el in elements:
        header = " › ".join(el.headings)
        if el.kind == "heading":
            if not sections or sections[-1][0] != header or sections[-1][1]:
                sections.append((header, []))
            continue
        if not sections or sections[-1][0] != header:
            sections.append((header, []))
        sections[-1][1].append(render(el))
    chunks: list[str] = []
    current: list[str] = []
    for header, lines in sections:
        if not lines:
            continue
        head_tokens = count_tokens(header) if header else 0
        if head_tokens > chunk_tokens // 3:  # a deep or wordy heading path: its last heading says enough
            header = header.rsplit(" › ", 1)[-1]
            head_tokens = count_tokens(header)
            if head_tokens > chunk_tokens // 3:
                header, head_tokens = "", 0
        budget = max(8, chunk_tokens - head_tokens - 1)
        units = [piece for line in lines for piece in _line_units(line, count_tokens, budget)]
        carried: list[_Unit] = []
        i = 0
        while i < len(units):
            block = [header] if header else []
            body = list(carried)
            total = sum(u.tokens for u in body)
            while i < len(units) and (not body or total + units[i].tokens <= budget):
                body.append(units[i])
                total += units[i].tokens
                i += 1
            text = "\n".join(block + [u.text for u in body])
            merged = "\n\n".join(current + [text]) if current else text
            if current and count_tokens(merged) <= chunk_tokens and not carried:
                current.append(text)
            else:
                if current:
                    chunks.append("\n\n".join(current))
                current = [text]
            # The new lines' tail, never their first: the next passage must move on.
            carried = _tail(body[len(carried) + 1:], overlap_tokens) if i < len(units) else []
    if current:
        chunks.append("\n\n".join(current))
    return [c for c in chunks if c.strip()]


def _line_units(line: str, count: CountTokens, budget: int) -> list[_Unit]:
    """One element's line, whole when it fits; else its sentences, and a sentence too long by words."""
    n = count(line)
    if n <= budget:
        return [_Unit(line, n, 0)]
    out: list[_Unit] = []
    for sentence in split_sentences(line) or [line]:
        m = count(sentence)
        if m <= budget:
            out.append(_Unit(sentence, m, 0))
        else:
            out.extend(_Unit(piece, count(piece), 0) for piece in split_to_fit(sentence, count, budget))
    return out
