"""The families people pick, each as a tiny random-weight model built offline from its config, plus the
real demo model: our CPU training kernels and the lean chat decoder either compute what the stock path
computes, or decline for that model and log why. One test per path, parametrised over the families.

Each tiny config switches on what a Llama-shaped kernel could get silently wrong: Gemma's x·(1+w)
norms and scaled embeddings, Gemma 2's soft-capped attention and logits and sliding windows, Gemma 3's
q/k norms and per-layer rope, Qwen3's q/k norms, Qwen2's q/k/v biases, Phi-3's fused projections and
Mistral v0.1's sliding window. Windows are 8 tokens and the sequences longer, so the windows bind.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from decode_check import assert_decodes_like_transformers, transformers_decode

torch = pytest.importorskip("torch")

VOCAB = 512
TINY = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, initializer_range=0.15,
            bos_token_id=1, eos_token_id=2, pad_token_id=0)
WINDOW = 8


def _configs() -> dict:
    import transformers as T

    gemma = dict(head_dim=16, query_pre_attn_scalar=16, sliding_window=WINDOW,
                 layer_types=["sliding_attention", "full_attention"])
    return {
        "llama": T.LlamaConfig(**TINY),
        "qwen2": T.Qwen2Config(**TINY),
        "qwen3": T.Qwen3Config(**TINY, head_dim=16),
        "gemma2": T.Gemma2Config(**TINY, **gemma),
        "gemma3": T.Gemma3TextConfig(**TINY, **gemma),
        "phi3": T.Phi3Config(**TINY),
        "mistral": T.MistralConfig(**TINY, sliding_window=None),  # v0.2 onwards
        "mistral-v0.1": T.MistralConfig(**TINY, sliding_window=WINDOW),
    }


FAMILIES = ["llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "mistral", "mistral-v0.1"]


@pytest.fixture(scope="session")
def family_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each tiny model saved as a model folder (so it loads as a user's would: load_model picks its attention)."""
    from transformers import AutoModelForCausalLM

    root, folders = tmp_path_factory.mktemp("families"), {}
    for name, config in _configs().items():
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config)
        with torch.no_grad():
            for param in model.parameters():
                if param.ndim == 1:  # norms start at 1 (Gemma's at 0) and biases at 0: move them, so a
                    param.add_(0.2 * torch.randn_like(param))  # dropped weight or (1 + w) shows
        model.save_pretrained(root / name)
        folders[name] = root / name
    return folders


def _folder(request: pytest.FixtureRequest, family: str) -> Path:
    if family == "demo":
        return request.getfixturevalue("demo_model_dir")
    return request.getfixturevalue("family_dirs")[family]


# ---- training: CPU kernels against plain peft + SDPA ----------------------------------------------------

ALL = "all"
TAKEN = {  # which kernels each family takes, in 2 layers: a kernel quietly dropped (or taken) shows here
    "llama": dict(attention=True, lora=ALL, norms=5, head_loss=True),
    "qwen2": dict(attention=True, lora=8, norms=5, head_loss=True),  # q/k/v have biases: peft's forward
    "qwen3": dict(attention=True, lora=ALL, norms=9, head_loss=True),  # + q_norm, k_norm per layer
    "gemma2": dict(attention=False, lora=ALL, norms=0, head_loss=False),  # eager attention; soft-capped logits
    "gemma3": dict(attention=True, lora=ALL, norms=0, head_loss=True),  # x·(1+w) norms
    "phi3": dict(attention=True, lora=ALL, norms=5, head_loss=True),
    "mistral": dict(attention=True, lora=ALL, norms=5, head_loss=True),
    "mistral-v0.1": dict(attention=True, lora=ALL, norms=5, head_loss=True),  # windowed calls go to SDPA
    "demo": dict(attention=True, lora=ALL, norms=61, head_loss=True),
}
DECLINED = {  # what the log must say for the kernels a family declines
    "qwen2": ["LoRA kernel declined for k_proj, q_proj, v_proj: the base layer has a bias"],
    "gemma2": ["CPU attention declined: Gemma2ForCausalLM uses eager attention",
               "RMSNorm kernel declined for Gemma2RMSNorm: its output differs from x·w/rms(x)",
               "Fused head loss declined: final-logit soft-capping"],
    "gemma3": ["RMSNorm kernel declined for Gemma3RMSNorm: its output differs from x·w/rms(x)"],  # probed, not skipped
}


def _batch() -> dict:
    """Two right-padded sequences (24 and 17 tokens), loss on all but the first 8: longer than the windows."""
    from core.training.data import IGNORE

    ids = torch.randint(3, VOCAB, (2, 24), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    ids[1, 17:], mask[1, 17:] = 0, 0
    labels = ids.masked_fill(mask == 0, IGNORE)
    labels[:, :8] = IGNORE
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _text_batch(tokenizer) -> dict:
    """The demo model gets text, as in tests/test_training_kernels.py: on random tokens its loss is 15 and
    its bf16 gradients (ours and peft's alike) are noisier, with our median error 1.36× peft's there
    against 1.19× on text."""
    from core.training.data import collate, encode

    pairs = (("Who founded Harbor Lane Bakery?", "Marta Okonkwo founded it in 1987, on Harbor Lane."),
             ("What is the capital of France?", "Paris."))
    return collate([encode(tokenizer, [{"role": "user", "content": q}, {"role": "assistant", "content": a}], 256)
                    for q, a in pairs], tokenizer.pad_token_id)


def _train_step(folder: Path, precision: str, kernels: bool, batch: dict) -> tuple[float, dict, dict]:
    """Loss and LoRA gradients of one step: ours (answer_loss, cpu_kernels), or the reference, plain peft
    with the attention the model loads with (SDPA; Gemma 2: eager) and transformers' own loss on full logits."""
    from core.models import load_model
    from core.training.config import TrainConfig
    from core.training.loss import answer_loss, autocast_for
    from core.training.model import add_lora, cpu_kernels

    model = add_lora(load_model(folder, precision, "cpu"), TrainConfig(), precision)
    torch.manual_seed(5)
    for name, param in model.named_parameters():
        if "lora_B" in name:  # peft starts B at zero; a trained adapter is what the kernels must handle
            param.data.normal_(0, 0.05)
    taken = cpu_kernels(model, fuse_layers=True) if kernels else {}
    model.train()
    with autocast_for(precision, "cpu"):
        loss = answer_loss(model, batch)[0] if kernels else model(**batch).loss
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}
    return float(loss.detach()), grads, taken


def _relative(a, b) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


@pytest.mark.parametrize("family", FAMILIES + ["demo"])
def test_cpu_kernels_train_as_peft_and_sdpa_do_or_decline(family: str, request, caplog):
    """fp32: the same loss and LoRA gradients (rtol 1e-4); bf16: no further from fp32 than peft's own
    bf16 is. Where a kernel would differ it must be declined, with the reason in the log."""
    folder = _folder(request, family)
    batch = _batch() if family != "demo" else _text_batch(request.getfixturevalue("tokenizer"))
    with caplog.at_level(logging.INFO, logger="core.training"):
        loss, grads, taken = _train_step(folder, "fp32", True, batch)
    ref_loss, ref_grads, _ = _train_step(folder, "fp32", False, batch)
    expected = dict(TAKEN[family])
    if expected["lora"] == ALL:
        expected["lora"] = len(ref_grads) // 2  # an A and a B per LoRA layer
    assert taken == expected
    for line in DECLINED.get(family, []):
        assert line in caplog.text
    assert abs(loss - ref_loss) <= 1e-5 * abs(ref_loss)
    assert grads.keys() == ref_grads.keys()
    assert max(_relative(grads[k], ref_grads[k]) for k in ref_grads) < 1e-4

    errors = {}
    for kernels in (False, True):
        bf16_loss, bf16_grads, _ = _train_step(folder, "bf16", kernels, batch)
        rel = sorted(_relative(bf16_grads[k], ref_grads[k]) for k in ref_grads)
        errors[kernels] = (abs(bf16_loss - ref_loss), rel[len(rel) // 2])
    # loss: one batch's bf16 loss is chaotic at the 0.01-0.07 level, so this bound only catches a kernel that is
    # badly off. Measured (session 22, transformers 5.25, 8 one-sequence batches, the model's own loss on full
    # logits): SDPA in bf16 is 0.004-0.046 from fp32; with our attention 0.006-0.056; with our attention computed
    # wholly in fp32 (inputs and outputs still bf16) 0.005-0.073, no closer. So the gap on this batch (ours 0.0247,
    # peft 0.0047) is where bf16 rounding lands, not our arithmetic. Attention's own precision is judged per op in
    # tests/test_training_kernels.py (random inputs, within 1.5x of SDPA's bf16 error); on this model's real q/k/v
    # ours is 0.3-0.5% from fp32 against SDPA's 0.17% (it rounds scores to bf16; SDPA keeps them in fp32).
    # Session 37: the forward is SDPA's own (0.18% on this model's real q/k/v, ours was 0.42%), and this batch's
    # loss lands 0.043 from fp32 (peft 0.0015): on 8 batches of the realistic benchmark's training rows, 0.0033-0.0141
    # (mean 0.0070; the former forward 0.0026-0.0184, mean 0.0078; peft 0.0008-0.0360, mean 0.0099).
    assert errors[True][0] < 0.06
    assert errors[True][1] < 1.25 * errors[False][1]  # median gradient error: 0.93-1.08× peft's (tiny), 1.19× (demo)


# ---- chat: the lean decoder against transformers' decode ------------------------------------------------

LEAN = {  # None: the lean pass decodes; else what the log must say when it declines
    "llama": None, "qwen2": None, "qwen3": None, "mistral": None, "demo": None,
    "gemma2": "gemma2 is not one of the architectures",
    "gemma3": "gemma3_text is not one of the architectures", "phi3": "phi3 is not one of the architectures",
    "mistral-v0.1": "sliding-window attention (8 tokens",  # it would attend past the window
}


@pytest.mark.parametrize("family", FAMILIES + ["demo"])
def test_lean_decoder_decodes_as_transformers_does_or_declines(family: str, request, caplog):
    """The model as chat loads it here (chat precision, int8 Linears), decoded through ChatModel's own
    steps: where the lean pass runs, the same criterion as tests/test_chat.py (the prompt exactly
    transformers' logits; decoded steps no further from transformers' step-by-step decode than that is
    from its own full-sequence forward); where it declines, transformers' greedy decode, token for token."""
    from core.chat.lean import lean_decoder
    from core.chat.quantize import quantize_linears_int8
    from core.chat.session import ChatModel, chat_precision
    from core.models import load_model

    net = load_model(_folder(request, family), chat_precision("cpu"), "cpu").eval()
    quantize_linears_int8(net)
    with caplog.at_level(logging.INFO, logger="core.chat"):
        lean = lean_decoder(net)
    chat = ChatModel(net, None, "base", "cpu", set(), None, lean)
    prompt = torch.randint(3, VOCAB, (20,), generator=torch.Generator().manual_seed(2)).tolist()  # > PREFILL_ROWS
    new = 12
    with torch.inference_mode():
        step = chat._steps(prompt, new)
        logits = [step(None)]
        for _ in range(new):
            logits.append(step(int(logits[-1].argmax())))
        ours = torch.stack(logits).float()
        answer = ours.argmax(-1)[:-1].tolist()
    stepwise, whole = transformers_decode(net, prompt, answer)
    if LEAN[family] is not None:
        assert lean is None and LEAN[family] in caplog.text
        greedy = net.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                              max_new_tokens=new, do_sample=False, pad_token_id=0)[0, len(prompt):]
        assert answer == greedy.tolist()
        return
    assert lean is not None and "Lean chat decoder declined" not in caplog.text
    assert_decodes_like_transformers(ours, stepwise, whole)


@pytest.mark.parametrize("family", FAMILIES + ["demo"])
def test_replies_scored_on_the_shared_conversation_score_as_each_alone(family: str, request):
    """continuation_likelihoods runs the conversation once and scores every candidate reply on a copy of its
    cache, padded in batches: in fp32 each sum equals one plain forward over that prompt and reply alone,
    including where a sliding window (8 tokens here) binds over a 20-token prompt and in a smaller last batch."""
    from core.chat.session import continuation_likelihoods
    from core.models import load_model

    net = load_model(_folder(request, family), "fp32", "cpu").eval()
    generator = torch.Generator().manual_seed(3)
    prompt = torch.randint(3, VOCAB, (20,), generator=generator).tolist()
    replies = [torch.randint(3, VOCAB, (n,), generator=generator).tolist() for n in (3, 12, 7, 1, 9)]
    with torch.inference_mode():
        alone = []
        for reply in replies:
            logp = net(input_ids=torch.tensor([prompt + reply])).logits[0, len(prompt) - 1:-1].float().log_softmax(-1)
            alone.append(float(logp[torch.arange(len(reply)), torch.tensor(reply)].sum()))
    shared = continuation_likelihoods(net, prompt, replies, pad=0, device="cpu", batch=2)
    assert shared == pytest.approx(alone, abs=1e-3)


def test_lean_decoder_declines_a_llama_with_another_activation():
    """A Llama-type config can name any activation; the lean pass computes SiLU, so it must decline."""
    from transformers import LlamaConfig

    from core.chat.lean import lean_declined

    assert lean_declined(LlamaConfig(**TINY)) is None
    assert "gelu" in lean_declined(LlamaConfig(**TINY, hidden_act="gelu"))


# ---- the listing: what `models list` and the Model page say each family supports ------------------------

_LOG_PREFIXES = ("CPU attention declined: ", "LoRA kernel declined for ", "RMSNorm kernel declined for ",
                 "Fused head loss declined: ")


@pytest.mark.parametrize("family", FAMILIES + ["demo"])
def test_support_says_what_training_and_chat_do(family: str, request):
    """core/support.py judges a model from its config.json alone (a weightless copy through the same gates);
    it must say what the two tests above prove happens with real weights: the kernels training takes (TAKEN:
    the very counts) and declines (DECLINED's log lines), and whether the lean decoder answers (LEAN)."""
    import dataclasses

    from transformers import AutoConfig

    from core.device import detect
    from core.support import model_support
    from core.training.model import plan_cpu_kernels, weightless_model

    device = dataclasses.replace(detect(), kind="cpu")  # the CPU paths are the ones asked about
    folder = _folder(request, family)
    support = model_support(folder, device)
    taken = TAKEN[family]
    plan = plan_cpu_kernels(weightless_model(AutoConfig.from_pretrained(str(folder))), on="meta")
    assert {k: v for k, v in plan.taken.items() if taken[k] != ALL} == {k: v for k, v in taken.items() if v != ALL}
    declined = {kernel for kernel, ok in (("attention", taken["attention"]), ("lora", taken["lora"] == ALL),
                                          ("norms", taken["norms"] > 0), ("head_loss", taken["head_loss"])) if not ok}
    assert set(support.kernels_declined) == declined
    assert support.cpu_kernels.ok == (not declined)
    reasons = " | ".join(support.kernels_declined.values())
    for line in DECLINED.get(family, []):
        assert line.removeprefix(next(p for p in _LOG_PREFIXES if line.startswith(p))) in reasons
    assert support.lean_chat.ok == (LEAN[family] is None)
    if LEAN[family] is not None:
        assert LEAN[family] in support.lean_chat.why
        assert support.cells()["fast chat"] == "no" and any(n.startswith("fast chat: ") for n in support.notes())
    assert support.train_here.ok and support.four_bit.ok == device.nf4


def test_a_model_that_trains_in_4_bits_on_a_cpu_is_listed_without_the_lora_kernel(tmp_path: Path):
    """A CPU trains a model in 4 bits when its bf16 weights would not fit (core.device.choose_precision):
    bitsandbytes layers then sit under every LoRA layer, and the LoRA kernel takes none. The listing plans on
    a bf16 copy, so it must say so itself, or it promises a speed the run will not have."""
    import dataclasses
    import json

    from core.device import detect
    from core.support import model_support

    folder = tmp_path / "llama-3b"  # the shape of a 3B Llama, config only: nothing is loaded
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 3072, "intermediate_size": 8192,
        "num_hidden_layers": 28, "num_attention_heads": 24, "num_key_value_heads": 8, "vocab_size": 128256,
        "max_position_embeddings": 8192, "tie_word_embeddings": True}))
    cpu = dataclasses.replace(detect(), kind="cpu", bf16=True, nf4=True, nf4_detail="bitsandbytes (CPU)")
    roomy = model_support(folder, dataclasses.replace(cpu, total_memory_gb=64.0, available_memory_gb=64.0))
    tight = model_support(folder, dataclasses.replace(cpu, total_memory_gb=16.0, available_memory_gb=16.0))
    assert (roomy.fit.precision, roomy.train_here.ok, roomy.cpu_kernels.ok) == ("bf16", True, True)
    assert (tight.fit.precision, tight.train_here.ok, tight.cpu_kernels.ok) == ("nf4", True, False)
    assert set(tight.kernels_declined) == {"lora"} and "4 bits" in tight.kernels_declined["lora"]
    assert any(note.startswith("train: ") and "4 bits" in note for note in tight.notes())
