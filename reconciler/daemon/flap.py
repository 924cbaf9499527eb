"""Flap protection: hold back the recreation of an agent that keeps stopping, with growing delays.

The planner recreates an owned agent that stopped or failed (per its ``restartPolicy``) on every
pass; an agent that fails again at once would be re-joined every pass, forever. ``FlapGuard`` is
a filter between planning and applying: a key recreated more than ``max_recreates`` times within
``window`` seconds is held back for the next delay of a growing sequence, then given one more
chance; a key that stays up for a whole window is forgiven. Held keys come back as ``Held``
values for the caller to log and count.

Its memory lives in the daemon process (a restart forgives everyone). It only ever removes
``recreate`` changes from a plan, never adds or alters one, and it does no I/O: time is passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from reconciler.apply.report import Outcome, StepResult
from reconciler.plan import Action, Change, Plan

_RECREATE: Final = Action.RECREATE.value


@dataclass(frozen=True)
class FlapPolicy:
    """How many recreations a window allows, and how long each successive hold lasts."""

    max_recreates: int = 3
    window: float = 600.0
    holds: tuple[float, ...] = (60.0, 120.0, 300.0, 600.0, 1800.0)

    def __post_init__(self) -> None:
        if self.max_recreates < 1 or self.window <= 0 or not self.holds:
            raise ValueError("a flap policy needs max_recreates >= 1, a window and some holds")

    def hold(self, strikes: int) -> float:
        """The length of the ``strikes``-th hold (1-based); the last one repeats."""
        return self.holds[min(strikes, len(self.holds)) - 1]


@dataclass(frozen=True)
class Held:
    """A recreation held back: which key, until when, and how many holds it has earned."""

    key: str
    until: float
    strikes: int
    recreates: int


@dataclass(frozen=True)
class Filtered:
    """The plan to apply (held recreations removed) and what was held."""

    plan: Plan
    held: tuple[Held, ...]


@dataclass
class _Memory:
    """What the guard remembers of one key."""

    recreated: list[float] = field(default_factory=list)
    strikes: int = 0
    hold_until: float = 0.0
    last: float | None = None
    # How many recreations within the window earned the latest hold.
    counted: int = 0


class FlapGuard:
    """Remembers recreations per key across passes, and filters each plan by them."""

    def __init__(self, policy: FlapPolicy | None = None) -> None:
        self._policy = policy or FlapPolicy()
        self._keys: dict[str, _Memory] = {}

    def filter(self, plan: Plan, *, now: float) -> Filtered:
        """``plan`` without the recreations of keys that flap; the rest untouched, in order."""
        self._forgive(now)
        kept: list[Change] = []
        held: list[Held] = []
        for change in plan.changes:
            hold = self._hold(change, now=now) if change.action is Action.RECREATE else None
            if hold is None:
                kept.append(change)
            else:
                held.append(hold)
        if not held:
            return Filtered(plan=plan, held=())
        return Filtered(plan=dataclasses.replace(plan, changes=tuple(kept)), held=tuple(held))

    def record(self, results: Iterable[StepResult], *, now: float) -> None:
        """Remember every recreation that was attempted (done or failed), to count it next time."""
        for result in results:
            if result.action == _RECREATE and result.outcome is not Outcome.SKIPPED:
                memory = self._keys.setdefault(result.key, _Memory())
                memory.recreated.append(now)
                memory.last = now

    def holding(self, *, now: float) -> tuple[str, ...]:
        """The keys under a hold at ``now``."""
        return tuple(sorted(k for k, m in self._keys.items() if m.hold_until > now))

    def _hold(self, change: Change, *, now: float) -> Held | None:
        memory = self._keys.setdefault(change.key, _Memory())
        recent = [t for t in memory.recreated if t > now - self._policy.window]
        memory.recreated = recent
        if memory.hold_until > now:
            return _held(change.key, memory)
        # After a hold, one more chance per hold; before the first, the policy's full allowance.
        allowed = 1 if memory.strikes else self._policy.max_recreates
        if len(recent) < allowed:
            return None
        memory.strikes += 1
        memory.hold_until = now + self._policy.hold(memory.strikes)
        memory.counted = len(recent)
        memory.recreated = []
        return _held(change.key, memory)

    def _forgive(self, now: float) -> None:
        """Forget keys that needed no recreation for a whole window since their last one or,
        when held, since the hold ended (else a hold as long as the window would forgive)."""
        calm = []
        for key, memory in self._keys.items():
            quiet_since = max(memory.hold_until, memory.last or 0.0)
            if memory.hold_until <= now and now - quiet_since >= self._policy.window:
                calm.append(key)
        for key in calm:
            del self._keys[key]


def _held(key: str, memory: _Memory) -> Held:
    return Held(key=key, until=memory.hold_until, strikes=memory.strikes, recreates=memory.counted)
