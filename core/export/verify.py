"""Every export loaded back the way a user will load it, and compared with the tuned model in the app.

No peer checks an export by generating from it; the broken ones (a lost chat template, a wrong EOS, a
tokenizer that splits differently) only show when a user asks a question. Here the reference is the run's
adapter on its base model in fp32, merged by peft (how the app builds its tuned weights), answering a fixed set
of prompts greedily: two from the run's own documents and two general ones (cached in the run's
exports/ folder, so a second export of the same adapter does not compute them again). Then:

* adapter: loaded with peft onto the base, the same greedy answers;
* merged: loaded with plain transformers, the same chat template and prompt tokens, the same greedy answers;
* GGUF: loaded with transformers' GGUF reader (its tokenizer too), f16 gives the same greedy answers as the
  tuned model with its weights rounded as the file stores them (its exact twin: rounding alone can flip a
  near-tie, which is no fault of the export, and the twin keeps the check exact instead of tolerant); a
  quantised file reports its token agreement (teacher-forced top-1 on the reference answers), passing above a
  floor per type;
* llama-cpp-python, when installed, loads the GGUF and answers each prompt, stopping by itself;
* the Modelfile's TEMPLATE, read back from the file, renders a three-turn conversation exactly as Jinja does.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from core.dataset import load_examples
from core.events import ExportCheck
from core.store import RunDir, read_jsonl

GENERAL_PROMPTS = ("What is the capital of France?", "Write one sentence about the sea.")
DOCUMENT_PROMPTS = 2
MAX_NEW_TOKENS = 20
AGREEMENT_FLOOR = {"q8_0": 0.95, "q4_0": 0.6}
"""Least teacher-forced token agreement a quantised GGUF passes with: between faithful files and broken ones,
measured on the demo model. q4_0 of six adapters (four benchmark runs, two 10-step test runs): 72.4-92.5%;
the same file written with the classic rope bug (q/k rows not reordered): 27.6%. A floor at 75%, set from one
89.8% file, failed a faithful export of a run whose answers are near-ties (README, Export)."""


def verification_prompts(run: Path) -> list[str]:
    """Questions from the run's documents (held-out ones first: never trained in those words), then general ones."""
    run_dir = RunDir(run)
    heldout, train = run_dir.heldout_file, run_dir.train_file
    questions = [row["q"] for row in read_jsonl(heldout)] if heldout.is_file() else []
    if len(questions) < DOCUMENT_PROMPTS and train.is_file():
        questions += [e.question for e in load_examples(train) if e.question and len(e.question) < 300]
    return questions[:DOCUMENT_PROMPTS] + list(GENERAL_PROMPTS)


@dataclass
class Reference:
    """The in-app tuned model's greedy answers: what every export must reproduce."""

    prompts: list[str]
    texts: list[str]
    """Each prompt in the chat template, as the model reads it."""
    ids: list[list[int]]
    answers: list[list[int]]
    eos_ids: list[int]
    pad_id: int
    f16_answers: list[list[int]] | None = None
    """The same model's answers with its weights rounded as an f16 GGUF stores them (when an f16 file is checked)."""


def prompt_texts(tokenizer: Any, prompts: list[str]) -> list[str]:
    return [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
            for p in prompts]


def greedy(model: Any, ids: list[list[int]], eos_ids: list[int], pad_id: int) -> list[list[int]]:
    """Greedy answers to prompts given as token ids, in one left-padded batch (each cut at its first EOS)."""
    import torch

    width = max(len(i) for i in ids)
    batch = torch.tensor([[pad_id] * (width - len(i)) + i for i in ids])
    mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids])
    with torch.inference_mode():
        out = model.generate(input_ids=batch, attention_mask=mask, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                             eos_token_id=eos_ids, pad_token_id=pad_id)
    answers = []
    for row in out[:, width:].tolist():
        cut = next((k for k, t in enumerate(row) if t in eos_ids), len(row))
        answers.append(row[:cut])
    return answers


def agreement(model: Any, ref: Reference) -> tuple[int, int]:
    """Teacher-forced top-1 agreement: at each reference answer token, does `model` pick the same next token?
    One left-padded forward pass over every prompt + reference answer."""
    import torch

    rows = [p + a for p, a in zip(ref.ids, ref.answers)]
    width = max(len(r) for r in rows)
    batch = torch.tensor([[ref.pad_id] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    with torch.inference_mode():
        picks = model(input_ids=batch, attention_mask=mask).logits.argmax(-1).tolist()  # (B, T)
    matched = total = 0
    for row, answer, pick in zip(rows, ref.answers, picks):
        start = width - len(answer) - 1  # the position whose next token is the answer's first
        matched += sum(int(a == b) for a, b in zip(pick[start:start + len(answer)], answer))
        total += len(answer)
    return matched, total


def reference(run: Path, base_dir: Path, tokenizer: Any, eos_ids: list[int], fingerprint: str,
              f16: bool = False) -> Reference:
    """The reference answers (and, with `f16`, its f16 twin's), from the cache in runs/<id>/exports/ when the
    adapter, base and prompts are unchanged."""
    from core.store import read_json, write_json

    prompts = verification_prompts(run)
    texts = prompt_texts(tokenizer, prompts)
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
    ref = Reference(prompts, texts, ids, [], eos_ids, pad)
    weights = Path(run) / "adapter" / "adapter_model.safetensors"
    stat = weights.stat()
    key = {"adapter": [stat.st_size, stat.st_mtime_ns], "base": fingerprint, "ids": ids, "eos": eos_ids,
           "max_new_tokens": MAX_NEW_TOKENS}
    cache = Path(run) / "exports" / "reference.json"
    try:
        cached = read_json(cache) if cache.is_file() else {}
    except (OSError, ValueError):
        cached = {}
    if cached.get("key") == key:
        ref.answers, ref.f16_answers = cached["answers"], cached.get("f16_answers")
        if ref.f16_answers is not None or not f16:
            return ref
    from peft import PeftModel

    from core.export.gguf_file import round_as_f16_file
    from core.models import load_model

    model = load_model(base_dir, "fp32", "cpu")
    model = PeftModel.from_pretrained(model, str(Path(run) / "adapter")).merge_and_unload().eval()
    if not ref.answers:
        ref.answers = greedy(model, ids, eos_ids, pad)
    record: dict[str, Any] = {"key": key, "prompts": prompts, "answers": ref.answers,
                              "texts": [tokenizer.decode(a) for a in ref.answers]}
    if f16:
        ref.f16_answers = greedy(round_as_f16_file(model), ids, eos_ids, pad)
    if ref.f16_answers is not None:
        record["f16_answers"] = ref.f16_answers
    write_json(cache, record)
    return ref


def _same_answers(model: Any, ref: Reference) -> tuple[int, list[list[int]]]:
    answers = greedy(model, ref.ids, ref.eos_ids, ref.pad_id)
    return sum(int(a == b) for a, b in zip(answers, ref.answers)), answers


def _answers_check(name: str, model: Any, ref: Reference, extra: str = "") -> ExportCheck:
    same, _ = _same_answers(model, ref)
    n = len(ref.answers)
    return ExportCheck(name, same == n, f"{same}/{n} greedy answers identical to the in-app tuned model{extra}")


def check_adapter(folder: Path, base_dir: Path, ref: Reference) -> ExportCheck:
    from peft import PeftModel

    from core.models import load_model

    model = PeftModel.from_pretrained(load_model(base_dir, "fp32", "cpu"), str(folder)).eval()
    return _answers_check("adapter loaded with peft onto the base model", model, ref)


def _tokenizer_problem(tokenizer: Any, ref: Reference) -> str:
    """"" when `tokenizer` writes and encodes the prompts exactly as the run's does; else what differs."""
    texts = prompt_texts(tokenizer, ref.prompts)
    if texts != ref.texts:
        return "its chat template writes the prompts differently"
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    if ids != ref.ids:
        return "its tokenizer splits the prompts differently"
    return ""


def check_merged(folder: Path, ref: Reference) -> ExportCheck:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    name = "merged model loaded with plain transformers"
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    problem = _tokenizer_problem(tokenizer, ref)
    eos = GenerationConfig.from_pretrained(str(folder)).eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    if not problem and not set(ref.eos_ids) <= eos:
        problem = f"generation_config.json's eos_token_id {sorted(eos)} misses the end of a turn {ref.eos_ids}"
    if problem:
        return ExportCheck(name, False, problem)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    return _answers_check(name, model, ref, "; same chat template, prompt tokens and EOS")


def check_gguf(file: Path, quant: str, ref: Reference) -> ExportCheck:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name = f"{quant} GGUF loaded with transformers' GGUF reader"
    tokenizer = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
    problem = _tokenizer_problem(tokenizer, ref)
    if problem:
        return ExportCheck(name, False, problem)
    model = AutoModelForCausalLM.from_pretrained(str(file.parent), gguf_file=file.name, dtype=torch.float32).eval()
    same, answers = _same_answers(model, ref)
    matched, total = agreement(model, ref)  # one forward pass: cheap beside the greedy answers
    share = matched / total if total else 1.0
    n = len(ref.answers)
    agreement_text = f"token agreement {share:.1%} ({matched}/{total})"
    if quant == "f16":
        if ref.f16_answers is None:
            raise ValueError("an f16 GGUF is checked against the reference's f16 twin: reference(..., f16=True)")
        twin = sum(int(a == b) for a, b in zip(answers, ref.f16_answers))
        rounding = sum(int(a != b) for a, b in zip(ref.f16_answers, ref.answers))
        figures = (f"{twin}/{n} greedy answers identical to the in-app tuned model with its weights in f16 as the "
                   f"file stores them, {agreement_text}")
        if rounding:  # said, so a user comparing with the app is not surprised
            figures += (f"; rounding to f16 alone changes {rounding} of the {n} answers of the full-precision "
                        f"model (a near-tie between two words), as it would in any f16 copy")
        return ExportCheck(name, twin == n, figures + "; same chat template and prompt tokens")
    figures = f"{same}/{n} greedy answers identical, {agreement_text}"
    return ExportCheck(name, share >= AGREEMENT_FLOOR[quant],
                       f"{figures}; same chat template and prompt tokens (passes at {AGREEMENT_FLOOR[quant]:.0%})")


def check_llama_cpp(file: Path, ref: Reference, stops: list[str]) -> ExportCheck:
    """llama.cpp itself, through llama-cpp-python when installed: it loads the file and each answer ends by itself."""
    import importlib.util

    name = "GGUF loaded with llama-cpp-python"
    if importlib.util.find_spec("llama_cpp") is None:
        return ExportCheck(name, None, "skipped: llama-cpp-python not installed")
    from llama_cpp import Llama

    # llama.cpp says why it cannot load a file only in its log (verbose), on stderr: kept from the console, read
    # back for the check's reason. verbose=True sets llama-cpp-python's logger level for the whole process.
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    try:
        with _stderr_captured() as said:
            try:
                llm = Llama(model_path=str(file), n_ctx=1024, verbose=True, seed=0)
            except ValueError as exc:
                reason = next((line.strip() for line in said().splitlines() if "error" in line.lower()), str(exc))
                return ExportCheck(name, False, f"llama.cpp could not load the file: {reason}")
            with contextlib.closing(llm):
                return _answers(llm, ref, stops, name)
    finally:
        logger.setLevel(level)


def _answers(llm: Any, ref: Reference, stops: list[str], name: str) -> ExportCheck:
    answered = stopped = 0
    for text in ref.texts:
        out = llm.create_completion(text, max_tokens=96, temperature=0.0, stop=stops or None)
        choice = out["choices"][0]
        answered += int(bool(choice["text"].strip()))
        stopped += int(choice.get("finish_reason") == "stop")
    n = len(ref.texts)
    return ExportCheck(name, answered == n, f"{answered}/{n} prompts answered, {stopped}/{n} stopped by themselves")


@contextlib.contextmanager
def _stderr_captured() -> Iterator[Callable[[], str]]:
    """Everything written to stderr for a while, by Python (sys.stderr) or a C library (file descriptor 2), kept
    from the console; yields a function that returns it so far.

    A windowed program (pythonw, the frozen app on Windows) may have no stderr at all: sys.stderr is None and
    descriptor 2 is not open. Then only what Python writes is kept, and the C library's log goes nowhere, as
    it did before."""
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved: int | None = os.dup(2)
    except OSError:
        saved = None
    with tempfile.TemporaryFile() as raw, contextlib.redirect_stderr(io.StringIO()) as text:
        if saved is not None:
            os.dup2(raw.fileno(), 2)
        try:
            def said() -> str:
                raw.seek(0)
                return raw.read().decode("utf-8", "replace") + text.getvalue()
            yield said
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)


def check_modelfile(modelfile_path: Path, render_jinja: Callable[..., str], turns: Any) -> ExportCheck:
    from core.export.ollama import check_template, read_modelfile

    written = read_modelfile(modelfile_path)
    result = check_template(written["template"] or "", render_jinja, turns, written["system"])
    name = "Modelfile TEMPLATE vs the Jinja chat template"
    if result.passed:
        return ExportCheck(name, True, f"three-turn conversation rendered identically ({result.conversations} "
                                       f"variant{'s' if result.conversations > 1 else ''}), stop words "
                                       f"{', '.join(written['stop'])}")
    return ExportCheck(name, False, f"the TEMPLATE writes {result.go[:160]!r} where Jinja writes {result.jinja[:160]!r}")
