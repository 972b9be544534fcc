"""Bad documents the rest of the suite does not cover: huge, numerous, truncated, oddly named.

(Corrupt, encrypted and zero-byte PDFs, junk .docx, binary .txt and
non-UTF-8 text are in tests/test_documents.py, with a hypothesis fuzz.)
Each file is read or skipped with a named reason; none stops the rest.
Two bugs found here: text without sentence ends was chunked in quadratic time
(a 200 MB log did not finish in 10 minutes), and boilerplate made
de-duplication quadratic (core/documents/chunking.py, dedupe.py).
"""

from __future__ import annotations

import json
import os
import random
import time
import unicodedata
from pathlib import Path

from doc_fixtures import pdf_bytes
from faults import python_in_subprocess, tiny_config

from core.documents import ingest
from core.documents.dedupe import Deduplicator
from core.documents.readers import MAX_CHARS
from core.store import RunDir

MB = 2**20


def _vocab(rng: random.Random, n: int = 4000) -> list[str]:
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10))) for _ in range(n)]


def _write_huge_text(path: Path, size: int) -> None:
    """The first 10 MB one line without a sentence end (a log or export), then paragraphs, to `size` bytes."""
    rng = random.Random(3)
    vocab = _vocab(rng)
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(rng.choices(vocab, k=1_700_000)) + "\n\n")  # ~10 MB, one "sentence"
        block = "".join(" ".join(rng.choices(vocab, k=120)).capitalize() + ".\n\n" for _ in range(1500))  # ~1 MB
        while f.tell() < size:
            f.write(block)


def test_200_mb_text_file_reads_in_bounded_memory_and_time(tmp_path: Path) -> None:
    path = tmp_path / "server log 2024.txt"
    _write_huge_text(path, 200 * MB)
    assert path.stat().st_size >= 200 * MB
    measured = python_in_subprocess(f"""
import json, resource, time
from core.documents import ingest
from core.events import Progress
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
events = []
started = time.perf_counter()
result = ingest([{str(path)!r}], on_event=events.append)
seconds = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"growth_kb": after - before, "seconds": seconds, "status": result.documents[0].status,
                  "chunks": len(result.chunks), "words": result.documents[0].words,
                  "warned": any("very large" in e.message for e in events if isinstance(e, Progress))}}))
""")
    print(f"\n200 MB text: RSS growth {measured['growth_kb'] / 1024:.0f} MB, {measured['seconds']:.1f} s, {measured['chunks']:,} chunks")
    assert measured["status"] == "read" and measured["warned"]  # the user is told only the start is used
    assert measured["chunks"] > 10_000 and measured["words"] > 2_500_000
    # Reading is capped at MAX_CHARS (20 M) characters whatever the file size; what is
    # held for them (text, passages, chunks, de-duplication shingles) must stay within ~20x.
    assert measured["growth_kb"] * 1024 < 20 * MAX_CHARS, measured
    assert measured["seconds"] < 240, measured


def test_5000_small_files_with_boilerplate_and_near_copies(tmp_path: Path) -> None:
    rng = random.Random(5)
    vocab = _vocab(rng)
    disclaimer = ("This ticket and any attachments are confidential and intended solely for the service desk. "
                  "If you received it in error please notify the sender and delete it.")
    docs = tmp_path / "tickets"
    docs.mkdir()
    texts = {}
    for i in range(5000):
        body = " ".join(rng.choices(vocab, k=25))
        texts[i] = f"Ticket {i} was opened about the {rng.choice(vocab)} system. Notes: {body}. {disclaimer}"
    for i in range(4000, 4600):  # 600 near-identical form letters: only the reference number differs
        texts[i] = ("The badge reader at the north entrance was reset by the facilities team and now works again, "
                    f"reference {i}.")
    words = texts[7].split()
    words[12] = "changed"
    texts[4990] = " ".join(words)  # a near copy (Jaccard > 0.8) of a file 4,983 files earlier
    texts[4995] = texts[2000].upper().replace(" ", "  ")  # an exact copy up to case and spacing
    for i, text in texts.items():
        (docs / f"ticket {i:04d}.txt").write_text(text, encoding="utf-8")

    started = time.perf_counter()
    result = ingest([docs])
    seconds = time.perf_counter() - started
    print(f"\n5,000 files: {seconds:.1f} s; {result.summary()}")
    recs = {d.name: d for d in result.documents}
    assert len(recs) == 5000
    assert recs["ticket 4990.txt"].reason == "duplicate: all its text is already in ticket 0007.txt"
    assert recs["ticket 4995.txt"].reason == "duplicate: all its text is already in ticket 2000.txt"
    near = [recs[f"ticket {i:04d}.txt"] for i in range(4001, 4600)]
    assert all(r.status == "skipped" and r.reason.startswith("duplicate") for r in near)
    assert recs["ticket 4000.txt"].status == "read"
    assert len(result.read) == 5000 - 599 - 2
    assert seconds < 90

    # Not quadratic: a passage costs as many bucket lookups after 3,500 others as after 500 (the disclaimer's
    # shingles, in every ticket, stop filling their buckets at the cap). Measured: 206 and 199 per passage;
    # with buckets left uncapped, 1,906 and 9,495.
    dedupe = Deduplicator()
    lookups = []
    for i in range(5000):
        before = dedupe.lookups
        dedupe.check(texts[i], str(i))
        lookups.append(dedupe.lookups - before)
    early, late = sum(lookups[500:1000]) / 500, sum(lookups[3500:4000]) / 500
    assert late < 1.25 * early, (early, late)


def test_truncated_pdfs_keep_their_whole_pages_or_say_why(tmp_path: Path) -> None:
    parts = ["valve", "pump", "boiler", "filter", "gauge", "belt"]
    staff = ["the duty engineer", "a fitter", "the foreman", "an apprentice", "the chemist", "the night porter"]

    def manual(tag: str) -> bytes:  # lines differ from page to page, or cleaning takes them for running headers
        return pdf_bytes([[f"The {part} of the {tag} line is checked by {who} every {p + 2} weeks."]
                          for p, (part, who) in enumerate(zip(parts, staff), 1)])

    size = len(manual("x"))
    cuts = {"header only": 9, "quarter": size // 4, "half": size // 2, "most": size * 9 // 10,
            "before xref": manual("x").rindex(b"xref"), "before eof": manual("x").rindex(b"%%EOF")}
    docs = tmp_path / "docs"
    docs.mkdir()
    for tag, cut in cuts.items():
        (docs / f"manual cut {tag}.pdf").write_bytes(manual(tag)[:cut])
    (docs / "notes.txt").write_text("The duty engineer keeps the valve log in the control room.", encoding="utf-8")

    result = ingest([docs])
    recs = {d.name: d for d in result.documents}
    assert recs["notes.txt"].status == "read"  # one bad file never stops the rest
    for tag in ("most", "before xref", "before eof"):  # every page object is there: all six are read
        rec = recs[f"manual cut {tag}.pdf"]
        assert rec.status == "read" and rec.pages == 6, (tag, rec.reason)
        text = " ".join(c.text for c in result.chunks if c.source == rec.name)
        assert all(f"The {part} of the {tag} line" in text for part in parts), text
        assert "\ufffd" not in text
    for tag in ("quarter", "half"):  # pages cut off from their font: named, never garbage text
        rec = recs[f"manual cut {tag}.pdf"]
        assert rec.status == "skipped" and rec.reason.startswith("truncated PDF: the file ends too early"), (tag, rec.reason)
        assert rec.reason.endswith("download or export it again")
    header_only = recs["manual cut header only.pdf"]  # nothing but "%PDF-1.4": as good as any garbage
    assert header_only.status == "skipped" and header_only.reason.startswith("corrupt PDF: cannot parse (")


def test_unicode_spaces_and_undecodable_file_names_reach_the_run_folder(tmp_path: Path, demo_model_dir: Path) -> None:
    from core.pipeline import prepare_run

    docs = tmp_path / "my documents (2024)"
    docs.mkdir()
    names = ["résumé final (1).txt", unicodedata.normalize("NFD", "café menu.md"), "日本語 メモ.txt",
             "emoji 🚀 launch notes.txt", "  leading and trailing  .txt", "tab\tin name.txt", "new\nline.txt",
             "עברית שלום.txt", "x" * 240 + ".txt"]
    facts = {}
    for i, name in enumerate(names):
        facts[name] = f"Document {i} says that storeroom {100 + i} opens at {i + 6} o'clock and closes at {i + 14} o'clock."
        (docs / name).write_text(facts[name], encoding="utf-8")
    latin1 = os.fsencode(docs) + b"/latin-1 \xe9t\xe9 r\xe9sum\xe9.txt"  # not valid UTF-8: an old zip or share
    with open(latin1, "wb") as f:
        f.write(b"The summer schedule moves the canteen lunch to half past twelve on weekdays.")

    run = tmp_path / "run"
    ingest_result, _ = prepare_run([docs], run, tiny_config())
    manifest = json.loads(RunDir(run).documents_manifest.read_text(encoding="utf-8"))
    shown = {d["name"]: d for d in manifest["documents"]}
    assert set(shown) == set(names) | {"latin-1 été résumé.txt"}
    assert all(d["status"] == "read" for d in shown.values()), [(d["name"], d["reason"]) for d in shown.values()]
    sources = {c["source"] for c in manifest["chunks"]}
    assert sources == set(shown)
    for name, fact in facts.items():
        assert fact in " ".join(c["text"] for c in manifest["chunks"] if c["source"] == name)
    train = (RunDir(run).dataset / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert train and all(json.loads(line) for line in train)
    assert RunDir(run).read_run()["status"] == "prepared"
