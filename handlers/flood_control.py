"""Flood control: each person's allowance of messages and button presses, a token bucket.

It is throttling, not coalition state: kept in this process's memory, full again at every
restart, and counted by each replica for the updates it handles itself.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Verdict(Enum):
    """What to do with one update from a person."""

    ANSWER = "answer"  # within the allowance: handled as usual
    NOTICE = "notice"  # the first one over it in this episode: skipped, and the person told
    SKIP = "skip"  # over it, the person already told: skipped in silence


@dataclass
class _Allowance:
    tokens: float
    counted_at: datetime
    # Whether the person was told during this episode (which ends once the bucket is full).
    noticed: bool = False


class FloodControl:
    """`burst` updates at once, then `rate` a second, per person."""

    def __init__(self, *, burst: int, rate: float, clock: Callable[[], datetime]) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        # Seconds of silence after which anyone's bucket is full again.
        self._refill_seconds = burst / rate
        self._allowances: dict[int, _Allowance] = {}
        self._swept_at: datetime | None = None

    def admit(self, person: int) -> Verdict:
        """Count one update from `person` (a Telegram id) now, and say what to do with it."""
        now = self.clock()
        self._sweep(now)
        allowance = self._allowances.get(person)
        if allowance is None:
            allowance = self._allowances[person] = _Allowance(float(self.burst), now)
        else:
            allowance.tokens = self._refilled(allowance, now)
            allowance.counted_at = now
            if allowance.tokens >= self.burst:
                allowance.noticed = False
        if allowance.tokens >= 1:
            allowance.tokens -= 1
            return Verdict.ANSWER
        if allowance.noticed:
            return Verdict.SKIP
        allowance.noticed = True
        return Verdict.NOTICE

    def _refilled(self, allowance: _Allowance, now: datetime) -> float:
        # A clock set back (the wall clock may be) refills nothing rather than going negative.
        elapsed = max(0.0, (now - allowance.counted_at).total_seconds())
        return min(float(self.burst), allowance.tokens + elapsed * self.rate)

    def _sweep(self, now: datetime) -> None:
        """Forget the people whose bucket is full: they are as if never seen, and everyone the
        bot ever heard from would otherwise stay in memory until the next restart."""
        if self._swept_at is not None:
            if (now - self._swept_at).total_seconds() < self._refill_seconds:
                return
            self._allowances = {
                person: allowance
                for person, allowance in self._allowances.items()
                if self._refilled(allowance, now) < self.burst
            }
        self._swept_at = now

    def __len__(self) -> int:
        """How many people it currently remembers."""
        return len(self._allowances)
