"""One loaded model that answers with the tuned weights or the original ones, switched per question.

core/chat/routing.py decides per question; this makes the switch free at decode
time. The adapter is merged, as before (a merged model decodes as fast as the
base), and each layer the adapter changed keeps its original weight beside the
merged one; a shared flag picks which one runs. Unmerged LoRA layers would do
the same with one copy, but add two small matmuls to each of the demo model's
210 layers per token, which is most of a decode step's Python overhead.

The cost is memory: a second copy of the changed layers (half as large again
when chat holds them as int8). `fits_twice` declines when that would crowd the
machine, and the chat then answers everything with the tuned weights.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

HEADROOM = 0.5
"""The second copy may take at most this share of the memory available now."""


class AdapterSwitch:
    """Which weights answer, per thread: the app's Chat and Compare may share one cached model
    on two worker threads, and one's general question must not switch the other's answer."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.layers = 0

    @property
    def on(self) -> bool:
        return getattr(self._local, "on", True)

    @contextmanager
    def using(self, on: bool) -> Iterator[None]:
        before, self._local.on = self.on, on
        try:
            yield
        finally:
            self._local.on = before


def snapshot_linears(model: Any) -> dict[str, Any]:
    """The Linear weights before the adapter is merged (clones: merging writes in place)."""
    import torch

    return {name: module.weight.detach().clone() for name, module in model.named_modules()
            if type(module) is torch.nn.Linear}


def fits_twice(model: Any) -> bool:
    import psutil
    import torch

    extra = sum(m.weight.numel() * m.weight.element_size() for m in model.modules() if type(m) is torch.nn.Linear)
    if next(model.parameters()).device.type == "cuda":
        free, _ = torch.cuda.mem_get_info()
        return extra < HEADROOM * free
    return extra < HEADROOM * psutil.virtual_memory().available


def install_switch(merged: Any, originals: dict[str, Any]) -> AdapterSwitch:
    """Replace each Linear whose merged weight differs from its original by a SwitchedLinear."""
    import torch

    switch = AdapterSwitch()

    class SwitchedLinear(torch.nn.Module):
        def __init__(self, tuned: torch.nn.Linear, original: torch.nn.Linear) -> None:
            super().__init__()
            self.tuned, self.original = tuned, original
            self.in_features, self.out_features = tuned.in_features, tuned.out_features

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.tuned(x) if switch.on else self.original(x)

    for name, module in list(merged.named_modules()):
        before = originals.get(name)
        if type(module) is not torch.nn.Linear or before is None or torch.equal(before, module.weight):
            continue
        original = torch.nn.Linear(module.in_features, module.out_features, bias=module.bias is not None,
                                   device="meta")
        original.weight = torch.nn.Parameter(before, requires_grad=False)
        if module.bias is not None:
            original.bias = module.bias  # LoRA leaves biases alone: shared, not copied
        parent_name, _, child = name.rpartition(".")
        setattr(merged.get_submodule(parent_name) if parent_name else merged, child, SwitchedLinear(module, original))
        switch.layers += 1
    return switch
