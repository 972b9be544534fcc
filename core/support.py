"""What a model can do on this machine: train here, load in 4 bits, chat through the lean CPU decoder.

Shown by `tunedesk models list` and the Model page, so a user learns before a run
that a Gemma 2 trains more slowly on a CPU or that 4-bit does not run on this device,
instead of finding out from a log. Each answer comes from the code that acts on
it, not from a second list of architectures that could drift from it:

    train here    core.training.estimate.fit_check (what the pre-flight estimate says)
    CPU kernels   core.training.model.plan_cpu_kernels, the gates cpu_kernels uses, asked of a
                  weightless (meta-device) copy of the model built from config.json
    4-bit         the device's own bitsandbytes check (core.device) and the causal-LM check a folder passes
    lean chat     core.chat.lean.lean_declined, on the config transformers reads from config.json

Only config.json and the safetensors headers are read (no weights): about 0.2 s a model
once torch and transformers are imported, so a list can afford it. It still touches
disk and imports torch, so the GUI calls it on a worker thread.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.device import DeviceInfo


@dataclass(frozen=True)
class Verdict:
    ok: bool
    why: str
    """Why it is or is not supported, in words a user can act on."""


@dataclass(frozen=True)
class Support:
    device: str
    """The device the answers are for: "cuda" | "mps" | "cpu"."""
    fit: Any
    """core.training.estimate.FitVerdict: trains here, chat only, or too large."""
    train_here: Verdict
    """Fine-tuning fits this machine (the pre-flight estimate's verdict)."""
    cpu_kernels: Verdict
    """Every CPU training kernel applies to this model as this machine would train it (4-bit weights, when
    that is how it fits, take no LoRA kernel); when not, training on a CPU runs, more slowly."""
    four_bit: Verdict
    """4-bit QLoRA (bitsandbytes NF4) is possible for this model here."""
    lean_chat: Verdict
    """The lean int8 CPU decoder answers for this model (faster than transformers' forward: core/chat/lean.py)."""
    kernels_declined: dict[str, str] = field(default_factory=dict)
    """CPU kernel ("attention", "lora", "norms", "head_loss") → why it is declined, for some layers or all."""

    def cells(self) -> dict[str, str]:
        """Short yes/no answers for a table; the CPU-only paths say "n/a" on a GPU (it does that work there)."""
        on_cpu = self.device == "cpu"
        return {"train": _yes(self.train_here.ok), "4-bit": _yes(self.four_bit.ok),
                "fast chat": _yes(self.lean_chat.ok) if on_cpu else "n/a"}

    def summary(self) -> str:
        """One line: "train: yes · 4-bit: yes · fast chat: yes"."""
        return " · ".join(f"{name}: {value}" for name, value in self.cells().items())

    def notes(self) -> list[str]:
        """What is not supported here, or only partly, and why: one line each (empty when all is well)."""
        lines = [] if self.train_here.ok else [f"train: {self.train_here.why}"]
        if self.device == "cpu" and self.train_here.ok and not self.cpu_kernels.ok:
            lines.append(f"train: {self.cpu_kernels.why}")
        if not self.four_bit.ok:
            lines.append(f"4-bit: {self.four_bit.why}")
        if self.device == "cpu" and not self.lean_chat.ok:
            lines.append(f"fast chat: {self.lean_chat.why}")
        return lines

    def details(self) -> list[str]:
        """Every answer with its reason (a tooltip's lines)."""
        lines = [f"Train here: {self.train_here.why}"]
        if self.device == "cpu":
            lines.append(f"CPU training kernels: {self.cpu_kernels.why}")
        lines.append(f"4-bit (QLoRA): {self.four_bit.why}")
        if self.device == "cpu":
            lines.append(f"Fast chat: {self.lean_chat.why}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        names = ("train_here", "cpu_kernels", "four_bit", "lean_chat", "kernels_declined")
        return {name: asdict(value) if isinstance(value, Verdict) else value
                for name, value in ((n, getattr(self, n)) for n in names)}


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


def model_support(folder: Path, device: DeviceInfo) -> Support:
    """What the model in `folder` (a checked model folder) can do on `device`, from its small files only."""
    import json

    from core.models.shape import model_shape
    from core.training.estimate import FITS, fit_check

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    fit = fit_check(model_shape(folder), device)
    kernels, declined, lean = _cpu_paths(folder)
    if device.kind == "cpu" and fit.precision == "nf4" and (kernels.ok or declined):
        # Planned on a bf16 copy, but this machine trains it in 4 bits (core.device.choose_precision):
        # bitsandbytes layers sit under every LoRA layer, and the LoRA kernel takes plain linears only.
        declined = {**declined, "lora": "every layer: the model trains in 4 bits here (its bf16 weights would "
                                        "not fit in memory), and bitsandbytes' 4-bit layers run under peft's forward"}
        kernels = Verdict(False, _kernels_why(declined))
    return Support(device.kind, fit, Verdict(fit.verdict == FITS, fit.message), kernels,
                   _four_bit(config, device), lean, declined)


def _cpu_paths(folder: Path) -> tuple[Verdict, dict[str, str], Verdict]:
    """(the CPU kernels' verdict, kernel → why it is declined, the lean decoder's verdict), from the config as
    transformers reads it. A config it cannot read or build (a newer architecture) is answered with the
    reason, not raised: one odd model must not break the list it is in."""
    from core.chat.lean import lean_declined
    from core.training.model import plan_cpu_kernels, weightless_model

    try:
        from transformers import AutoConfig

        hf_config = AutoConfig.from_pretrained(str(folder))
    except Exception as exc:  # noqa: BLE001 - any failure is the answer, shown with its reason
        unchecked = Verdict(False, f"could not be checked: transformers cannot read its config ({_first_line(exc)})")
        return unchecked, {}, unchecked
    reason = lean_declined(hf_config)
    lean = Verdict(reason is None, "the lean int8 decoder answers for it" if reason is None
                   else f"transformers' slower forward answers, as the lean decoder does not take it: {reason}")
    try:
        declined = plan_cpu_kernels(weightless_model(hf_config), on="meta").declined
    except Exception as exc:  # noqa: BLE001 - as above
        return Verdict(False, f"could not be checked: {_first_line(exc)}"), {}, lean
    return Verdict(not declined, _kernels_why(declined)), declined, lean


def _kernels_why(declined: dict[str, str]) -> str:
    if not declined:
        return "all of TuneDesk's CPU training kernels apply (attention, LoRA, norms, head loss)"
    parts = "; ".join(f"{_KERNEL_WORDS[kernel]}: {why}" for kernel, why in declined.items())
    return f"slower on a CPU, with the stock code instead of TuneDesk's kernel for {parts}"


_KERNEL_WORDS = {"attention": "attention", "lora": "LoRA layers", "norms": "RMSNorms", "head_loss": "the head loss"}


def _four_bit(config: dict[str, Any], device: DeviceInfo) -> Verdict:
    """bitsandbytes NF4 needs a causal LM transformers can quantise and a device where its 4-bit layer ran
    (core.device runs one). On a CPU it is used only to make a model fit: bf16 trains faster there."""
    from core.models.folders import not_a_causal_lm

    problem = not_a_causal_lm(config)
    if problem:
        return Verdict(False, f"4-bit loading is for text generators, and this is {problem}")
    if device.nf4:
        where = " on the CPU, used when bf16 weights would not fit in memory" if device.kind == "cpu" else ""
        return Verdict(True, f"QLoRA with {device.nf4_detail}{where}")
    if device.kind == "cuda":
        return Verdict(False, f"bitsandbytes 4-bit does not run on this GPU ({device.nf4_detail})")
    return Verdict(False, f"needs an NVIDIA GPU ({device.nf4_detail})")


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
