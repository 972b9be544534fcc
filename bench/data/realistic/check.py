"""Check the realistic benchmark set: documents read, answers are in them, counts are met.

    python3 bench/data/realistic/check.py          # both halves
    python3 bench/data/realistic/check.py dev      # one half

For each half it asserts that every question names an existing document, that
the first accepted answer occurs in that document's text as the app's reader
(`core.documents.readers.read_raw`) returns it (case-insensitive, whitespace
normalised), and that the counts per kind and per language meet the set's
minimums. It prints only counts and line numbers, never question or document
text, so that it can be run on the test half without showing its contents.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for `core`



def _load_read_raw():
    """The app's reader; straight from its file if the package's other modules do not import.

    core/documents/__init__.py pulls in the whole ingest pipeline, which may be
    mid-edit; readers.py itself needs only core.errors.
    """
    try:
        from core.documents.readers import read_raw
    except ImportError:
        import importlib.util

        path = HERE.parents[2] / "core" / "documents" / "readers.py"
        spec = importlib.util.spec_from_file_location("_tunedesk_readers", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        read_raw = module.read_raw
    return read_raw


read_raw = _load_read_raw()

KINDS = ("table", "list", "key_value", "faq", "step", "prose")
MIN_QUESTIONS = 32
MIN_PER_KIND = 4
MIN_GERMAN = 6
DOCS_PER_HALF = 5
WORDS = (1000, 1300)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def check_half(name: str) -> list[str]:
    half = HERE / name
    errors: list[str] = []
    docs = sorted(p for p in (half / "docs").iterdir() if p.is_file())
    texts = {p.name: read_raw(p).text for p in docs}
    words = {n: len(t.split()) for n, t in texts.items()}
    total = sum(words.values())
    if len(docs) != DOCS_PER_HALF:
        errors.append(f"{name}: {len(docs)} documents, expected {DOCS_PER_HALF}")
    if not WORDS[0] <= total <= WORDS[1]:
        errors.append(f"{name}: {total} words, expected {WORDS[0]}-{WORDS[1]}")

    kinds: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    per_doc: Counter[str] = Counter()
    seen: set[str] = set()
    lines = (half / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}/questions.jsonl:{number}"
        item = json.loads(line)
        if set(item) != {"q", "a", "doc", "kind", "lang"}:
            errors.append(f"{where}: fields {sorted(item)}")
            continue
        answers = item["a"]
        if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
            errors.append(f"{where}: 'a' must be a non-empty list of strings")
            continue
        if item["kind"] not in KINDS:
            errors.append(f"{where}: unknown kind {item['kind']!r}")
        if item["lang"] not in ("en", "de"):
            errors.append(f"{where}: unknown lang {item['lang']!r}")
        if norm(item["q"]) in seen:
            errors.append(f"{where}: duplicate question")
        seen.add(norm(item["q"]))
        text = texts.get(item["doc"])
        if text is None:
            errors.append(f"{where}: no document {item['doc']!r}")
            continue
        if norm(item["a"][0]) not in norm(text):
            errors.append(f"{where}: first accepted answer not in {item['doc']}")
        if any(norm(a) in norm(item["q"]) for a in item["a"]):
            errors.append(f"{where}: an accepted answer occurs in the question itself")
        kinds[item["kind"]] += 1
        langs[item["lang"]] += 1
        per_doc[item["doc"]] += 1

    count = sum(kinds.values())
    if count < MIN_QUESTIONS:
        errors.append(f"{name}: {count} questions, expected at least {MIN_QUESTIONS}")
    for kind in KINDS:
        if kinds[kind] < MIN_PER_KIND:
            errors.append(f"{name}: {kinds[kind]} '{kind}' questions, expected at least {MIN_PER_KIND}")
    if langs["de"] < MIN_GERMAN:
        errors.append(f"{name}: {langs['de']} German questions, expected at least {MIN_GERMAN}")
    for doc in texts:
        if not per_doc[doc]:
            errors.append(f"{name}: no question about {doc}")

    print(f"{name}: {count} questions, {total} words")
    for doc in texts:
        print(f"  {doc}: {words[doc]} words, {per_doc[doc]} questions")
    print("  kinds: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
    print("  langs: " + ", ".join(f"{k} {v}" for k, v in sorted(langs.items())))
    return errors


def main(argv: list[str]) -> int:
    halves = argv or ["dev", "test"]
    errors = [e for half in halves for e in check_half(half)]
    for error in errors:
        print("FAIL", error)
    print("ok" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
