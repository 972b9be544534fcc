"""Words for how long something takes, and a countdown for work done in counted pieces.

A preparation stage that says "37/120 · about 2 min left" is one a person can wait for; an endless busy bar
is one they give up on (issue #21). The pre-flight estimate (core/training/estimate.py) speaks the same words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def duration_words(seconds: float) -> str:
    """"under a second", "40 seconds", "12 minutes", "2.5 hours": the precision a person plans with."""
    if seconds < 1.5:
        return "1 second" if seconds >= 0.5 else "under a second"
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


@dataclass
class Countdown:
    """Time left for `total` pieces from the pace of those done so far.

    The first piece carries one-off costs (a first forward pass, caches warming), so no figure is given
    before one piece is done; after that the mean pace of all finished pieces, which is steadier than the last.
    """

    total: int
    started: float = field(default_factory=time.perf_counter)

    def left_s(self, done: int, now: float | None = None) -> float | None:
        if done <= 0 or self.total <= 0:
            return None
        elapsed = (time.perf_counter() if now is None else now) - self.started
        return elapsed / done * max(0, self.total - done)

    def words(self, done: int, now: float | None = None) -> str:
        """"37/120 · about 2 minutes left" (only the count until a pace is known)."""
        return f"{done}/{self.total}" + self.left_words(done, now)

    def left_words(self, done: int, now: float | None = None) -> str:
        """" · about 2 minutes left", or "" until a pace is known and once all is done."""
        left = self.left_s(done, now)
        return "" if left is None or done >= self.total else f" · about {duration_words(left)} left"
