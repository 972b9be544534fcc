"""FSDP for LoRA: the model sharded over the ranks with torch's FSDP2, and the full tensors checkpoints hold.

DDP keeps the whole model on every process; FSDP keeps about 1/N of it on each of N while training, the
step towards a model that does not fit one device (each rank loads the model onto its CPU, and sharding
moves each layer's shard to the device: docs/scale-out.md, "Loading"). The DDP loop (ddp_loop.py) calls
`shard_model` where it would wrap the model in DDP, and everything else (the sharded batches, the loss
scaling, the stop agreement) stays the same. Why each choice:
  after LoRA   peft swaps Linear modules for LoRA ones: sharding first would shard modules it then replaces
  per layer   each decoder layer is its own FSDP unit, then the root (embeddings, final norm, head): a layer's
              weights are all-gathered only while it computes, so a rank holds its shard plus about one layer
  the root    is the loss module (distributed.loss_module), as with DDP: FSDP gathers the root's weights
              in its forward, and our loss reaches into the decoder and head instead of calling the model
  frozen too  the base weights are sharded with the LoRA ones (that is the point); only LoRA gets gradients
  precision   MixedPrecisionPolicy(param_dtype = the run's bf16/fp16, reduce_dtype = fp32): the gathered
              weights compute in the run's precision, as autocast computes them in one process; LoRA's shards
              and AdamW's state stay fp32 (peft keeps adapters fp32), gradients are reduced in fp32
  kernels     our CPU kernels (fused LoRA linear, RMSNorm, CPU attention, fused head loss) stay off: they are
              measured on whole modules, not on FSDP's gathered-then-freed parameters (KERNELS_OFF)
Checkpoints are written in the single-process format, so a run continues on any number of processes with
or without FSDP: the LoRA weights and AdamW's state are gathered to full tensors on rank 0
(torch.distributed.checkpoint.state_dict, full_state_dict + cpu_offload), and the optimizer's state is keyed
by parameter index as `optimizer.state_dict()` keys it, not by name.
"""

from __future__ import annotations

from typing import Any

from core.training.distributed import INNER, loss_module

KERNELS_OFF = ("FSDP: our CPU kernels (fused LoRA linear, RMSNorm, CPU attention, fused head loss) and "
               "torch.compile are off; each layer runs transformers' and peft's own code, which FSDP's sharded "
               "parameters are made for (ours are measured on whole modules only)")
"""What the run's log says once: why an FSDP run on a CPU is slower a step than DDP on the same CPU."""

_DTYPES = {"bf16": "bfloat16", "nf4_bf16": "bfloat16", "fp16": "float16"}


def mixed_precision(compute: str) -> Any:
    """FSDP's policy for the run's autocast mode (loop._Training.compute): gathered weights in that precision,
    gradients reduced in fp32 (a sum of bf16 gradients over many ranks loses what one rank would keep)."""
    import torch
    from torch.distributed.fsdp import MixedPrecisionPolicy

    name = _DTYPES.get(compute)
    if name is None:  # fp32: the weights compute as stored
        return MixedPrecisionPolicy()
    return MixedPrecisionPolicy(param_dtype=getattr(torch, name), reduce_dtype=torch.float32)


def shard_model(model: Any, compute: str) -> Any:
    """Shard `model` (peft, LoRA added) in place over the started process group; returns the loss module
    (forward(batch) = summed answer-token loss) to call for every forward, training or validation: FSDP
    gathers the root's weights only in the root's forward. Parameters are replaced by DTensor shards: build
    the optimizer after this."""
    from torch.distributed.fsdp import fully_shard

    policy = mixed_precision(compute)
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    layers = list(getattr(decoder, "layers", []))
    if not layers:
        from core.errors import RunError

        raise RunError(f"FSDP needs a decoder with a list of layers to shard; {type(base).__name__} has none.",
                       "Train this model without --fsdp (DDP, or one process).")
    for layer in layers:
        fully_shard(layer, mp_policy=policy)
    return fully_shard(loss_module(model, fused_head=False), mp_policy=policy)


def lora_state(root: Any) -> dict[str, Any]:
    """The LoRA weights as full CPU tensors, keyed as the peft model's own state_dict keys them: on rank 0;
    {} on the others. Every rank must call it (the shards are all-gathered)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=True)
    state = get_model_state_dict(root, options=options)
    prefix = INNER + "."
    return {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}


def _trainable_names(root: Any) -> list[str]:
    """The trainable parameters' names in parameter order: index i is what optimizer.state_dict() calls i
    (loop.new_optimizer takes them in this order, in one group)."""
    return [name for name, param in root.named_parameters() if param.requires_grad]


def optimizer_state(root: Any, optimizer: Any) -> dict[str, Any]:
    """AdamW's state as full CPU tensors in `optimizer.state_dict()`'s format (keyed by parameter index), what a
    single-process checkpoint holds: on rank 0; {} on the others. Every rank must call it."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    full = get_optimizer_state_dict(root, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if not full:
        return {}
    index = {name: i for i, name in enumerate(_trainable_names(root))}
    return {"state": {index[name]: value for name, value in full["state"].items()},
            "param_groups": [{**group, "params": [index[name] for name in group["params"]]}
                             for group in full["param_groups"]]}


def load_optimizer_state(root: Any, optimizer: Any, state: dict[str, Any]) -> None:
    """Put a checkpoint's AdamW state (`optimizer.state_dict()`'s format, full tensors, on every rank: each read
    the same checkpoint) into the optimizer of the sharded model: each rank keeps its shard of it."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    names = _trainable_names(root)
    by_name = {"state": {names[i]: value for i, value in state["state"].items()},
               "param_groups": [{**group, "params": [names[i] for i in group["params"]]}
                                for group in state["param_groups"]]}
    set_optimizer_state_dict(root, optimizer, by_name, options=StateDictOptions(full_state_dict=True))


def shard_sizes(model: Any) -> tuple[int, int]:
    """(values this rank holds, values in the whole model) over the frozen base weights: about 1/N under FSDP."""
    local = full = 0
    for param in model.parameters():
        if not param.requires_grad:
            full += param.numel()
            local += param.to_local().numel() if hasattr(param, "to_local") else param.numel()
    return local, full
