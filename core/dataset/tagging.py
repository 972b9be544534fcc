"""Part-of-speech tags, where capitals and word lists cannot tell what a word is.

German capitalises every noun, so only a tagger tells the finite verb from an adjective ('Die neue Halle öffnet
…', core/dataset/verb_second.py); English capitalises a sentence's first word, so only a tagger tells an
imperative before a name ('Call Reception on …', 'Ask Tom Baker …') from the name's own first word ('Rose
Miller runs …'). HanTa (the Hanover Tagger, LGPL) carries both models in its wheel, needs nothing else, loads
one in ~0.1 s and tags a sentence in about a millisecond.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MODELS = {"de": "morphmodel_ger.pgz", "en": "morphmodel_en.pgz"}
"""The languages tagged, and each one's model file in HanTa's package (the app bundle carries these only)."""

_TOKEN = re.compile(r"\w+(?:[-:.']\w+)*|[^\w\s]")


@lru_cache(maxsize=len(MODELS))
def _tagger(code: str) -> Any:
    from HanTa import HanoverTagger

    return HanoverTagger.HanoverTagger(MODELS[code])


@lru_cache(maxsize=256)
def tags(sentence: str, code: str = "de") -> tuple[tuple[int, int, str], ...]:
    """(start, end, tag) of each token of a sentence in language `code` (one of MODELS); kept for the sentence's
    next span. German tags are STTS ('VV(FIN)', 'NE'), English ones CLAWS ('VVB', 'NP0')."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(sentence)]
    tagged = _tagger(code).tag_sent([t for _, _, t in tokens], taglevel=1) if tokens else []
    return tuple((s, e, tag) for (s, e, _), (_, _, tag) in zip(tokens, tagged))
