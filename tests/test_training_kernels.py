"""The CPU training kernels (attention, head loss, LoRA linear, RMSNorm) against the paths they replace.

Each is held to the replaced path exactly in fp32 and, in bf16, to no more error against an fp32
reference than the replaced path's own bf16 error: they must change speed, not what is learnt.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _relative(a, b) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


def _sdpa(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)


def _attention(q, k, v):
    from core.training.attention import register

    register()
    return torch.ops.tunedesk.causal_attention(q, k, v, q.shape[-1] ** -0.5)


def _outputs_and_grads(fn, q, k, v, grad, dtype):
    leaves = [t.detach().to(dtype).requires_grad_() for t in (q, k, v)]
    out = fn(*leaves)
    out.backward(grad.to(dtype))
    return [out.detach()] + [t.grad for t in leaves]


@pytest.mark.parametrize("heads,kv_heads,length", [(9, 3, 7), (9, 3, 130), (4, 4, 65), (6, 2, 600)])
def test_cpu_attention_matches_sdpa(heads: int, kv_heads: int, length: int):
    """Grouped and plain heads; 600 tokens needs one slice per piece, 7 tokens packs many into one."""
    torch.manual_seed(0)
    q = torch.randn(2, heads, length, 64)
    k, v = torch.randn(2, kv_heads, length, 64), torch.randn(2, kv_heads, length, 64)
    grad = torch.randn(2, heads, length, 64)
    reference = _outputs_and_grads(_sdpa, q, k, v, grad, torch.float32)
    ours = _outputs_and_grads(_attention, q, k, v, grad, torch.float32)
    for a, b in zip(ours, reference):
        assert _relative(a, b) < 1e-5
    sdpa_bf16 = _outputs_and_grads(_sdpa, q, k, v, grad, torch.bfloat16)
    ours_bf16 = _outputs_and_grads(_attention, q, k, v, grad, torch.bfloat16)
    for mine, theirs, exact in zip(ours_bf16, sdpa_bf16, reference):
        assert mine.dtype == torch.bfloat16
        assert _relative(mine, exact) < 1.5 * _relative(theirs, exact) + 1e-3


def test_cpu_attention_leaves_masked_attention_to_sdpa():
    """A padding mask (or anything but plain causal attention) must give SDPA's own result."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from core.training.attention import attention_forward

    torch.manual_seed(1)
    layer = torch.nn.Module()
    layer.num_key_value_groups, layer.is_causal = 3, True
    q, k, v = torch.randn(2, 9, 10, 64), torch.randn(2, 3, 10, 64), torch.randn(2, 3, 10, 64)
    mask = torch.ones(2, 1, 10, 10, dtype=torch.bool).tril()
    mask[1, :, :, 7:] = False  # the second row is padded after 7 tokens
    ours, _ = attention_forward(layer, q, k, v, mask, scaling=0.125)
    theirs, _ = sdpa_attention_forward(layer, q, k, v, mask, scaling=0.125)
    assert torch.equal(ours, theirs)


def _transformers_mask(kind: str, position_ids, window: int | None = None):
    """The mask a Mistral-style model is given for these positions, built by transformers itself."""
    from transformers import MistralConfig
    from transformers.masking_utils import create_causal_mask, create_sliding_window_causal_mask

    from core.training.attention import NAME, register

    register()
    config = MistralConfig(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=1,
                           sliding_window=window)
    config._attn_implementation = NAME
    make = create_sliding_window_causal_mask if kind == "sliding" else create_causal_mask
    embeds = torch.zeros(1, position_ids.shape[1], 64)
    return make(config=config, inputs_embeds=embeds, attention_mask=None, cache=None, position_ids=position_ids)


def test_packed_rows_are_recognised_only_in_the_mask_transformers_builds_for_them():
    """Our attention computes a packed row's examples on their own only where the mask says exactly that:
    the block-causal mask transformers builds from restarting positions. A sliding window shorter than
    an example, or positions that do not restart, leave the call to SDPA with the mask (None here).
    Later examples whose positions all start at P (data.packed `share`) attend to the row's first P tokens."""
    from core.training.attention import packed_bounds

    def bounds(mask, positions):
        found, prefix = packed_bounds(mask, positions)
        return (found.tolist(), int(prefix)) if found is not None else (None, prefix)

    positions = torch.cat([torch.arange(n) for n in (5, 9, 3)])[None]
    mask = _transformers_mask("causal", positions)
    assert bounds(mask, positions) == ([0, 5, 14, 17], 0)
    assert bounds(_transformers_mask("sliding", positions, window=4), positions) == (None, None)
    assert bounds(_transformers_mask("sliding", positions, window=64), positions) == ([0, 5, 14, 17], 0)
    one_row = torch.arange(17)[None]
    assert _transformers_mask("causal", one_row) is None  # plain causal: no mask, nothing to recognise
    assert bounds(mask, one_row) == (None, None)  # the mask does not match these positions
    assert bounds(mask, positions) == ([0, 5, 14, 17], 0)
    shared = torch.cat([torch.arange(5), torch.arange(2, 9), torch.arange(2, 5)])[None]  # 2 prompt tokens shared
    assert bounds(_transformers_mask("causal", shared), shared) == ([0, 5, 12, 15], 2)
    uneven = torch.cat([torch.arange(5), torch.arange(2, 9), torch.arange(3, 5)])[None]  # no layout we make
    assert bounds(_transformers_mask("causal", uneven), uneven) == (None, None)


def test_shared_prompt_stops_before_the_first_answer_token_and_each_rows_last():
    from core.training.data import IGNORE, shared_prefix

    prompt = [IGNORE] * 4
    assert shared_prefix([([1, 2, 3, 4, 9], prompt + [9]), ([1, 2, 3, 4, 8], prompt + [8])]) == 3
    assert shared_prefix([([1, 2, 3, 4, 9], prompt + [9]), ([1, 2, 7, 4, 8], prompt + [8])]) == 2
    assert shared_prefix([([1, 2, 3], [IGNORE] * 3), ([1, 2, 3, 4], [IGNORE] * 4)]) == 2
    assert shared_prefix([([1, 2, 3, 4, 9], prompt + [9])]) == 0  # one example: nothing to share


def test_attention_that_declines_shows_sdpa_the_shared_prompt():
    """Where our kernel declines (here: float64), SDPA gets a mask in which the later examples see the
    prefix too, so both paths compute the same attention."""
    from types import SimpleNamespace

    from core.training.attention import attention_forward, register

    register()
    positions = torch.cat([torch.arange(6), torch.arange(3, 8), torch.arange(3, 7)])[None]
    mask = _transformers_mask("causal", positions)
    torch.manual_seed(4)
    q, k, v = (torch.randn(1, 4, positions.shape[1], 16, dtype=torch.float64) for _ in range(3))
    module = SimpleNamespace(is_causal=True, training=False, num_key_value_groups=1)
    ours, _ = attention_forward(module, q.float(), k.float(), v.float(), mask, position_ids=positions)
    sdpa, _ = attention_forward(module, q, k, v, mask, position_ids=positions)
    assert _relative(ours.double(), sdpa) < 1e-5
    # The reference: each example on its own, the prefix before the later ones.
    later = slice(6, 11)
    alone = _sdpa(*(torch.cat([x[:, :, :3], x[:, :, later]], 2) for x in (q, k, v)))[:, :, 3:]
    assert _relative(sdpa.transpose(1, 2)[:, :, later], alone) < 1e-9


def _lora_model(folder: Path, precision: str, attention: bool, fused: bool):
    from core.models import load_model
    from core.training.attention import use_for_training
    from core.training.config import TrainConfig
    from core.training.lora_linear import fuse_lora_layers
    from core.training.model import add_lora
    from core.training.rms_norm import fuse_rms_norms

    model = add_lora(load_model(folder, precision, "cpu"), TrainConfig(), precision)
    torch.manual_seed(5)
    for name, param in model.named_parameters():
        if "lora_B" in name:  # peft starts B at zero; a trained adapter is what the kernels must handle
            param.data.normal_(0, 0.02)
    if attention:
        assert use_for_training(model.get_base_model())
    if fused:
        assert fuse_lora_layers(model) == 7 * model.config.num_hidden_layers
        assert fuse_rms_norms(model) == 2 * model.config.num_hidden_layers + 1  # two a layer and the final one
    model.train()
    return model


def _loss_and_grads(model, batch, precision: str):
    from core.training.loss import answer_loss, autocast_for

    with autocast_for(precision, "cpu"):
        loss, _ = answer_loss(model, batch)
    loss.backward()
    return float(loss), {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}


PAIRS = (("Who founded Harbor Lane Bakery?", "Marta Okonkwo founded it in 1987, on Harbor Lane."),
         ("What is the capital of France?", "Paris."),
         ("Where is the bakery?", "On Harbor Lane, beside the old ferry steps."))


def _batch(tokenizer, rows: int):
    from core.training.data import collate, encode

    return collate([encode(tokenizer, [{"role": "user", "content": q}, {"role": "assistant", "content": a}], 256)
                    for q, a in PAIRS[:rows]], tokenizer.pad_token_id)


@pytest.fixture(scope="module")
def batch(tokenizer):
    return _batch(tokenizer, 2)


@pytest.fixture(scope="module")
def fp32_reference(demo_model_dir: Path, batch):
    """peft's LoRA layers, SDPA and autograd through full logits, in fp32."""
    return _loss_and_grads(_lora_model(demo_model_dir, "fp32", attention=False, fused=False), batch, "fp32")


def test_training_kernels_change_no_fp32_gradient(demo_model_dir: Path, tokenizer):
    """The whole model, every kernel on (the head is frozen under LoRA, so the fused head loss runs too).
    The batch's three rows differ in length, so ours packs them into one row without the padding
    (data.packed), their shared prompt once, and our attention computes each example on its own, the later ones
    with the prompt before them; the reference runs them padded."""
    from core.training import attention
    from core.training.data import shared_prefix

    batch = _batch(tokenizer, 3)
    attention._checked[:] = [None, None, (None, None)]
    loss, grads = _loss_and_grads(_lora_model(demo_model_dir, "fp32", attention=True, fused=True), batch, "fp32")
    rows = [(batch["input_ids"][r, :n].tolist(), batch["labels"][r, :n].tolist())
            for r, n in enumerate(batch["attention_mask"].sum(1).tolist())]
    lengths, prefix = [len(ids) for ids, _ in rows], shared_prefix(rows)
    assert len(set(lengths)) == 3 and prefix > 10  # the chat template's system prompt, once
    bounds, found = attention._checked[2]  # packed, through our kernel
    ends = [lengths[0] + sum(n - prefix for n in lengths[1:k]) for k in (1, 2, 3)]
    assert int(found) == prefix and bounds.tolist() == [0, *ends]  # fp32: no filler (loss.row_multiple)
    ref_loss, ref_grads = _loss_and_grads(_lora_model(demo_model_dir, "fp32", attention=False, fused=False), batch,
                                          "fp32")
    assert abs(loss - ref_loss) < 1e-5
    assert grads.keys() == ref_grads.keys()
    assert max(_relative(grads[k], ref_grads[k]) for k in ref_grads) < 1e-4


def test_the_row_filler_changes_no_real_token_and_is_taken_in_bf16_only(demo_model_dir: Path, tokenizer):
    """A packed row made up to a multiple of ROW_MULTIPLE tokens (loss.ROW_MULTIPLE) by a label-free example
    gives its real tokens the same hidden states (fp32, every kernel on); answer_loss takes it in bf16, where
    the matmuls are oneDNN's, and not in fp32."""
    from core.training import attention
    from core.training.data import IGNORE, packed
    from core.training.loss import ROW_MULTIPLE, answer_loss, autocast_for

    batch = _batch(tokenizer, 3)
    model = _lora_model(demo_model_dir, "fp32", attention=True, fused=True)
    plain, filled = packed(batch, share=True), packed(batch, share=True, multiple=ROW_MULTIPLE)
    n = plain["input_ids"].shape[1]
    assert filled["input_ids"].shape[1] % ROW_MULTIPLE == 0 and filled["input_ids"].shape[1] > n
    assert torch.equal(filled["labels"][:, :n], plain["labels"]) and bool((filled["labels"][:, n:] == IGNORE).all())
    decoder = model.get_base_model().get_decoder()
    with torch.no_grad():
        hidden = [decoder(input_ids=b["input_ids"], position_ids=b["position_ids"], use_cache=False).last_hidden_state
                  for b in (plain, filled)]
    assert _relative(hidden[1][:, :n], hidden[0]) < 1e-6

    bf16 = _lora_model(demo_model_dir, "bf16", attention=True, fused=True)
    attention._checked[:] = [None, None, (None, None)]
    with torch.no_grad(), autocast_for("bf16", "cpu"):
        answer_loss(bf16, batch)
    bounds, _ = attention._checked[2]
    assert int(bounds[-1]) == filled["input_ids"].shape[1] and int(bounds[-2]) == n


def test_training_kernels_in_bf16_are_as_close_to_fp32_as_peft(demo_model_dir: Path, batch, fp32_reference):
    ref_loss, ref_grads = fp32_reference
    errors = {}
    for kernels in (False, True):
        loss, grads = _loss_and_grads(_lora_model(demo_model_dir, "bf16", attention=kernels, fused=kernels), batch, "bf16")
        rel = sorted(_relative(grads[k], ref_grads[k]) for k in ref_grads)
        errors[kernels] = (abs(loss - ref_loss), rel[len(rel) // 2])
    assert errors[True][0] < 0.02  # loss: bf16 logits give ~0.005 either way
    assert errors[True][1] < 1.25 * errors[False][1]  # median gradient error (~5% for both)


def test_fused_lora_defers_to_peft_when_the_adapter_is_off(demo_model_dir: Path, batch):
    """Disabling the adapter (how routing asks the base model) must give exactly the base layer."""
    model = _lora_model(demo_model_dir, "fp32", attention=False, fused=True)
    layer = model.get_base_model().model.layers[0].self_attn.q_proj
    x = torch.randn(3, layer.in_features)
    with torch.no_grad():
        on = layer(x)
        with model.disable_adapter():
            off = layer(x)
    assert torch.equal(off, layer.base_layer(x))
    assert not torch.allclose(on, off)


def test_fused_head_loss_matches_cross_entropy():
    """More rows than one piece holds, in bf16 and fp32; with and without gradients."""
    from core.training.loss import _head_loss_function, piece_rows

    torch.manual_seed(2)
    vocab, hidden_size = 5000, 64
    rows = 2 * piece_rows(vocab) + 7
    weight = torch.randn(vocab, hidden_size) * 0.2
    hidden, targets = torch.randn(rows, hidden_size), torch.randint(0, vocab, (rows,))
    exact_h = hidden.clone().requires_grad_()
    exact = F.cross_entropy(exact_h @ weight.t(), targets, reduction="sum")
    exact.backward()
    for dtype, tolerance in ((torch.float32, 1e-5), (torch.bfloat16, 2e-2)):
        h = hidden.to(dtype).detach().requires_grad_()
        loss = _head_loss_function().apply(h, weight.to(dtype), targets)
        (loss * 2).backward()  # the upstream gradient scales the stored one
        assert loss.dtype == torch.float32
        assert abs(float(loss) - float(exact)) / float(exact) < tolerance / 10
        assert _relative(h.grad / 2, exact_h.grad) < tolerance
        with torch.no_grad():
            assert float(_head_loss_function().apply(h, weight.to(dtype), targets)) == float(loss)


def test_a_norm_with_another_formula_keeps_its_own_forward():
    """Gemma-style norms scale by (1 + weight): the probe must see the difference and leave them alone."""
    from core.training.rms_norm import fuse_rms_norms

    class GemmaLikeRMSNorm(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(8), requires_grad=False)
            self.variance_epsilon = 1e-6

        def forward(self, x):
            wide = x.float()
            wide = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
            return (wide * (1.0 + self.weight.float())).to(x.dtype)

    model = torch.nn.Sequential(GemmaLikeRMSNorm())
    assert fuse_rms_norms(model) == 0
    assert "forward" not in vars(model[0])


def test_a_weightless_norm_is_probed_like_a_loaded_one():
    """`models list` plans the kernels on a meta-device copy (core/support.py): its norms are probed on CPU
    copies, so a Gemma-style (1 + weight) norm is declined there too and a Llama norm taken."""
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    from core.training.rms_norm import plan_rms_norms

    class GemmaLikeRMSNorm(LlamaRMSNorm):
        def forward(self, x):
            return super().forward(x) / self.weight * (1.0 + self.weight)

    with torch.device("meta"):
        model = torch.nn.Sequential(LlamaRMSNorm(8), GemmaLikeRMSNorm(8)).requires_grad_(False)
    fusable, declined = plan_rms_norms(model)
    assert fusable == [model[0]] and list(declined) == ["GemmaLikeRMSNorm"]


def test_fused_head_loss_learns_the_teachers_distribution_on_soft_rows():
    """Soft rows (core/training/distil.py): w·KL(q ‖ p) + (1 − w)·CE with q from the teacher's states (w = 1:
    replay; 0 < w < 1: a document row's anchor), beside plain cross-entropy on the others, in pieces that hold
    soft rows, hard rows, both and none; against autograd."""
    from core.training.loss import _head_loss_function, piece_rows

    torch.manual_seed(3)
    vocab, hidden_size = 5000, 64
    piece = piece_rows(vocab)
    rows = 3 * piece + 5
    weight = torch.randn(vocab, hidden_size) * 0.2
    hidden, targets = torch.randn(rows, hidden_size), torch.randint(0, vocab, (rows,))
    teacher = torch.randn(rows, hidden_size)
    soft = torch.zeros(rows)
    soft[piece + 3 : piece + 40] = 1.0  # the second piece mixes both kinds
    soft[2 * piece :] = 1.0  # the third and the last are all soft; the first has none
    soft[2 * piece + 7 : 3 * piece + 2] = 0.3  # some of them a mixture with their targets
    exact_h = hidden.clone().requires_grad_()
    logits = exact_h @ weight.t()
    q = F.log_softmax(teacher @ weight.t(), -1)
    ce = F.cross_entropy(logits, targets, reduction="none")
    kl = F.kl_div(F.log_softmax(logits, -1), q, log_target=True, reduction="none").sum(-1)
    exact = ((1 - soft) * ce + soft * kl).sum()
    exact.backward()
    for dtype, tolerance in ((torch.float32, 1e-5), (torch.bfloat16, 2e-2)):
        h = hidden.to(dtype).detach().requires_grad_()
        loss = _head_loss_function().apply(h, weight.to(dtype), targets, teacher.to(dtype), soft)
        loss.backward()
        assert abs(float(loss) - float(exact)) / float(exact) < tolerance / 10
        assert _relative(h.grad, exact_h.grad) < tolerance


def test_replay_rows_learn_the_base_models_distribution(demo_model_dir: Path, tokenizer):
    """attach_teachers keeps the base model's states (adapter off, however far it has moved) at exactly the
    answer tokens: with B = 0 (the tuned model is the base model) a soft row has nothing to learn, KL 0 and
    no gradient; once the adapter has moved it has."""
    from core.training.data import collate, encode
    from core.training.distil import attach_teachers
    from core.training.loss import answer_loss

    model = _lora_model(demo_model_dir, "fp32", attention=False, fused=True)  # B random: a trained adapter
    pairs = (("What is the capital of France?", "The capital of France is Paris."),
             ("Who founded Harbor Lane Bakery?", "Marta Okonkwo founded it in 1987."))
    data = [dataclasses.replace(encode(tokenizer, [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                                       256), distil=i == 0) for i, (q, a) in enumerate(pairs)]
    # Recorded in one padded batch, each row's states are its own: the same as that row recorded alone.
    both = attach_teachers(model, [dataclasses.replace(d, distil=1.0) for d in data], "cpu", "fp32")
    assert len(data[0].input_ids) != len(data[1].input_ids)  # so one of them is padded
    for d, batched in zip(data, both):
        (alone,) = attach_teachers(model, [dataclasses.replace(d, distil=1.0)], "cpu", "fp32")
        assert _relative(batched.teacher, alone.teacher) < 1e-5  # fp32 sums in another order: ~1e-6
    data = attach_teachers(model, data, "cpu", "fp32")
    assert data[0].teacher.shape == (data[0].answer_tokens, model.config.hidden_size) and data[1].teacher is None
    batch = collate(data, tokenizer.pad_token_id)
    assert int(batch["soft"].sum()) == data[0].answer_tokens and len(batch["soft"]) == len(batch["teacher"])
    with torch.no_grad():  # the autograd path (a GPU's, a trained head's) learns the same
        fused, n = answer_loss(model, batch)
        plain, m = answer_loss(model, batch, fused_head=False)
    assert n == m == len(batch["soft"]) and abs(float(fused) - float(plain)) < 1e-4
    mixed = attach_teachers(model, [data[0], dataclasses.replace(data[1], distil=0.5, said_only=True)], "cpu", "fp32")
    batch = collate(mixed, tokenizer.pad_token_id)  # a document row anchored halfway: the autograd path agrees
    row = batch["soft"][data[0].answer_tokens:]  # held at 0.5 only where the original says the word already
    assert set(row.tolist()) <= {0.0, 0.5} and float(batch["soft"][0]) == 1.0
    # Only the states a loss reads are kept, and collate puts them back at their answer tokens.
    wrong = encode(tokenizer, [{"role": "user", "content": pairs[0][0]},
                               {"role": "assistant", "content": "The capital of France is Lyon."}], 256)
    whole, held = attach_teachers(model, [dataclasses.replace(wrong, distil=1.0),
                                          dataclasses.replace(wrong, distil=0.5, said_only=True)], "cpu", "fp32")
    n = int((held.soft > 0).sum())
    assert 0 < n < held.answer_tokens and held.teacher.shape[0] == n  # not 'Lyon': the original says 'Paris'
    laid = collate([held], tokenizer.pad_token_id)["teacher"]
    assert torch.equal(laid[held.soft > 0], held.teacher) and not laid[held.soft == 0].any()
    assert torch.allclose(laid[held.soft > 0], whole.teacher[held.soft > 0], atol=1e-5)
    with torch.no_grad():
        fused, _ = answer_loss(model, batch)
        plain, _ = answer_loss(model, batch, fused_head=False)
    assert abs(float(fused) - float(plain)) < 1e-4
    soft_only = collate(data[:1], tokenizer.pad_token_id)
    moved, _ = _loss_and_grads(model, soft_only, "fp32")
    assert moved > 1e-3
    model.zero_grad()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.zero_()
    loss, grads = _loss_and_grads(model, soft_only, "fp32")
    assert abs(loss) < 1e-5
    assert max(float(g.abs().max()) for g in grads.values()) < 1e-6


def test_the_loss_says_which_answer_tokens_the_model_already_says(demo_model_dir: Path, tokenizer):
    """answer_loss's `said` flags, on the fused CPU head (packed rows) and on the autograd path, are exactly
    where each answer token is the argmax of transformers' own logits: what the loop rests examples by."""
    from core.training.data import answer_positions, collate, encode
    from core.training.loss import answer_loss

    model = _lora_model(demo_model_dir, "fp32", attention=True, fused=True)
    pairs = (("What is the capital of France?", "The capital of France is Paris."),
             ("Who founded Harbor Lane Bakery?", "Marta Okonkwo founded it in 1987."),
             ("Name a colour.", "Blue."))
    batch = collate([encode(tokenizer, [{"role": "user", "content": q}, {"role": "assistant", "content": a}], 256)
                     for q, a in pairs], tokenizer.pad_token_id)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        keep = answer_positions(batch["labels"])
        truth = logits[:, :-1][keep].argmax(-1) == batch["labels"][:, 1:][keep]
        fused: list = []
        plain: list = []
        answer_loss(model, batch, said=fused)
        answer_loss(model, batch, fused_head=False, said=plain)
    assert 0 < int(truth.sum()) < len(truth)  # some tokens said, some not: the comparison can tell them apart
    assert torch.equal(fused[0], truth) and torch.equal(plain[0], truth)


def test_the_anchor_holds_the_documents_rows_at_their_said_words_and_replay_rows_whole(tmp_path: Path, tokenizer):
    """TrainConfig.anchor reaches the rows the loop encodes: replay rows learn the whole distribution whatever
    the anchor; the documents' rows carry the anchor, held only where the original says the word (said_only);
    with the anchor at 0 (the default) they learn their words alone, as before."""
    import json

    from core.training.config import preset_config
    from core.training.loop import _encode_all

    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}], "source": "t",
             "kind": kind} for q, a, kind in (("What is 2 plus 2?", "4.", "replay"),
                                              ("Who runs the Mill Lane depot?", "Hana Veselá.", "qa"))]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    replay, doc = _encode_all(tokenizer, path, preset_config(anchor=0.4))
    assert (replay.distil, replay.said_only, doc.distil, doc.said_only) == (1.0, False, 0.4, True)
    replay, doc = _encode_all(tokenizer, path, preset_config())
    assert (replay.distil, doc.distil) == (1.0, 0.0)
    replay, _ = _encode_all(tokenizer, path, preset_config(anchor=0.4, replay_distribution=False))
    assert replay.distil == 0.0
