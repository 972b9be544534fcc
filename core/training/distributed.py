"""Many processes, one run: what a rank is, the collectives the training loop needs, and DDP.

The launcher owns the processes (`torchrun`, or `accelerate launch`, which runs torchrun underneath):
it starts one process per device and sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT.
Here we only read those, join the process group (gloo on a CPU, nccl on CUDA) and offer the few
collective operations the loop (core/training/ddp_loop.py) calls at fixed points that every rank
reaches in the same order, so no rank ever waits on a collective another rank skips:
  any(flag)       one step's stop decision: rank 0 reads the STOP file, every rank adds its signals
  sum(values)     answer-token counts, the logged loss, the validation loss
  same(text)      the LoRA weights' fingerprint at every checkpoint (DDP keeps them equal; this proves it)
Gradients are averaged by torch's DistributedDataParallel, never by hand (issue #19: no home-made
distribution code). With `Sharding(fsdp=True)` (`train --run --fsdp`, or accelerate launch --use_fsdp) torch's
FSDP2 shards the model over the ranks instead (core/training/fsdp.py). DeepSpeed is refused with a reason
(docs/scale-out.md): not built.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from typing import Any, Sequence

from core.errors import RunError

TRACE_ENV = "TUNEDESK_RANK_TRACE"
"""A folder: each rank appends one JSON line per step (the examples it trained on, its LoRA fingerprint) to
rank-N.jsonl there. A diagnostic for a distributed run (and what the tests read); outside the run folder,
which only rank 0 writes."""

COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)
"""How long a rank waits for the others at a collective: longer than any validation check or checkpoint
write (rank 0 alone writes, the others wait), short enough that a hung job ends within a SLURM slot."""


@dataclass(frozen=True)
class Launch:
    """Where this process sits in a launch, as torchrun / accelerate launch describe it in the environment."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes the run folder and prints."""
        return self.rank == 0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Launch":
        env = dict(os.environ if env is None else env)
        try:
            world = int(env.get("WORLD_SIZE", "1"))
            rank = int(env.get("RANK", "0"))
            local = int(env.get("LOCAL_RANK", str(rank)))
        except ValueError as exc:
            raise RunError(f"The launcher's environment is not understood ({exc}).",
                           "Start the run with torchrun or accelerate launch, or with no launcher at all.") from exc
        if world < 1 or not 0 <= rank < world:
            raise RunError(f"RANK={rank} does not fit WORLD_SIZE={world}.",
                           "Start the run with torchrun or accelerate launch, which set both.")
        return cls(rank, world, local)


TRUE = ("1", "true", "yes")


@dataclass(frozen=True)
class Sharding:
    """How the processes of one launch share the model: the one launch setting of `train --run`.

    Not stored in run.json: a run's checkpoints hold full (gathered) LoRA weights and optimizer state, so the
    same run may continue with DDP, with FSDP or in one process (docs/scale-out.md)."""

    fsdp: bool = False
    """Shard the base model, the LoRA weights, their gradients and optimizer state over the processes (torch's
    FSDP2 `fully_shard`), so while training each holds about 1/N of the model (each still loads it whole
    first: docs/scale-out.md). Off: DDP, every process holds the whole model. Asked for by --fsdp or by
    accelerate launch --use_fsdp (ACCELERATE_USE_FSDP)."""

    deepspeed: bool = False
    """accelerate launch --use_deepspeed (ACCELERATE_USE_DEEPSPEED): not built, refused by `validate`."""

    @classmethod
    def from_launch(cls, fsdp: bool = False, env: dict[str, str] | None = None) -> "Sharding":
        """The --fsdp option, or what accelerate launch (or its config file) put in the environment."""
        env = dict(os.environ if env is None else env)
        return cls(fsdp=fsdp or env.get("ACCELERATE_USE_FSDP", "").lower() in TRUE,
                   deepspeed=env.get("ACCELERATE_USE_DEEPSPEED", "").lower() in TRUE)

    def problems(self, launch: Launch, device: str, precision: str = "auto") -> list[str]:
        """Every reason this launch cannot train as asked, each with what to do (empty: it can)."""
        found = []
        if self.deepspeed:
            found.append("DeepSpeed is not supported by TuneDesk: launch without --use_deepspeed (torchrun, or "
                         "accelerate launch --multi_gpu, optionally with --use_fsdp to shard a model too big for "
                         "one device).")
        if self.fsdp and device not in ("cpu", "cuda"):
            found.append(f"FSDP needs several processes, which {device.upper()} cannot run (no multi-process "
                         "backend): train in one process (tunedesk train --run RUN), or on CUDA GPUs or CPUs "
                         "with torchrun.")
        elif self.fsdp and launch.world == 1:
            found.append("FSDP shards the model over several processes, and this is one process: nothing to share "
                         "it with. Launch several (torchrun --nproc_per_node=N --no-python -- tunedesk train "
                         "--run RUN --fsdp), or drop --fsdp (and --use_fsdp) to train in this one.")
        if self.fsdp and precision == "nf4":
            found.append("FSDP with 4-bit (NF4, QLoRA) base weights is not built: bitsandbytes' packed weights "
                         "cannot be sharded as DTensors. Prepare the run with --precision bf16 (or fp16/fp32), "
                         "or train it with DDP (no --fsdp): a 70B model in NF4 fits one 80 GB GPU.")
        return found

    def validate(self, launch: Launch, device: str, precision: str = "auto") -> None:
        """Raise one RunError that names every problem at once, before a rank loads a model."""
        found = self.problems(launch, device, precision)
        if found:
            raise RunError("This launch cannot train the run: " + " ".join(
                f"({i}) {p}" for i, p in enumerate(found, 1)) if len(found) > 1 else found[0],
                "Fix the launch as said above and run it again; docs/scale-out.md has the command lines.")


def backend_for(device: str) -> str:
    """gloo on a CPU, nccl on CUDA; MPS has no multi-process backend."""
    if device == "cuda":
        return "nccl"
    if device == "cpu":
        return "gloo"
    raise RunError(f"Training on several processes is not possible on {device.upper()}.",
                   "Use one process on this machine (tunedesk train --run RUN), or CUDA GPUs or CPUs with torchrun.")


class Ranks:
    """This process's place in a started process group, and the collectives the loop uses.

    Made by `Ranks.start` and closed with `close()` (the group is destroyed, so the process exits cleanly)."""

    def __init__(self, launch: Launch, device: str) -> None:
        self.launch = launch
        self.device = device

    @classmethod
    def start(cls, launch: Launch, device: str) -> "Ranks":
        import torch
        import torch.distributed as dist

        backend = backend_for(device)
        device_id = None
        if device == "cuda":
            torch.cuda.set_device(launch.local_rank)  # "cuda" now means this rank's GPU, for every .to("cuda")
            device_id = torch.device("cuda", launch.local_rank)
        if not dist.is_initialized():
            dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT, device_id=device_id)
        return cls(launch, device)

    @property
    def rank(self) -> int:
        return self.launch.rank

    @property
    def world(self) -> int:
        return self.launch.world

    @property
    def main(self) -> bool:
        return self.launch.main

    def _tensor(self, values: Sequence[float]) -> Any:
        import torch

        return torch.tensor(list(values), dtype=torch.float64,
                            device=f"cuda:{self.launch.local_rank}" if self.device == "cuda" else "cpu")

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any: one stop decision for all, taken at the same step."""
        import torch.distributed as dist

        t = self._tensor([1.0 if flag else 0.0])
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over the ranks (float64: token counts stay exact far past a float32's 2**24)."""
        import torch.distributed as dist

        t = self._tensor(values)
        dist.all_reduce(t)
        return [float(v) for v in t.tolist()]

    def same(self, text: str) -> bool:
        """Whether every rank holds the same `text` (a fingerprint); the answer is the same on every rank."""
        import torch.distributed as dist

        found: list[Any] = [None] * self.world
        dist.all_gather_object(found, text)
        return len(set(found)) == 1

    def barrier(self) -> None:
        import torch.distributed as dist

        dist.barrier()

    def shard(self, indices: Sequence[int]) -> list[int]:
        """This rank's part of one global batch: every world-th example from its rank on (DistributedSampler's
        rule). The batch is already a pure function of (seed, epoch), so the shard is too, whatever the rank count."""
        return list(indices[self.rank :: self.world])

    def wrap(self, model: Any) -> Any:
        """DistributedDataParallel around the loss, so the gradients of the trainable (LoRA) weights are averaged
        over the ranks during backward.

        DDP sees only forward calls of the module it wraps, and our loss reaches into the decoder and head
        directly (core/training/loss.py), so it wraps a module whose forward *is* the loss. Every LoRA weight is
        used at every step: find_unused_parameters=False. No initial broadcast (init_sync=False): every rank
        loaded the same base weights and the same seeded LoRA (or checkpoint), which `same` checks on the
        fingerprint instead of sending the whole model (~270 MB here, 14 GB for a 7B model) at start."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.launch.local_rank] if self.device == "cuda" else None
        return DistributedDataParallel(loss_module(model), device_ids=ids, find_unused_parameters=False,
                                       broadcast_buffers=False, init_sync=False)

    def close(self) -> None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


INNER = "inner"
"""The attribute of loss_module's module that holds the model: its parameters' names start with "inner."."""


def loss_module(model: Any, fused_head: bool = True) -> Any:
    """A torch Module whose forward(batch) is the summed answer-token loss of `model` (its LoRA weights train):
    what DDP and FSDP wrap, since they see only the forward calls of the module they wrap. `fused_head`: see
    loss.answer_loss (off under FSDP)."""
    import torch

    from core.training.loss import answer_loss

    class SummedAnswerLoss(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, batch: dict[str, Any]) -> Any:
            loss, n = answer_loss(self.inner, batch, fused_head)  # mean over this shard's answer tokens
            return loss * n

    return SummedAnswerLoss(model)


def fingerprint(model: Any) -> str:
    """sha256 of every trainable weight's bytes, in name order: equal on two ranks only if the LoRA weights are
    bit for bit equal. A few MB of adapter for the demo model: milliseconds. Whole (not FSDP-sharded) weights only."""
    digest = hashlib.sha256()
    for name, param in sorted(model.named_parameters(), key=lambda item: item[0]):
        if param.requires_grad:
            digest.update(name.encode())
            digest.update(param.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
