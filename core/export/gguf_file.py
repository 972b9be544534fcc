"""Merged weights → a GGUF file for llama.cpp, LM Studio and Ollama, written with the `gguf` package.

Metadata first, as llama.cpp's convert_hf_to_gguf.py writes it (architecture, sizes, rope, then the tokenizer:
model, pre-tokenizer, tokens, token types, merges, BOS/EOS/end-of-turn/padding ids, whether to add BOS, and the
chat template), then each tensor under its GGUF name (gguf's own TensorNameMap) with llama's q/k rows permuted
the way llama.cpp's rope expects. Tensors come one at a time from the streaming merge (core/export/merge.py) and
go straight to the file (GGUFWriter's tensor-info-then-data mode), so writing costs one tensor of memory.

Supported: the llama architecture (Llama 2/3, SmolLM/SmolLM2, TinyLlama) with a byte-level BPE tokenizer, which
is what transformers and llama.cpp both read the same way. Anything else is refused before any work, with the
reason: a GGUF that loads but tokenizes differently is exactly the "answers garbage" export.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.errors import ModelError

QUANTS = ("f16", "q8_0", "q4_0")
ARCHITECTURES = {"LlamaForCausalLM": "llama"}
"""transformers class → GGUF architecture this writer handles."""
SUPPORTED_WORDS = "the llama architecture (Llama 2 and 3, SmolLM, SmolLM2, TinyLlama) with a byte-level BPE tokenizer"

# tokenizer.json's pre-tokenizer → llama.cpp's name for it (tokenizer.ggml.pre), by the split it makes.
_LLAMA3_REGEX_START = "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
_HINT = "Export as 'merged' (safetensors, for transformers) or 'adapter' instead."


@dataclass(frozen=True)
class GGUFPlan:
    arch: str
    pre: str
    config: dict[str, Any]


def _pre_tokenizer(tokenizer_json: dict[str, Any]) -> str | None:
    """llama.cpp's pre-tokenizer name for this tokenizer.json, or None when it is not one we can name."""
    pre = tokenizer_json.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"  # GPT-2's own split; llama.cpp refuses to load "gpt2" ("unknown pre-tokenizer type")
    if pre.get("type") == "Sequence":
        kinds = [p.get("type") for p in pre.get("pretokenizers", [])]
        if kinds == ["Digits", "ByteLevel"] and pre["pretokenizers"][0].get("individual_digits"):
            return "smollm"  # SmolLM's: digits one by one, then GPT-2's split
        if kinds and kinds[0] == "Split":
            regex = (pre["pretokenizers"][0].get("pattern") or {}).get("Regex", "")
            if regex.startswith(_LLAMA3_REGEX_START) and "\\p{N}{1,3}" in regex:
                return "llama-bpe"
    return None


def plan_gguf(model_dir: Path, tokenizer_dir: Path) -> GGUFPlan:
    """Check, before any long work, that this model can be written as a GGUF we trust; ModelError if not."""
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    arch_class = (config.get("architectures") or ["?"])[0]
    arch = ARCHITECTURES.get(arch_class)
    if arch is None:
        raise ModelError(f"GGUF export supports {SUPPORTED_WORDS}; this model is {arch_class}.", _HINT)
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    if rope.get("rope_type", rope.get("type", "default")) not in ("default", None):
        raise ModelError(f"GGUF export does not write {rope.get('rope_type') or rope.get('type')} rope scaling yet.", _HINT)
    tokenizer_file = Path(tokenizer_dir) / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise ModelError("GGUF export needs the tokenizer as tokenizer.json, and the run has none.", _HINT)
    tok = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    if (tok.get("model") or {}).get("type") != "BPE" or (tok.get("decoder") or {}).get("type") != "ByteLevel":
        raise ModelError(f"GGUF export supports {SUPPORTED_WORDS}; this tokenizer is "
                         f"{(tok.get('model') or {}).get('type', '?')} without byte-level decoding.", _HINT)
    pre = _pre_tokenizer(tok)
    if pre is None:
        raise ModelError("GGUF export does not recognise this tokenizer's pre-tokenizer, and a wrong one makes "
                         "llama.cpp split text differently from training.", _HINT)
    return GGUFPlan(arch, pre, config)


def _vocab(tokenizer: Any, size: int) -> tuple[list[str], list[int]]:
    """Tokens by id and their GGUF types (convert_hf_to_gguf's get_vocab_base): control for special added
    tokens, user-defined for other added ones, unused padding for ids the tokenizer does not have."""
    from gguf import TokenType

    reverse = {i: t for t, i in tokenizer.get_vocab().items()}
    added = {i: tok for i, tok in tokenizer.added_tokens_decoder.items()}
    tokens, types = [], []
    for i in range(size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(TokenType.UNUSED)
        elif i in added:
            tokens.append(added[i].content)
            types.append(TokenType.CONTROL if added[i].special else TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i])
            types.append(TokenType.NORMAL)
    return tokens, [int(t) for t in types]


def _permute(weights: Any, n_head: int) -> Any:
    """llama's q/k rows reordered for llama.cpp's rope (convert_hf_to_gguf.LlamaModel.permute)."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def stored_type(name: str, shape: tuple[int, ...], quant: str) -> Any:
    """The GGML type of one tensor: norms stay F32; the embedding (also the output layer when tied) stays Q8_0
    in a 4-bit file, as llama.cpp's own quantiser keeps the output layer at higher precision."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as Q

    if len(shape) < 2:
        return Q.F32
    wanted = {"f16": Q.F16, "q8_0": Q.Q8_0, "q4_0": Q.Q4_0}[quant]
    if wanted == Q.Q4_0 and name in ("token_embd.weight", "output.weight"):
        wanted = Q.Q8_0
    block = GGML_QUANT_SIZES[wanted][0]
    return wanted if shape[-1] % block == 0 else Q.F16


def round_as_f16_file(model: Any) -> Any:
    """`model` with its weights rounded in place to what an f16 file stores (stored_type: F16 matrices, F32
    norms): the f16 export's exact twin. Read back by transformers' GGUF reader, the file gives this model's logits
    bit for bit (measured on the demo model), so its greedy answers are held to the twin's, and a near-tie that
    rounding to f16 alone flips is not a failed export."""
    import torch
    from gguf import GGMLQuantizationType as Q

    wanted = {Q.F16: torch.float16, Q.F32: torch.float32}
    with torch.no_grad():
        for param in model.parameters():
            dtype = wanted[stored_type("", tuple(param.shape), "f16")]
            param.copy_(param.to(dtype).to(param.dtype))
    return model


def _encode(array: Any, qtype: Any) -> Any:
    import numpy as np
    from gguf import GGMLQuantizationType as Q, quants

    if qtype == Q.F32:
        return array.astype(np.float32)
    if qtype == Q.F16:
        return array.astype(np.float16)
    return quants.quantize(array.astype(np.float32), qtype)


def write_gguf(path: Path, plan: GGUFPlan, tokenizer: Any, tensors: Callable[[], Any], infos: list[Any], quant: str,
               name: str, eot_ids: list[int], on_tensor: Callable[[int, int], None] | None = None) -> None:
    """Write `path`. `tensors()` yields (info, merged torch tensor) in `infos`' order (core/export/merge.py)."""
    import gguf
    import numpy as np
    import torch

    cfg, arch = plan.config, plan.arch
    n_layers, n_head = int(cfg["num_hidden_layers"]), int(cfg["num_attention_heads"])
    n_kv = int(cfg.get("num_key_value_heads") or n_head)
    head_dim = int(cfg.get("head_dim") or cfg["hidden_size"] // n_head)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name(name)
    writer.add_context_length(int(cfg["max_position_embeddings"]))
    writer.add_embedding_length(int(cfg["hidden_size"]))
    writer.add_feed_forward_length(int(cfg["intermediate_size"]))
    writer.add_block_count(n_layers)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_kv)
    writer.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-5)))
    rope = cfg.get("rope_parameters") or {}
    writer.add_rope_freq_base(float(rope.get("rope_theta", cfg.get("rope_theta", 10000.0))))
    writer.add_rope_dimension_count(head_dim)
    if head_dim != cfg["hidden_size"] // n_head:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    vocab_size = int(cfg["vocab_size"])
    writer.add_vocab_size(vocab_size)
    writer.add_file_type({"f16": gguf.LlamaFileType.MOSTLY_F16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
                          "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}[quant])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tokens, types = _vocab(tokenizer, vocab_size)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(plan.pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    merges = backend["model"].get("merges") or []
    writer.add_token_merges([" ".join(m) if isinstance(m, list) else m for m in merges])
    for kind in ("bos", "eos", "unk", "pad"):
        token_id = getattr(tokenizer, f"{kind}_token_id", None)
        if token_id is not None:
            getattr(writer, f"add_{'pad' if kind == 'pad' else kind}_token_id")(int(token_id))
    if eot_ids:
        writer.add_eot_token_id(int(eot_ids[0]))
    probe = tokenizer("a")["input_ids"]
    writer.add_add_bos_token(bool(probe) and probe[0] == tokenizer.bos_token_id)
    writer.add_add_eos_token(bool(probe) and probe[-1] == tokenizer.eos_token_id and len(probe) > 1)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)

    # Tensor infos first (names, shapes, types, byte sizes), then the data in the same order.
    plan_rows = []
    for info in infos:
        gguf_name = names.get_name(info.name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ModelError(f"GGUF export has no name for the tensor {info.name}.", _HINT)
        qtype = stored_type(gguf_name, info.shape, quant)
        if qtype in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            dtype = np.float32 if qtype == gguf.GGMLQuantizationType.F32 else np.float16
            nbytes = math.prod(info.shape) * np.dtype(dtype).itemsize
            writer.add_tensor_info(gguf_name, info.shape, np.dtype(dtype), nbytes)
        else:
            byte_shape = gguf.quant_shape_to_byte_shape(info.shape, qtype)
            writer.add_tensor_info(gguf_name, byte_shape, np.dtype(np.uint8), math.prod(byte_shape), raw_dtype=qtype)
        plan_rows.append((info.name, gguf_name, qtype))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    try:
        for done, ((info, tensor), (hf_name, gguf_name, qtype)) in enumerate(zip(tensors(), plan_rows), start=1):
            assert info.name == hf_name
            array = tensor.to(torch.float32).numpy()
            if hf_name.endswith("q_proj.weight"):
                array = _permute(array, n_head)
            elif hf_name.endswith("k_proj.weight"):
                array = _permute(array, n_kv)
            writer.write_tensor_data(_encode(array, qtype))
            if on_tensor is not None:
                on_tensor(done, len(plan_rows))
    finally:
        writer.close()
