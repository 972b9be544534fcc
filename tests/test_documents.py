"""core.documents on real files: good, broken, encrypted, duplicated, huge, fuzzed."""

from __future__ import annotations

import gc
import importlib
import json
import random
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.documents import SUPPORTED_SUFFIXES, Chunk, DocumentRecord, IngestResult, ingest, require_text
from core.documents.chunking import chunk_passages, estimate_tokens, split_sentences
from core.documents.cleaning import clean_text
from core.documents.dedupe import Deduplicator
from core.documents.readers import read_document, read_raw
from core.documents.structure import read_structured
from core.errors import Cancelled, ConfigError, DocumentError, NoDocumentsError
from core.events import Progress

# `core.documents.ingest` the attribute is the function; the module lives in sys.modules.
ingest_module = importlib.import_module("core.documents.ingest")

try:
    from tests import doc_fixtures as fx
except ImportError:  # tests/ on sys.path rather than the repo root
    import doc_fixtures as fx  # type: ignore[no-redef]

SAFETY = [
    "Safety at the plant starts with you. Every visitor must sign in at the front desk and wear a helmet at all times on the factory floor.",
    "Fire exits are marked in green. In case of fire, leave the building by the nearest exit and gather at the assembly point in the north car park.",
    "Chemical storage is restricted to trained staff. The storage room is locked outside working hours and the key is kept by the shift supervisor.",
    "Report every accident, however small, to your supervisor on the same day. The report form is on the intranet under Health and Safety.",
]


def handbook_pages() -> list[list[str]]:
    """Four pages, each with a running header, wrapped body text and a page footer."""
    return [
        ["ACME Corp Employee Handbook", *textwrap.wrap(body, 60), f"Page {i} of 4"]
        for i, body in enumerate(SAFETY, 1)
    ]


def words(n: int, seed: int = 0) -> list[str]:
    """n pseudo-random words; different seeds give unrelated text."""
    rng = random.Random(seed)
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(n)]


def by_name(result: IngestResult) -> dict[str, DocumentRecord]:
    return {d.name: d for d in result.documents}


def all_text(result: IngestResult, source: str | None = None) -> str:
    return "\n".join(c.text for c in result.chunks if source is None or c.source == source)


# ------------------------------------------------------------------ readers


def test_hand_made_pdf_is_a_real_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader

    path = fx.make_pdf(tmp_path / "h.pdf", handbook_pages())
    reader = PdfReader(path)
    assert len(reader.pages) == 4
    assert "ACME Corp Employee Handbook" in reader.pages[2].extract_text()
    text, pages = read_document(path)
    assert pages == 4
    assert text.count("\f") == 3  # pages are kept apart for header detection
    assert "Fire exits are marked in green." in text


def test_mixed_folder_each_bad_file_skipped_with_its_reason(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub" / ".git").mkdir(parents=True)
    fx.make_pdf(docs / "handbook.pdf", handbook_pages())
    fx.make_corrupt_pdf(docs / "corrupt.pdf")
    fx.make_encrypted_pdf(docs / "locked.pdf", [["Top secret salary table for the board."]])
    (docs / "empty.pdf").write_bytes(b"")
    fx.make_pdf(docs / "scanned.pdf", [["ignored"], ["ignored"]], text=False)
    fx.make_docx(
        docs / "procedures.docx",
        ["Every invoice must be approved by two managers before payment is released."],
        table=[["Approver", "Limit"], ["Team lead", "5,000 euros"], ["Director", "50,000 euros"]],
    )
    fx.make_junk_zip(docs / "junk.docx")
    (docs / "plain.docx").write_text("I am a text file pretending to be Word.")
    fx.make_binary(docs / "image.txt")
    fx.make_cp1252(docs / "legacy.txt", "Café crème costs 3 € at the canteen. The menu changes every Monday.")
    fx.make_html(docs / "intranet.html", ["The canteen opens at <b>eight</b> in the morning.", "Parking permits are free for staff."])
    (docs / "Ünïcode notes v2.md").write_text("# Notes\n\nThe café on floor two sells crème brûlée on Fridays.\n", encoding="utf-8")
    (docs / "data.xyz").write_text("whatever")
    (docs / ".hidden.txt").write_text("Hidden files are never read.")
    (docs / "sub" / ".git" / "config.txt").write_text("Nor are hidden folders.")
    (docs / "sub" / "nested.txt").write_text("Nested folders are read recursively.")

    result = ingest([docs, tmp_path / "missing.pdf"])
    recs = by_name(result)

    assert set(recs) == {
        "handbook.pdf", "corrupt.pdf", "locked.pdf", "empty.pdf", "scanned.pdf", "procedures.docx",
        "junk.docx", "plain.docx", "image.txt", "legacy.txt", "intranet.html", "Ünïcode notes v2.md",
        "data.xyz", "sub/nested.txt", "missing.pdf",
    }
    assert recs["corrupt.pdf"].status == "skipped"
    assert recs["corrupt.pdf"].reason.startswith("corrupt PDF: cannot parse (")
    assert recs["locked.pdf"].reason == "encrypted PDF: needs a password — remove the password and add it again"
    assert recs["empty.pdf"].reason.startswith("empty file")
    assert recs["scanned.pdf"].reason == "no text found (scanned PDF?) — OCR it first"
    assert recs["junk.docx"].reason.startswith("not a valid Word document")
    assert recs["plain.docx"].reason.startswith("not a valid Word document")
    assert recs["image.txt"].reason.startswith("binary file, not text")
    assert recs["data.xyz"].reason == "unsupported type .xyz — use .txt .md .pdf .docx .html"
    assert recs["missing.pdf"].reason == "not found"
    assert all(r.status == "skipped" and r.chunks == 0 for r in result.skipped)
    assert len(result.skipped) == 9

    read = {r.name for r in result.read}
    assert read == {"handbook.pdf", "procedures.docx", "legacy.txt", "intranet.html", "Ünïcode notes v2.md", "sub/nested.txt"}
    for r in result.read:
        assert r.chunks >= 1 and r.words > 0 and r.tokens > 0 and r.reason == ""
        assert Path(r.path).is_absolute() and Path(r.path).exists()
    assert recs["handbook.pdf"].pages == 4
    assert "Approver: Director; Limit: 50,000 euros" in all_text(result, "procedures.docx")  # a row keeps its headers
    assert "Café crème costs 3 € at the canteen." in all_text(result, "legacy.txt")  # cp1252 decoded
    assert "crème brûlée" in all_text(result, "Ünïcode notes v2.md")
    html = all_text(result, "intranet.html")
    assert "The canteen opens at eight in the morning." in html
    for junk in ("tracking", "navigation link", "banner header", "Copyright footer", "secret-style-rule"):
        assert junk not in html
    assert "Hidden files" not in all_text(result) and "hidden folders" not in all_text(result)
    assert {c.source for c in result.chunks} == read


def test_pdf_encrypted_with_empty_user_password_is_read(tmp_path: Path) -> None:
    path = fx.make_encrypted_pdf(tmp_path / "owner-only.pdf", [["Open to read, locked to edit."]], user_password="")
    text, pages = read_document(path)
    assert "Open to read, locked to edit." in text and pages == 1


def test_pdf_without_header_is_not_a_pdf(tmp_path: Path) -> None:
    (tmp_path / "fake.pdf").write_text("just text")
    with pytest.raises(DocumentError, match="not a PDF"):
        read_document(tmp_path / "fake.pdf")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffBOM text with ümlaut".encode("utf-8"), "BOM text with ümlaut"),
        ("UTF-16 text ✓".encode("utf-16"), "UTF-16 text ✓"),
        ("ANSI log \x1b[31mred\x1b[0m line".encode(), "ANSI log \x1b[31mred\x1b[0m line"),
        (b"Windows \x93quotes\x94 and \x80", "Windows \u201cquotes\u201d and \u20ac"),
    ],
)
def test_text_encodings(tmp_path: Path, data: bytes, expected: str) -> None:
    (tmp_path / "t.txt").write_bytes(data)
    assert read_document(tmp_path / "t.txt") == (expected, 0)


def test_huge_text_file_is_truncated_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_text("A line of text that repeats é.\n\n" * 2000, encoding="utf-8")
    raw = read_raw(path, max_chars=1001)
    assert raw.truncated and len(raw.text) <= 1001 and raw.text.startswith("A line of text")

    real = ingest_module.read_structured
    monkeypatch.setattr(ingest_module, "read_structured", lambda p, source="": real(p, source, max_chars=5000))
    events: list = []
    result = ingest([path], on_event=events.append)
    assert result.read[0].status == "read"
    assert any("very large" in e.message and "big.txt" in e.message for e in events)


def test_unexpected_exception_becomes_a_skipped_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("The first file is fine and has a sentence.")
    (tmp_path / "b.txt").write_text("The second file triggers a bug.")
    real = ingest_module.chunk_elements

    def flaky(elements, *args):  # a bug after reading, in one file only
        if any("bug" in e.text for e in elements):
            raise ValueError("boom")
        return real(elements, *args)

    monkeypatch.setattr(ingest_module, "chunk_elements", flaky)
    recs = by_name(ingest([tmp_path]))
    assert recs["a.txt"].status == "read"
    assert recs["b.txt"].status == "skipped" and recs["b.txt"].reason == "could not read: ValueError: boom"


# ----------------------------------------------------------------- cleaning


def test_pdf_headers_footers_and_page_numbers_removed(tmp_path: Path) -> None:
    result = ingest([fx.make_pdf(tmp_path / "handbook.pdf", handbook_pages())])
    text = all_text(result)
    assert "ACME Corp" not in text
    assert "Page" not in text and "of 4" not in text
    for body in SAFETY:  # the body survives intact, re-joined across wrapped lines
        assert body in text


def test_clean_text_dehyphenates_and_rebuilds_paragraphs() -> None:
    text = (
        "# Title\n\nSome text that is wrapped at a fixed width of forty or so\n"
        "characters and goes on to a sec-\nond line. Then a short end.\n"
        "Another para starts here and it is long enough to wrap.\n\n"
        "- item one\n- item two\n\n12\n-----\nPage 3 of 10\n\ufb01nal   spaced\t\tout words."
    )
    assert clean_text(text) == [
        "# Title",
        "Some text that is wrapped at a fixed width of forty or so characters and goes on to a second line. Then a short end.",
        "Another para starts here and it is long enough to wrap.",
        "- item one",
        "- item two",
        "final spaced out words.",  # NFKC folds the 'fi' ligature
    ]


def test_repeated_line_on_few_pages_is_kept() -> None:
    pages = [f"{' '.join(words(8, i)).capitalize()}.\n{' '.join(words(9, 100 + i)).capitalize()}." for i in range(6)]
    bodies = [p.replace("\n", " ") for p in pages]
    pages = [f"Common header\n{p}" for p in pages]  # on every page: a header
    pages[0] = "Special note\n" + pages[0]
    pages[1] = "Special note\n" + pages[1]  # on 2 of 6 pages: content, not a header
    cleaned = " ".join(clean_text("\f".join(pages)))
    assert cleaned.count("Special note") == 2
    assert "Common header" not in cleaned
    assert all(body in cleaned for body in bodies)


# ------------------------------------------------------------------ dedupe


def test_duplicate_passage_across_files_kept_once(tmp_path: Path) -> None:
    shared = "All expense claims must be filed within thirty days of the purchase date."
    (tmp_path / "a.txt").write_text(f"Policy A covers travel to customer sites.\n\n{shared}\n")
    (tmp_path / "b.md").write_text(f"Policy B covers office supplies.\n\n{shared.upper()}\n\n{shared}\n")
    result = ingest([tmp_path])
    recs = by_name(result)
    assert all_text(result).lower().count(shared.lower()) == 1
    assert shared in all_text(result, "a.txt")
    assert recs["a.txt"].duplicates_dropped == 0
    assert recs["b.md"].duplicates_dropped == 2
    assert result.duplicates_dropped == 2
    assert "Policy B covers office supplies." in all_text(result, "b.md")


def test_near_duplicates_dropped_and_different_text_kept() -> None:
    base = words(100)
    near = list(base)
    near[50] = "CHANGED"
    other = words(100, seed=5)
    dd = Deduplicator()
    assert dd.check(" ".join(base), "a") is None
    seen = dd.check(" ".join(near), "b")
    assert seen is not None and seen.source == "a"
    assert dd.check(" ".join(other), "c") is None
    half = base[:50] + words(50, seed=9)  # Jaccard ~0.3: a different passage
    assert dd.check(" ".join(half), "d") is None
    assert dd.dropped == 1


def test_file_that_only_repeats_another_is_skipped_as_duplicate(tmp_path: Path) -> None:
    text = "\n\n".join(SAFETY)
    (tmp_path / "original.txt").write_text(text)
    (tmp_path / "copy.txt").write_text(text.replace("green", "GREEN"))
    recs = by_name(ingest([tmp_path / "original.txt", tmp_path / "copy.txt"]))
    assert recs["original.txt"].status == "read"
    assert recs["copy.txt"].status == "skipped"
    assert recs["copy.txt"].reason == "duplicate: all its text is already in original.txt"
    assert recs["copy.txt"].duplicates_dropped == 4


def test_dedupe_scales_linearly_enough() -> None:
    dd = Deduplicator()
    for i in range(3000):
        dd.check(" ".join(words(40, seed=i)) + f" unique{i}", "x")
    assert dd.dropped == 0


# ----------------------------------------------------------------- chunking


def sentences(n: int) -> list[str]:
    return [f"Sentence number {i} tells fact {i * 3} about the {words(1, i)[0]} machine." for i in range(n)]


@pytest.mark.parametrize("count", [estimate_tokens, lambda t: len(t) // 4 + 1])
def test_chunks_respect_budget_keep_sentences_whole_and_overlap(count) -> None:
    sents = sentences(120)
    passages = [" ".join(sents[i : i + 7]) for i in range(0, 120, 7)]
    chunks = chunk_passages(passages, count, chunk_tokens=64, overlap_tokens=16)
    assert len(chunks) > 5
    for chunk in chunks:
        assert count(chunk) <= 64
        assert chunk.endswith("machine.") and chunk.startswith("Sentence number")  # whole sentences
    for prev, nxt in zip(chunks, chunks[1:]):
        last = split_sentences(prev)[-1]
        assert nxt.startswith(last)  # the trailing sentence is repeated...
        assert count(split_sentences(nxt)[0]) <= 16  # ...within the overlap budget
    joined = " ".join(chunks)
    assert all(s in joined for s in sents)  # nothing lost


def test_no_overlap_means_no_repeats() -> None:
    sents = sentences(60)
    chunks = chunk_passages([" ".join(sents)], estimate_tokens, chunk_tokens=50, overlap_tokens=0)
    assert sum(len(split_sentences(c)) for c in chunks) == 60


def test_giant_sentence_is_split_by_words_and_giant_word_by_chars() -> None:
    long_sentence = " ".join(words(500)) + "."
    chunks = chunk_passages([long_sentence], estimate_tokens, chunk_tokens=40, overlap_tokens=8)
    assert all(estimate_tokens(c) <= 40 for c in chunks)
    assert " ".join(chunks).split() == long_sentence.split()

    blob = "x" * 1000
    chunks = chunk_passages([blob], estimate_tokens, chunk_tokens=20, overlap_tokens=0)
    assert "".join(chunks) == blob and all(estimate_tokens(c) <= 20 for c in chunks)


def test_ingest_chunks_carry_source_index_and_token_count(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("\n\n".join(" ".join(sentences(120)[i : i + 6]) for i in range(0, 120, 6)))

    def count(t: str) -> int:
        return len(t.split())

    result = ingest([tmp_path / "long.txt"], count_tokens=count, chunk_tokens=48, overlap_tokens=12)
    assert [c.index for c in result.chunks] == list(range(len(result.chunks)))
    assert all(c.source == "long.txt" and c.n_tokens == count(c.text) <= 48 for c in result.chunks)
    assert result.read[0].tokens == result.total_tokens == sum(c.n_tokens for c in result.chunks)
    assert result.read[0].chunks == len(result.chunks)


def test_bad_budget_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        ingest([tmp_path], chunk_tokens=4, overlap_tokens=-1)
    assert len(info.value.problems) == 2


# ------------------------------------------------- events, results, manifest


def three_files(tmp_path: Path) -> Path:
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text(f"File {i} says something quite distinct about topic {i * 13}.")
    return tmp_path


def test_progress_events_per_file(tmp_path: Path) -> None:
    events: list = []
    ingest([three_files(tmp_path)], on_event=events.append)
    assert all(isinstance(e, Progress) and e.stage == "ingest" for e in events)
    assert [(e.done, e.total) for e in events] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert events[0].message == "Reading f0.txt (1 of 3)"  # no time left before a pace is known
    assert events[1].message.startswith("Reading f1.txt (2 of 3 · about ") and events[1].message.endswith(" left)")
    assert events[-1].message.startswith("3 files: 3 read")


def test_should_stop_cancels_between_files(tmp_path: Path) -> None:
    events: list = []
    calls = iter([False, True])
    with pytest.raises(Cancelled):
        ingest([three_files(tmp_path)], on_event=events.append, should_stop=lambda: next(calls))
    assert [e.message for e in events] == ["Reading f0.txt (1 of 3)"]  # stopped before the second file


def test_summary_and_json_round_trip(tmp_path: Path) -> None:
    three_files(tmp_path)
    (tmp_path / "dup.txt").write_text("File 0 says something quite distinct about topic 0.")
    (tmp_path / "bad.xyz").write_text("nope")
    result = ingest([tmp_path])
    assert result.summary() == (
        f"5 files: 3 read, 2 skipped; 3 passages, {result.total_tokens:,} tokens; 1 duplicate dropped"
    )
    data = json.loads(json.dumps(result.to_json()))
    back = IngestResult.from_json(data)
    assert back == result
    assert back.summary() == result.summary()
    assert isinstance(back.chunks[0], Chunk) and isinstance(back.documents[0], DocumentRecord)


def test_require_text_names_every_skipped_file(tmp_path: Path) -> None:
    fx.make_binary(tmp_path / "image.txt")
    (tmp_path / "empty.md").write_bytes(b"")
    result = ingest([tmp_path])
    assert result.chunks == [] and len(result.skipped) == 2
    with pytest.raises(NoDocumentsError) as info:
        require_text(result)
    assert "image.txt: binary file, not text" in info.value.message
    assert "empty.md: empty file" in info.value.message
    assert info.value.hint
    with pytest.raises(NoDocumentsError, match="No documents"):
        require_text(ingest([]))
    ok = tmp_path / "ok"
    ok.mkdir()
    require_text(ingest([three_files(ok)]))  # text found: no error


def test_same_file_twice_and_name_collisions(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(f"Notes kept in folder {folder} about its own work.")
    result = ingest([tmp_path / "one", tmp_path / "one" / "notes.txt", tmp_path / "two"])
    assert [d.name for d in result.documents] == ["notes.txt", "notes.txt (2)"]
    assert {c.source for c in result.chunks} == {"notes.txt", "notes.txt (2)"}


def test_supported_suffixes() -> None:
    assert {".txt", ".md", ".pdf", ".docx", ".html", ".htm"} <= set(SUPPORTED_SUFFIXES)


@pytest.mark.parametrize(("block", "reader"), [
    ("<p>Paragraph {} tells how to clean pump model {} and when.</p>\n", read_raw),
    ("Line {} tells how to clean pump model {} and when.<br>\n", read_structured),
], ids=["paragraphs-flat", "br-lines-structured"])
def test_html_read_time_grows_linearly_with_the_page(tmp_path: Path, block: str, reader) -> None:
    """A 2.6 MB page of 40,000 paragraphs took 47 s: bs4 looked up each edited tag's place one by one."""

    def page(n: int) -> Path:
        path = tmp_path / f"page{n}.html"
        body = "".join(block.format(i, i % 97) for i in range(n))
        path.write_text(f"<html><head><title>Pumps</title></head><body><div>{body}</div></body></html>", encoding="utf-8")
        return path

    def seconds(path: Path) -> float:
        gc.collect()  # the last page's tree is garbage with cycles: its collection is not this read's
        start = time.perf_counter()
        reader(path)
        return time.perf_counter() - start

    small, large = page(4_000), page(40_000)
    reader(small)  # imports and first-call costs are not the page's
    t_small = min(seconds(small) for _ in range(2))
    t_large = seconds(large)
    # Ten times the page: about ten times the time when linear, about a hundred when quadratic.
    assert t_large < 25 * t_small, f"40,000 blocks: {t_large:.2f} s, 4,000: {t_small:.2f} s"


# ---------------------------------------------------------------------- fuzz


def _seed_files() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        fx.make_docx(d / "s.docx", SAFETY[:2], table=[["a", "b"], ["c", "d"]])
        fx.make_html(d / "s.html", SAFETY[:2])
        return {
            ".pdf": fx.pdf_bytes(handbook_pages()),
            ".docx": (d / "s.docx").read_bytes(),
            ".txt": "\n\n".join(SAFETY).encode("utf-8"),
            ".html": (d / "s.html").read_bytes(),
        }


SEEDS = _seed_files()


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suffix=st.sampled_from(sorted(SEEDS)),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=12),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_fuzzed_files_give_text_or_document_error(suffix: str, edits: list[tuple[float, int]], cut: float | None) -> None:
    data = bytearray(SEEDS[suffix])
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzzed{suffix}"
        path.write_bytes(bytes(data))
        try:
            text, pages = read_document(path)
        except DocumentError as exc:
            assert exc.message
            return
        assert isinstance(text, str) and text.strip() and isinstance(pages, int) and pages >= 0
