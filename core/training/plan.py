"""The step plan: how many optimiser steps a run takes, and when it warms up, evaluates and saves.

Made in one place from the config and the number of training examples, so the
loop (core/training/loop.py) trains exactly the steps the pre-flight estimate
(core/training/estimate.py) timed, and both agree on how often validation runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.training.config import TrainConfig


@dataclass(frozen=True)
class StepPlan:
    batches_per_epoch: int
    """Micro-batches in one pass over the training examples (the last one may be short)."""
    steps_per_epoch: int
    """Optimiser steps per pass: grad_accum micro-batches make one step."""
    total_steps: int
    """Steps the run trains: `epochs` passes, at least `min_steps`, capped by `max_steps` (or `max_steps` alone
    when epochs is 0)."""
    warmup_steps: int
    """Steps of linear learning-rate warm-up before the cosine decay (lr_at)."""
    eval_every: int
    """Steps between validation-loss checks (0 = only the one at the end)."""
    save_every: int
    """Steps between checkpoints (0 = only at the end or at a stop)."""

    def evaluates_at(self, step: int) -> bool:
        """A validation check after `step`; the last step is always checked by the finish instead."""
        return bool(self.eval_every) and step % self.eval_every == 0 and step < self.total_steps

    def saves_at(self, step: int) -> bool:
        """A checkpoint after `step`; the last step is always saved by the finish instead."""
        return bool(self.save_every) and step % self.save_every == 0 and step < self.total_steps

    @property
    def evaluations(self) -> int:
        """Validation checks in a whole run: the periodic ones plus the final one."""
        periodic = (self.total_steps - 1) // self.eval_every if self.eval_every else 0
        return periodic + 1


def plan_steps(config: TrainConfig, n_train_examples: int) -> StepPlan:
    """The plan for `config` over `n_train_examples` examples (at least one is assumed)."""
    batches_per_epoch = math.ceil(max(1, n_train_examples) / config.batch_size)
    steps_per_epoch = max(1, math.ceil(batches_per_epoch / config.grad_accum))
    total = max(1, math.ceil(config.epochs * steps_per_epoch)) if config.epochs > 0 else config.max_steps
    total = max(total, config.min_steps)
    if config.max_steps:
        total = min(total, config.max_steps)
    eval_every = config.eval_every
    if eval_every and total // eval_every > MAX_CHECKS:  # a long run: checks spread out, never more than MAX_CHECKS
        eval_every = math.ceil(total / (MAX_CHECKS + 1))
    return StepPlan(batches_per_epoch, steps_per_epoch, total, int(total * config.warmup_ratio),
                    eval_every, config.save_every)


MAX_CHECKS = 8
"""Periodic validation checks in one run, at most. Each is a forward pass over the whole validation set,
~10 s on this CPU where a step takes ~0.6–0.9 s: session 8's test run checked every 40 of 560 steps, 14
times, ~16% of its training time. Eight points still draw the curve and give early stopping its patience."""
