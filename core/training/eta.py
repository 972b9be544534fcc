"""Time left in a training run, from what this run has measured.

Issue #21: "time left" read 2 h 46 min at step 2 of a run that took 4 minutes. The first steps carry
one-off costs (torch.compile compiles at the first step and again at the first new sequence length;
caches warm up), and a mean over them predicts nothing. So:
  * until WARMUP_STEPS steps of this session are done, the pre-flight estimate's seconds per step
    (core/training/estimate.py, saved in run.json) stands in;
  * after that, the mean wall time of the steps since the warm-up — steps and checkpoints, not the
    validation checks, which are timed apart;
  * the validation checks still to come are added at their own measured cost (before the first one,
    at the pre-flight's figure).
The mean since the warm-up, not the last step's time: length-grouped batches make single steps vary
by 3× and a person reads a number that jumps as broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.training.plan import StepPlan

WARMUP_STEPS = 3
"""Steps of a session whose times are not used: the compile of the first shapes happens in them."""


@dataclass
class StepClock:
    plan: StepPlan
    first_step: int
    """The step this session started from (a resumed run's checkpoint)."""
    started: float
    """time.perf_counter() when this session's loop began."""
    prior_step_s: float = 0.0
    """The pre-flight estimate's seconds per step (0 when unknown)."""
    prior_eval_s: float = 0.0
    """The pre-flight estimate's seconds per validation check (0 when unknown or there is no validation)."""
    validates: bool = True
    _warm: tuple[int, float] | None = None
    _excluded: float = 0.0
    _evals: list[float] = field(default_factory=list)

    def exclude(self, seconds: float) -> None:
        """Time spent between two steps on a validation check: timed apart from the steps."""
        self._evals.append(seconds)
        if self._warm is not None:
            self._excluded += seconds

    def eta(self, step: int, now: float) -> float:
        """Seconds left after `step` finished at `now` (time.perf_counter())."""
        done = step - self.first_step
        if done == WARMUP_STEPS:
            self._warm = (step, now)
        if self._warm is not None and step > self._warm[0]:
            per_step = (now - self._warm[1] - self._excluded) / (step - self._warm[0])
        elif self.prior_step_s > 0:
            per_step = self.prior_step_s
        else:
            per_step = (now - self.started - sum(self._evals)) / max(1, done)
        return per_step * (self.plan.total_steps - step) + self._evals_left(step) * self._per_eval(per_step)

    def _evals_left(self, step: int) -> int:
        if not self.validates:
            return 0
        periodic = sum(1 for s in range(step + 1, self.plan.total_steps) if self.plan.evaluates_at(s))
        return periodic + 1  # the finish validates once more

    def _per_eval(self, per_step: float) -> float:
        if self._evals:
            return sum(self._evals) / len(self._evals)
        return self.prior_eval_s if self.prior_eval_s > 0 else per_step
