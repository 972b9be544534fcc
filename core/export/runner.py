"""`export_run`: one call for the CLI and the Export dialog — check, write, load back, record.

Order matters for the user: everything that can refuse (no adapter, another base model, an architecture or a
chat template we cannot write) refuses before any long work; files are written into a hidden folder inside
--out and moved in only when complete, so a stop or a full disk never leaves half a model that looks whole;
then every file is loaded back and compared (core/export/verify.py); the result, with its figures, goes to the
caller as events and to the run's exports/ folder as a record.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import Cancelled, ConfigError, DiskError, ModelError
from core.events import ExportCheck, Exported, OnEvent, Progress, ShouldStop, Stage, ignore_event, never_stop
from core.evaluation.summary import export_outlook
from core.export import gguf_file, ollama, verify
from core.export.base import base_for_export
from core.export.merge import base_tensors, merged_tensors, read_lora, write_merged_weights
from core.store import RunDir, write_json

FORMATS = ("adapter", "merged", "gguf", "ollama")
_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


@dataclass
class ExportResult:
    format: str
    quant: str | None
    folder: str
    files: dict[str, int] = field(default_factory=dict)
    """File name → bytes."""
    export_seconds: float = 0.0
    verify_seconds: float = 0.0
    peak_rss_gb: float = 0.0
    """Peak resident memory of this process while the files were written (memory-mapped weights included)."""
    added_private_gb: float = 0.0
    """How much the process's private memory grew at its peak while writing: what the export itself cost."""
    checks: list[ExportCheck] = field(default_factory=list)
    command: str = ""
    """For ollama: the one line that makes the model in Ollama."""
    outlook: str = ""
    """How the exported model answers everyday questions on its own, from the run's report (export_outlook)."""
    record: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed is not False for c in self.checks)

    def summary(self) -> str:
        size = sum(self.files.values()) / 1e6
        verdict = "passed" if self.passed else "FAILED"
        return (f"{self.format}{f' ({self.quant})' if self.quant else ''} export {verdict}: {len(self.files)} files, "
                f"{size:.0f} MB, written in {self.export_seconds:.1f} s (peak memory {self.peak_rss_gb:.2f} GB, "
                f"{self.added_private_gb:+.2f} GB while writing), "
                f"checked in {self.verify_seconds:.1f} s")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


class PeakMemory:
    """Resident memory while a block runs, sampled every 20 ms (psutil: every OS): the peak, the level before, and
    the peak of private memory (resident minus file-backed pages, on Linux), which leaves out the memory-mapped
    weights the kernel can drop at any time."""

    def __init__(self) -> None:
        self.before = self.peak = self.private_before = self.private_peak = 0
        self._stop = threading.Event()

    def _sample(self, process: Any) -> None:
        info = process.memory_info()
        private = info.rss - getattr(info, "shared", 0)
        self.peak, self.private_peak = max(self.peak, info.rss), max(self.private_peak, private)

    def __enter__(self) -> PeakMemory:
        import psutil

        process = psutil.Process()
        info = process.memory_info()
        self.before = self.peak = info.rss
        self.private_before = self.private_peak = info.rss - getattr(info, "shared", 0)

        def sample() -> None:
            while not self._stop.wait(0.02):
                self._sample(process)
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def check_request(fmt: str, quant: str | None) -> str | None:
    """The quantisation this format uses (None for adapter/merged); ConfigError listing every problem."""
    problems = []
    if fmt not in FORMATS:
        problems.append(f"format '{fmt}' is not one of {', '.join(FORMATS)}")
    if fmt in ("adapter", "merged") and quant not in (None, ""):
        problems.append(f"--quant applies to gguf and ollama exports, not to '{fmt}'")
    if quant not in (None, "") and quant not in gguf_file.QUANTS:
        problems.append(f"quantisation '{quant}' is not one of {', '.join(gguf_file.QUANTS)}")
    if problems:
        raise ConfigError(problems)
    return (quant or "f16") if fmt in ("gguf", "ollama") else None


def _tokenizer_files(adapter: Path) -> list[Path]:
    return [f for f in sorted(adapter.iterdir()) if f.is_file() and f.name not in _ADAPTER_FILES and f.name != "README.md"]


def _jinja(tokenizer: Any) -> ollama.Render:
    return lambda messages, gen: tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)


def _end_of_turn(tokenizer: Any, turns: ollama.Turns | None) -> list[int]:
    """EOS first, then the special tokens that end an assistant turn (<|im_end|>, <|eot_id|>, <end_of_turn>…)."""
    ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    if turns is not None:
        specials = [t.content for t in tokenizer.added_tokens_decoder.values() if t.special]
        for token in ollama.stop_words(turns, specials, [])[:1]:
            ids.append(tokenizer.convert_tokens_to_ids(token))
    return list(dict.fromkeys(ids))


def _write_merged_config(base_dir: Path, tmp: Path, tokenizer: Any, eos_ids: list[int]) -> None:
    import json

    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    config.pop("quantization_config", None)
    (tmp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    generation: dict[str, Any] = {}
    if (base_dir / "generation_config.json").is_file():
        generation = json.loads((base_dir / "generation_config.json").read_text(encoding="utf-8"))
    generation.update(eos_token_id=eos_ids if len(eos_ids) > 1 else eos_ids[0],
                      pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0])
    if config.get("bos_token_id") is not None:
        generation["bos_token_id"] = config["bos_token_id"]
    (tmp / "generation_config.json").write_text(json.dumps(generation, indent=2), encoding="utf-8")


def export_run(run: Path | str, fmt: str, out: Path | str, quant: str | None = None, model: str | None = None,
               on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop) -> ExportResult:
    """Export the run's tuned model as `fmt` into `out`, verify it by loading it back, and record the result."""
    from core.models import load_tokenizer

    run, out = Path(run), Path(out)
    quant = check_request(fmt, quant)
    base_dir = base_for_export(run, model)
    adapter = RunDir(run).adapter
    tokenizer = load_tokenizer(adapter)
    on_event(Progress(Stage.EXPORT, f"Exporting {run.name} as {fmt}{f' ({quant})' if quant else ''} "
                                    f"with the base model {base_dir.name}…"))
    plan = gguf_file.plan_gguf(base_dir, adapter) if fmt in ("gguf", "ollama") else None
    try:
        turns: ollama.Turns | None = ollama.read_turns(_jinja(tokenizer), tokenizer.bos_token, tokenizer.chat_template)
    except ModelError:
        if fmt == "ollama":
            raise
        turns = None
    eos_ids = _end_of_turn(tokenizer, turns)
    stem = ollama.ollama_name(run.name)
    gguf_name = f"{stem}-{quant}.gguf"
    targets = {"adapter": [*_ADAPTER_FILES], "merged": ["config.json"], "gguf": [gguf_name],
               "ollama": [gguf_name, "Modelfile"]}[fmt]
    clash = [name for name in targets if (out / name).exists()]
    if clash:
        raise DiskError(f"{out} already holds {', '.join(clash)}; the export would overwrite it.",
                        "Choose an empty folder for --out, or move those files away first.")
    result = ExportResult(fmt, quant, str(out), outlook=export_outlook(run))

    def tick(done: int, total: int) -> None:
        if should_stop():
            raise Cancelled("Export stopped; nothing was written to the folder.")
        if done % 20 == 0 or done == total:
            on_event(Progress(Stage.EXPORT, f"Writing tensors: {done}/{total}", done, total, tick=True))

    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(out) / f".tunedesk-export-{int(time.time())}"
        tmp.mkdir()
    except OSError as exc:
        if out.exists() and not out.is_dir():
            raise DiskError(f"{out} is a file, not a folder: an export writes several files into a folder.",
                            "Choose a folder for the export, or a new name (it is created).") from exc
        raise DiskError(f"Could not create the export folder {out}: {exc.strerror or exc}",
                        "Choose a folder you can write to.") from exc
    started = time.perf_counter()
    try:
        with PeakMemory() as memory:
            if fmt == "adapter":
                for file in [adapter / n for n in _ADAPTER_FILES] + _tokenizer_files(adapter):
                    shutil.copy2(file, tmp / file.name)
            elif fmt == "merged":
                lora = read_lora(adapter)
                count = len(base_tensors(base_dir))
                seen = [0]

                def on_tensor(_info: Any) -> None:
                    seen[0] += 1
                    tick(seen[0], count)
                write_merged_weights(base_dir, lora, tmp, on_tensor)
                _write_merged_config(base_dir, tmp, tokenizer, eos_ids)
                tokenizer.save_pretrained(str(tmp))
            else:
                assert plan is not None and quant is not None
                lora = read_lora(adapter)
                gguf_file.write_gguf(tmp / gguf_name, plan, tokenizer, lambda: merged_tensors(base_dir, lora),
                                     base_tensors(base_dir), quant, f"{base_dir.name} tuned on {run.name}",
                                     eos_ids[1:] or eos_ids, tick)
                if fmt == "ollama":
                    assert turns is not None
                    specials = [t.content for t in tokenizer.added_tokens_decoder.values() if t.special]
                    stops = ollama.stop_words(turns, specials, [tokenizer.eos_token] if tokenizer.eos_token else [])
                    (tmp / "Modelfile").write_text(ollama.modelfile(gguf_name, ollama.go_template(turns), stops,
                                                                    turns.default_system), encoding="utf-8")
        for file in sorted(tmp.iterdir()):
            file.replace(out / file.name)
            result.files[file.name] = (out / file.name).stat().st_size
    except OSError as exc:
        raise DiskError(f"Could not write the export to {out}: {exc.strerror or exc}",
                        "Free some disk space or choose another folder, then export again.") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.export_seconds = time.perf_counter() - started
    result.peak_rss_gb = memory.peak / 2**30
    result.added_private_gb = (memory.private_peak - memory.private_before) / 2**30
    on_event(Progress(Stage.EXPORT, f"Written to {out}: {', '.join(result.files)} ({result.export_seconds:.1f} s, "
                                    f"peak memory {result.peak_rss_gb:.2f} GB)", len(result.files), len(result.files)))
    if fmt == "ollama":
        result.command = ollama.create_command(out, stem)

    started = time.perf_counter()
    result.checks = _verify(run, fmt, quant, out, gguf_name, base_dir, tokenizer, turns, eos_ids, on_event, should_stop)
    result.verify_seconds = time.perf_counter() - started
    result.record = str(_record(run, result))
    message = result.summary() + (f". To use it in Ollama: {result.command}" if result.command else "")
    on_event(Exported(fmt, str(out), result.passed, message))
    return result


def _verify(run: Path, fmt: str, quant: str | None, out: Path, gguf_name: str, base_dir: Path, tokenizer: Any,
            turns: ollama.Turns | None, eos_ids: list[int], on_event: OnEvent, should_stop: ShouldStop) -> list[ExportCheck]:
    checks: list[ExportCheck] = []

    def done(check: ExportCheck) -> None:
        checks.append(check)
        on_event(check)
        if should_stop():
            raise Cancelled("Verification stopped; the exported files are kept.")

    if fmt == "ollama":
        assert turns is not None
        done(verify.check_modelfile(out / "Modelfile", _jinja(tokenizer), turns))
    on_event(Progress(Stage.VERIFY, "Answering the check prompts with the tuned model in the app (the reference)…"))
    from core.models.identity import model_fingerprint

    ref = verify.reference(run, base_dir, tokenizer, eos_ids, model_fingerprint(base_dir), f16=quant == "f16")
    on_event(Progress(Stage.VERIFY, f"Loading the {fmt} export back and answering the same prompts…"))
    if fmt == "adapter":
        done(verify.check_adapter(out, base_dir, ref))
    elif fmt == "merged":
        done(verify.check_merged(out, ref))
    else:
        assert quant is not None
        done(verify.check_gguf(out / gguf_name, quant, ref))
        specials = [t.content for t in tokenizer.added_tokens_decoder.values() if t.special]
        stops = ollama.stop_words(turns, specials, [tokenizer.eos_token]) if turns is not None else [tokenizer.eos_token]
        done(verify.check_llama_cpp(out / gguf_name, ref, stops))
    return checks


def _record(run: Path, result: ExportResult) -> Path:
    """runs/<id>/exports/<time>-<format>.json: what was exported where, and how its checks went."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = run / "exports" / f"{stamp}-{result.format}{'-' + result.quant if result.quant else ''}.json"
    write_json(path, {"created": _dt.datetime.now().isoformat(timespec="seconds"), **result.to_dict()})
    return path
