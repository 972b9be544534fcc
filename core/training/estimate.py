"""Pre-flight estimate: will this training fit here, and how long will it take?

A pure function of the model's shape (core/models/shape.py: config.json, weight
headers and file sizes, read by the caller; no weights loaded), the settings and
the device, computed in milliseconds, so the CLI prints it before starting and
the GUI can show it while settings change. It reads, reports and writes nothing:
core.pipeline.preflight reads the shape, measures the examples, saves the estimate
in run.json and warns when a run will not fit. The step count is the loop's own
plan (core/training/plan.py).

Memory, in the unit run.json reports as `peak_memory_gb` (whole-process RSS
on CPU/MPS, allocated tensors on CUDA), is the larger of the loading peak and
the training peak:
    runtime      Python + torch + transformers + peft                  (CPU/MPS only)
    weights      frozen base: 4 / 2 bytes per parameter; NF4 ≈ 0.52 bytes per linear-layer
                 parameter, with embeddings and norms in fp32 (prepare_model_for_kbit_training)
    adapter      LoRA weights, gradients and two AdamW moments: 16 bytes per LoRA parameter
    activations  kept for backward, per token per layer ∝ (6·hidden + 2·kv_dim + 3·intermediate)
                 elements — what a LLaMA-style block saves for LoRA's backward (the inputs of the
                 adapted linears, norms, attention out, the gated MLP) — times a bytes-per-element
                 factor calibrated below; tokens = batch × the longest example (≤ max_seq_len; from
                 a sample of ≤ 500 examples in preflight)
    logits       the LM head runs on answer tokens only (core/training/loss.py): on a CPU as one fused
                 pass over ~170-row pieces with fixed buffers, elsewhere ≤1024 rows at a time

Time: FLOPs per token ≈ 4·P_linear (forward + input-gradient backward through the
frozen base; no weight gradients, cf. 6·P for full fine-tuning, Kaplan et al. 2020)
+ 6·P_lora + attention + 4·vocab·hidden on answer tokens, divided by a measured
throughput per device and precision.

Calibration (this repository's 2-core AMD EPYC CPU with avx512_bf16, SmolLM2-135M,
LoRA r=16 all-linear; bench/estimate.py measures it, tests/test_estimate.py re-checks one point):
    peak RSS           bf16 1.39 / 1.83 / 2.64 GB at batch×seq 4×128 / 4×256 / 8×256;
                       NF4 2.70 GB and fp32 3.07 GB at 4×256; runtime 0.45 GB after imports
    activation factor  with the CPU kernels (core/training/attention.py, lora_linear.py,
                       rms_norm.py): 4.0 bytes/element (bf16), 7.0 (NF4: peft's own 4-bit
                       LoRA layers), 8.1 (fp32). peft + SDPA (GPU, MPS; the CPU before those
                       kernels): 6.3, 8.0 and 12.2 — fp32 copies in RMSNorm, autocast copies of
                       LoRA inputs and the gradients in flight during backward
    throughput         one BLAS thread: 115 GFLOP/s in bf16 (99–127 across the six bf16
                       configurations), 66 in fp32, 92 in NF4 — with N cores we assume
                       1 + 0.8·(N−1) cores' worth (two threads on this busy machine measure
                       the neighbours, not the model)
CUDA and MPS constants are not measured here (no such device in this repository's
CI); they come from vendor peak figures with an efficiency typical of small-batch
LoRA, and are marked as such in the message. On every device, a computer's finished runs then correct
these figures: the caller passes their measured ÷ predicted speed (measured_speed.py) as `speed_factor`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from core.device import DeviceInfo, choose_precision
from core.models.shape import ModelShape
from core.progress import duration_words
from core.training.config import TrainConfig
from core.training.loss import CHUNK_ROWS, piece_rows
from core.training.plan import plan_steps

FITS = "trains here"  # in whatever precision fits (bf16 LoRA on a roomy CPU, 4-bit QLoRA on CUDA): FitVerdict.precision
CHAT_ONLY = "chat only"
NO_FIT = "too large"

GB = 2**30
RUNTIME_GB = {"cpu": 0.45, "mps": 0.6, "cuda": 0.0}  # imports; CUDA counts tensors only
CUDA_CONTEXT_GB = 0.5  # CUDA context + allocator slack, outside max_memory_allocated
HEADROOM = 0.9  # use at most 90% of what is free
ACT_BYTES_PER_ELEMENT = {"bf16": 6.3, "fp16": 6.3, "nf4": 8.0, "fp32": 12.2}  # peft + SDPA (GPU, MPS)
CPU_ACT_BYTES_PER_ELEMENT = {"bf16": 4.0, "fp16": 4.0, "nf4": 7.0, "fp32": 7.5}  # CPU kernels; mixed lengths fragment
LOGIT_BYTES = {"bf16": 12.0, "fp16": 12.0, "nf4": 12.0, "fp32": 16.0}  # per answer row × vocab
CPU_LOGIT_BYTES = {"bf16": 8.0, "fp16": 8.0, "nf4": 8.0, "fp32": 12.0}  # per row of the fused head's buffers
LOGIT_ROWS = CHUNK_ROWS
ANSWER_SHARE = 0.6  # share of tokens that are answers (sample documents: 0.58)
PADDING = 1.1  # length-grouped batches pad little
NF4_BYTES = 0.516  # 4 bits + double-quantised absmax per 64 weights
NF4_CPU_EXTRA = 2.7  # bytes per linear parameter left in RSS by quantising on the CPU (measured)
LORA_STATE_BYTES = 16.0
CPU_FLOPS_PER_CORE = {"bf16": 290e9, "fp16": 290e9, "fp32": 103e9, "nf4": 188e9}  # one thread, bench/estimate.py
CPU_PARALLEL_EFFICIENCY = 0.65  # each extra core adds this much: 1.34 → 0.82 s/step from 1 to 2 threads (bench/estimate.py)
GPU_PEAK_BF16 = {  # dense tensor-core FLOP/s, vendor figures
    "H200": 989e12, "H100": 989e12, "A100": 312e12, "A10": 125e12, "L40": 181e12, "L4": 121e12,
    "RTX 4090": 165e12, "RTX 4080": 97e12, "RTX 3090": 71e12, "RTX 3080": 59e12, "V100": 125e12, "T4": 65e12,
}
GPU_EFFICIENCY = {"bf16": 0.25, "fp16": 0.25, "fp32": 0.25 / 8, "nf4": 0.15}
MPS_FLOPS = 4e12  # effective, uncalibrated
FIRST_GUESS = " (a first guess until a run here is timed: computers differ up to 3× in speed)"
"""What a CPU estimate says before this computer has timed a run of its own (measured_speed.py)."""
EVAL_BATCH_SHARE = 1.0
"""A validation batch against a training step: forward only, but logits over the whole vocabulary at every
position (training computes answers' rows only); measured ~3 s per check of 4 batches at 0.9 s/step (quick preset)."""
ATTENTION_FLOPS = {"cpu": 20, "cuda": 6, "mps": 6}
"""Per layer, token, key and query channel, forward + backward, in matmul-equivalent FLOPs. GPUs' fused causal
kernels do the textbook 6; core/training/attention.py computes full (T × T) scores, recomputes them in the
backward and runs small (head size 64) matmuls at a lower rate: 20 fits bench/estimate.py's mixed-length run."""
STEP_OVERHEAD_S = {"cuda": 0.001, "mps": 0.003, "cpu": 0.0}  # per layer: kernel launches dominate tiny models


@dataclass(frozen=True)
class Estimate:
    precision: str
    precision_reason: str
    peak_memory_gb: float
    """Comparable with run.json's peak_memory_gb: process RSS on CPU/MPS, allocated tensors on CUDA."""
    budget_gb: float
    """Memory free for it now (HEADROOM applied)."""
    seconds_per_step: float
    total_steps: int
    total_seconds: float
    verdict: str
    """FITS ("trains here") | CHAT_ONLY ("chat only") | NO_FIT ("too large")."""
    message: str
    breakdown: dict[str, float] = field(default_factory=dict)
    """GB per part of the peak, for display."""
    seconds_per_eval: float = 0.0
    """One validation check (forward passes only): the loop's time-left figure uses it until one is measured."""
    speed_factor: float | None = None
    """This computer's measured ÷ predicted seconds per step (measured_speed.py), applied to the times above;
    None before its first finished run."""

    @property
    def fits(self) -> bool:
        return self.verdict == FITS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FitVerdict:
    verdict: str
    precision: str
    train_gb: float
    chat_gb: float
    budget_gb: float
    message: str


# --- the model ------------------------------------------------------------------------------------

def lora_params(shape: ModelShape, config: TrainConfig) -> int:
    """Adapter size for LLaMA-style module names; unknown names count as all-linear."""
    h, q, kv, i = shape.hidden, shape.q_dim, shape.kv_dim, shape.intermediate
    dims = {"q_proj": h + q, "k_proj": h + kv, "v_proj": h + kv, "o_proj": q + h,
            "gate_proj": (h + i) * shape.experts, "up_proj": (h + i) * shape.experts, "down_proj": (i + h) * shape.experts}
    names = [t.strip() for t in config.target_modules.split(",") if t.strip()]
    if config.target_modules == "all-linear" or not any(n in dims for n in names):
        per_layer = sum(dims.values())
    else:
        per_layer = sum(dims[n] for n in names if n in dims)
    return config.lora_r * per_layer * shape.layers


# --- memory -----------------------------------------------------------------------------------------

def _weights_gb(shape: ModelShape, precision: str, device: str) -> float:
    if precision == "nf4":
        other = shape.params - shape.linear_params
        extra = NF4_CPU_EXTRA * shape.linear_params if device == "cpu" else 0.0
        return (shape.linear_params * NF4_BYTES + other * 4 + extra) / GB
    return shape.params * (4 if precision == "fp32" else 2) / GB


def _train_memory(shape: ModelShape, config: TrainConfig, precision: str, device: str,
                  longest: float | None = None, teacher_tokens: int = 0) -> dict[str, float]:
    # The longest batch is as long as the longest example, which max_seq_len only caps: passages of
    # ~200 tokens never fill the default 384, and counting 384 over-predicted a 2 × 512 run by 50%.
    tokens = config.batch_size * min(config.max_seq_len, longest or config.max_seq_len)
    per_token_layer = 6 * shape.hidden + 2 * shape.kv_dim + 3 * shape.intermediate
    if device == "cpu":  # the fused head's fixed buffers; smaller saved activations (core/training/model.cpu_kernels)
        act_bytes, logit_bytes, logit_rows = CPU_ACT_BYTES_PER_ELEMENT, CPU_LOGIT_BYTES, piece_rows(shape.vocab)
    else:
        act_bytes, logit_bytes, logit_rows = ACT_BYTES_PER_ELEMENT, LOGIT_BYTES, min(LOGIT_ROWS, ANSWER_SHARE * tokens)
    parts = {
        "runtime": RUNTIME_GB.get(device, 0.45),
        "weights": _weights_gb(shape, precision, device),
        "adapter": lora_params(shape, config) * LORA_STATE_BYTES / GB,
        "activations": tokens * shape.layers * per_token_layer * act_bytes[precision] / GB,
        "logits": logit_rows * shape.vocab * logit_bytes[precision] / GB,
    }
    if teacher_tokens and device != "cuda":  # the base model's states kept for distillation (core/training/distil.py),
        # in its compute dtype and in the computer's memory: a GPU receives one batch's share per step
        parts["teacher states"] = teacher_tokens * shape.hidden * (4 if precision == "fp32" else 2) / GB
    if device != "cuda":
        # Loading reads the whole file, then converts it to the training dtype (CPU/MPS RSS).
        converted = parts["weights"] if precision != "fp32" else 0.0
        parts["loading peak"] = parts["runtime"] + shape.file_bytes / GB + converted
    return parts


def _peak(parts: dict[str, float]) -> float:
    steady = sum(v for k, v in parts.items() if k != "loading peak")
    return max(steady, parts.get("loading peak", 0.0))


def _chat_memory(shape: ModelShape, device: DeviceInfo) -> float:
    bytes_per = 2 if device.bf16 or device.kind == "cuda" else 4
    weights = shape.params * bytes_per / GB
    kv_cache = 2 * shape.layers * shape.kv_dim * 4096 * bytes_per / GB
    runtime = RUNTIME_GB.get(device.kind, 0.45)
    steady = runtime + weights + kv_cache + shape.vocab * 4 * 4 / GB
    loading = runtime + shape.file_bytes / GB + weights if device.kind != "cuda" else 0.0
    return max(steady, loading) + (CUDA_CONTEXT_GB if device.kind == "cuda" else 0.0)


def _budget(device: DeviceInfo) -> float:
    return device.available_memory_gb * HEADROOM


# --- time -------------------------------------------------------------------------------------------

def _flops_per_token(shape: ModelShape, config: TrainConfig, span: float, device: str) -> float:
    active_linear = shape.linear_params / shape.experts * min(shape.experts, 2)  # top-2 routing for MoE
    attention = ATTENTION_FLOPS.get(device, 6) * shape.layers * span * shape.q_dim
    head = ANSWER_SHARE * 4 * shape.vocab * shape.hidden
    return 4 * active_linear + 6 * lora_params(shape, config) + attention + head


def _throughput(device: DeviceInfo, precision: str) -> tuple[float, str]:
    """Achieved FLOP/s and whether the figure was measured on this kind of device."""
    if device.kind == "cuda":
        peak = next((v for k, v in GPU_PEAK_BF16.items() if k in device.name), 100e12)
        return peak * GPU_EFFICIENCY[precision], "uncalibrated"
    if device.kind == "mps":
        return MPS_FLOPS * (0.5 if precision == "fp32" else 1.0), "uncalibrated"
    cores = 1 + CPU_PARALLEL_EFFICIENCY * (max(1, device.cpu_cores) - 1)
    return CPU_FLOPS_PER_CORE[precision] * cores, "calibrated"


def _seconds_per_step(shape: ModelShape, config: TrainConfig, device: DeviceInfo, precision: str,
                      mean_tokens: float, computed_tokens: float | None, attention_span: float | None) -> float:
    seq = computed_tokens or min(float(mean_tokens), float(config.max_seq_len)) * PADDING
    tokens = config.batch_size * config.grad_accum * seq
    rate, _ = _throughput(device, precision)
    overhead = STEP_OVERHEAD_S.get(device.kind, 0.0) * shape.layers * 3 * config.grad_accum
    return tokens * _flops_per_token(shape, config, attention_span or seq, device.kind) / rate + overhead


_duration = duration_words


# --- the public calls ---------------------------------------------------------------------------------

def estimate(config: TrainConfig, shape: ModelShape, device: DeviceInfo, n_train_examples: int,
             mean_tokens: float, longest_tokens: float | None = None,
             computed_tokens: float | None = None, attention_span: float | None = None,
             speed_factor: float | None = None, teacher_tokens: int = 0) -> Estimate:
    """Memory, time and a verdict for training `config` on a model of this shape here (core.models.model_shape).

    longest_tokens: the longest training example, when known (else max_seq_len is assumed).
    computed_tokens: tokens computed per example, in the loop's own batch order (core.pipeline.preflight):
    its own where the loss packs rows, else with its batch's padding (core/training/eta.computed_tokens);
    when unknown, mean_tokens × PADDING.
    attention_span: keys each token attends to on average, over the batches (eta.attended_pairs / tokens:
    attention grows with the square of an example's or padded row's length, so a few long examples cost
    more than their mean says).
    speed_factor: how much slower (> 1) or faster this computer's finished runs were than predicted
    (core/training/measured_speed.py); times are scaled by it, and then say so instead of being rough.
    teacher_tokens: answer tokens (training and validation) whose base-model states the run keeps for
    distillation (core/training/distil.py teacher_tokens): they stay in the computer's memory the whole run
    (counted on a CPU or a Mac, whose figure is the process's; a GPU's figure is its own memory).
    """
    choice = choose_precision(device, shape.params, config.precision)
    precision = choice.precision
    parts = _train_memory(shape, config, precision, device.kind, longest_tokens, teacher_tokens)
    peak = _peak(parts)
    need = peak + (CUDA_CONTEXT_GB if device.kind == "cuda" else 0.0)
    budget = _budget(device)
    step_s = _seconds_per_step(shape, config, device, precision, mean_tokens, computed_tokens, attention_span)
    step_s *= speed_factor or 1.0
    plan = plan_steps(config, n_train_examples)  # the loop's own plan: the steps timed are the steps trained
    steps = plan.total_steps
    n_val = n_train_examples * config.val_fraction / max(0.1, 1 - config.val_fraction)
    per_eval_s = math.ceil(n_val / config.batch_size) * step_s / max(1, config.grad_accum) * EVAL_BATCH_SHARE
    eval_s = plan.evaluations * per_eval_s
    load_s = 5 + shape.file_bytes / 300e6
    total_s = steps * step_s + eval_s + load_s
    _, calibrated = _throughput(device, precision)
    # The CPU constants were measured on one CPU; first runs on two others took 2.5-3x (session 15, an EPYC) and
    # 3.4x (session 40, a Xeon with AMX: 0.31 s a step predicted, 1.05 measured) as long. Say so until one is timed.
    rough = (" (timed from this computer's earlier runs)" if speed_factor else
             FIRST_GUESS if calibrated == "calibrated" else " (a rough figure: this device type has not been measured)")
    per_step = _duration(step_s)
    timing = (f"{'' if per_step.startswith('under') else 'about '}{per_step} per step, {steps} steps: "
              f"roughly {_duration(total_s)} in all{rough}.")
    if need <= budget:
        verdict = FITS
        message = (f"Training fits: it needs about {need:.1f} GB of the {device.available_memory_gb:.1f} GB free "
                   f"({precision}: {choice.reason}); {timing}")
    else:
        chat = _chat_memory(shape, device)
        verdict = CHAT_ONLY if chat <= budget else NO_FIT
        message = (f"Training will probably not fit: it needs about {need:.1f} GB, and {device.available_memory_gb:.1f} GB "
                   f"is free. {_advice(shape, config, device, budget)}"
                   + (" The model is small enough to chat with." if verdict == CHAT_ONLY else
                      " This model is too large for this computer even to chat with."))
    return Estimate(precision, choice.reason, round(peak, 3), round(budget, 2), step_s, steps, total_s, verdict, message,
                    {k: round(v, 3) for k, v in parts.items()}, round(per_eval_s, 3), speed_factor)


def _smallest_fitting(shape: ModelShape, config: TrainConfig, device: DeviceInfo, budget: float) -> tuple[str, float] | None:
    """The smallest change that makes training fit (as CLI flags) and its memory, tried in order of cost to the user."""
    tries = [("--batch-size 1", dict(batch_size=1)),
             ("--batch-size 1 --max-seq-len 256", dict(batch_size=1, max_seq_len=min(256, config.max_seq_len)))]
    if device.nf4:
        tries.append(("--batch-size 1 --max-seq-len 256 --precision nf4",
                      dict(batch_size=1, max_seq_len=min(256, config.max_seq_len), precision="nf4")))
    for flags, change in tries:
        smaller = dataclasses.replace(config, **change)
        precision = choose_precision(device, shape.params, smaller.precision).precision
        need = _peak(_train_memory(shape, smaller, precision, device.kind))
        need += CUDA_CONTEXT_GB if device.kind == "cuda" else 0.0
        if need <= budget:
            return flags, need
    return None


def _advice(shape: ModelShape, config: TrainConfig, device: DeviceInfo, budget: float) -> str:
    found = _smallest_fitting(shape, config, device, budget)
    if found:
        return f"It would fit with {found[0]} (about {found[1]:.1f} GB)."
    return "Choose a smaller model, or close other programs to free memory."


def fit_check(shape: ModelShape, device: DeviceInfo) -> FitVerdict:
    """Can this model be fine-tuned here at all (standard settings, else the smallest batch), or only chatted with?"""
    config = TrainConfig()
    est = estimate(config, shape, device, n_train_examples=100, mean_tokens=config.max_seq_len * 0.4)
    chat = _chat_memory(shape, device)
    train = est.peak_memory_gb + (CUDA_CONTEXT_GB if device.kind == "cuda" else 0.0)
    free = device.available_memory_gb
    if est.verdict == FITS:
        return FitVerdict(FITS, est.precision, round(train, 2), round(chat, 2), est.budget_gb,
                          f"Trains here ({est.precision}, about {train:.1f} GB of {free:.1f} GB free).")
    smaller = _smallest_fitting(shape, config, device, est.budget_gb)
    if smaller:
        flags, need = smaller
        return FitVerdict(FITS, est.precision, round(need, 2), round(chat, 2), est.budget_gb,
                          f"Trains here with {flags} (about {need:.1f} GB of {free:.1f} GB free).")
    if est.verdict == CHAT_ONLY:
        message = f"Chat only: training needs about {train:.1f} GB, chatting about {chat:.1f} GB, and {free:.1f} GB is free."
    else:
        message = f"Too large here: even chatting needs about {chat:.1f} GB, and {free:.1f} GB is free."
    return FitVerdict(est.verdict, est.precision, round(train, 2), round(chat, 2), est.budget_gb, message)
