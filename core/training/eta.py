"""Time left in a training run, from what this run has measured.

Issue #21: "time left" read 2 h 46 min at step 2 of a run that took 4 minutes. Three things make a
plain mean of the steps so far wrong:
  * the first steps carry one-off costs (torch.compile compiles at the first step and again at the first
    new sequence length): until WARMUP_STEPS steps of this session are done, the pre-flight estimate's
    seconds per step (core/training/estimate.py, saved in run.json) stands in;
  * steps differ in size: batches are grouped by length (core/training/data.py batch_order), so a step of
    four 300-token passages costs several times one of four 60-token questions, and the first ten steps
    may all be short ones (measured on the sample documents: the mean since the warm-up predicted 99 s
    at step 10 for 158 s that were left). The order of every batch is known in advance, so the time left
    is the measured seconds per computed token × the tokens still to train (padding included where
    rows are padded, not where the loss packs them: eta.computed_tokens);
  * validation checks and checkpoints happen between steps: they are timed apart and the ones still to
    come are added at their own measured cost (a check, before one is measured, at the pre-flight's figure).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Sequence

from core.training.plan import StepPlan

WARMUP_STEPS = 3
"""Steps of a session whose times are not used: the compile of the first shapes happens in them."""
MEASURED_STEPS = 5
"""Timed steps (past the warm-up) before a session's speed is recorded for the next estimate."""


def batch_indices(plan: StepPlan, lengths: Sequence[int], batch_size: int, grad_accum: int,
                  seed: int) -> list[list[list[int]]]:
    """The examples of every micro-batch of each optimiser step, in the loop's batch order: index s-1
    for step s."""
    from core.training.data import batch_order

    orders: dict[int, list[list[int]]] = {}
    out: list[list[list[int]]] = []
    for step in range(plan.total_steps):
        micro_batches = []
        for micro in range(step * grad_accum, (step + 1) * grad_accum):
            epoch, pos = divmod(micro, plan.batches_per_epoch)
            if epoch not in orders:
                orders[epoch] = batch_order(lengths, batch_size, seed, epoch)
            micro_batches.append(orders[epoch][pos])
        out.append(micro_batches)
    return out


def batch_shared(batch: Sequence[int], prompts: Sequence[tuple[Sequence[int], Sequence[int]]] | None) -> int:
    """The prompt tokens a packed micro-batch of these examples computes once (data.shared_prefix of their
    (input_ids, labels) in `prompts`); 0 where `prompts` is None: the loss does not share (loss.prompt_rows)."""
    from core.training.data import shared_prefix

    return shared_prefix([prompts[i] for i in batch]) if prompts is not None else 0


def computed_tokens(batch: Sequence[int], packed: bool, shared: int = 0) -> int:
    """Tokens a micro-batch of examples of these lengths computes: padded to its longest, or, where the loss
    packs the rows into one (core/training/loss.packs_rows), only their own, the `shared` prompt every
    example begins with once (batch_shared)."""
    return sum(batch) - shared * max(0, len(batch) - 1) if packed else len(batch) * max(batch, default=0)


def attended_pairs(batch: Sequence[int], packed: bool) -> int:
    """(query, key) pairs its attention computes: each example's own, or every padded row's."""
    return sum(n * n for n in batch) if packed else len(batch) * max(batch, default=0) ** 2


def tokens_per_step(plan: StepPlan, lengths: Sequence[int], batch_size: int, grad_accum: int, seed: int,
                    packed: bool, prompts: Sequence[tuple[Sequence[int], Sequence[int]]] | None = None) -> list[int]:
    """Tokens each optimiser step computes (computed_tokens): index s-1 for step s (the loop's batch order)."""
    return [sum(computed_tokens([lengths[i] for i in batch], packed, batch_shared(batch, prompts)) for batch in step)
            for step in batch_indices(plan, lengths, batch_size, grad_accum, seed)]


@dataclass
class StepClock:
    plan: StepPlan
    first_step: int
    """The step this session started from (a resumed run's checkpoint)."""
    started: float
    """time.perf_counter() when this session's loop began."""
    step_tokens: Sequence[int] = ()
    """tokens_per_step: every step's size. Empty: all steps are taken as equal."""
    prior_step_s: float = 0.0
    """The pre-flight estimate's seconds per step (0 when unknown)."""
    prior_eval_s: float = 0.0
    """The pre-flight estimate's seconds per validation check (0 when unknown)."""
    validates: bool = True
    _warm: tuple[int, float] | None = None
    _aside_since_warm: float = 0.0
    _worked: float = 0.0
    """Computed tokens of the steps since the warm-up, as the loop reported them (eta's `computed`)."""
    _asides: dict[str, list[float]] = field(default_factory=lambda: {"eval": [], "save": []})
    _before: list[int] = field(init=False, repr=False)
    """Computed tokens of all steps before index i: every step asks for the size of a span of steps (the time left
    and the measured speed), and summing a slice each time grew with the run's length."""

    def __post_init__(self) -> None:
        self._before = [0, *itertools.accumulate(self.step_tokens)]

    def aside(self, kind: str, seconds: float) -> None:
        """Time spent between two steps on a validation check ("eval") or a checkpoint ("save")."""
        self._asides[kind].append(seconds)
        if self._warm is not None:
            self._aside_since_warm += seconds

    def eta(self, step: int, now: float, computed: int | None = None) -> float:
        """Seconds left after `step` finished at `now` (time.perf_counter()); called once per step. `computed`:
        the tokens the step computed, where they can differ from the plan's (examples resting, loop.py). The
        speed is then per token computed, and the steps left are taken at their planned size: a run that rests
        examples finishes sooner than it says, never later."""
        done = step - self.first_step
        if self._warm is not None and step > self._warm[0]:
            known = computed is not None and len(self.step_tokens) >= self.plan.total_steps  # else steps are counted
            self._worked += computed if known else self._size(step - 1, step)
        if done == WARMUP_STEPS:
            self._warm = (step, now)
        steps_left = self._size(step, self.plan.total_steps)
        if self._warm is not None and step > self._warm[0]:
            measured = now - self._warm[1] - self._aside_since_warm
            training = measured / max(1e-9, self._worked) * steps_left
            per_step = measured / (step - self._warm[0])
        else:
            per_step = self.prior_step_s or (now - self.started - self._aside_total()) / max(1, done)
            training = per_step * steps_left / max(1e-9, self._mean_size())
        return training + self._asides_left(step, per_step)

    def seconds_per_step(self, step: int, now: float) -> float | None:
        """Measured seconds per step of this plan's mean size, checks and saves left out: what the estimate's
        seconds_per_step predicts. None until MEASURED_STEPS steps past the warm-up are timed."""
        if self._warm is None or step - self._warm[0] < MEASURED_STEPS:
            return None
        measured = now - self._warm[1] - self._aside_since_warm
        return measured / max(1e-9, self._worked) * self._mean_size()

    def _size(self, after: int, upto: int) -> float:
        """Steps after..upto in units of work: computed tokens, or a count when the sizes are unknown."""
        if len(self.step_tokens) >= upto:
            return float(self._before[upto] - self._before[after])
        return float(upto - after)

    def _mean_size(self) -> float:
        return self._size(0, self.plan.total_steps) / max(1, self.plan.total_steps)

    def _aside_total(self) -> float:
        return sum(sum(v) for v in self._asides.values())

    def _asides_left(self, step: int, per_step: float) -> float:
        later = range(step + 1, self.plan.total_steps)
        evals = (sum(1 for s in later if self.plan.evaluates_at(s)) + 1) if self.validates else 0  # + the finish's
        saves = sum(1 for s in later if self.plan.saves_at(s)) + 1  # the finish saves too
        measured_eval, measured_save = self._asides["eval"], self._asides["save"]
        per_eval = (sum(measured_eval) / len(measured_eval) if measured_eval
                    else self.prior_eval_s or per_step)
        per_save = sum(measured_save) / len(measured_save) if measured_save else 0.0
        return evals * per_eval + saves * per_save
