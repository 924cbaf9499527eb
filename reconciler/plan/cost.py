"""What a project's agents cost: now, once the plan is applied, and over the next 30 days.

Agora bills an agent per minute it runs, so the estimate is running agents × the project's
``pricing``. Per hour it counts the agents running before and after the plan; per 30 days it
walks every schedule edge from ``now`` and adds up the agent-minutes desired at each moment,
capped at the quota (agents waiting for quota cost nothing), which also gives the peak the
quota must hold. "Before" is the fleet without the plan's new agents (keys that never joined)
and with the agents it deletes, whose schedule is no longer known, counted as always running.
Pure: ``now`` is passed in.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from reconciler import recurrence
from reconciler.plan.schedules import instant
from reconciler.recurrence import Recurrence

HORIZON: Final = timedelta(days=30)
_MAX_EDGES: Final = 5_000
"""Bounds the edges walked per schedule in the horizon (a minutely cron has 43,200)."""


@dataclass(frozen=True)
class Projection:
    """Agent-minutes desired over the horizon (capped at the quota) and the highest number of
    agents desired at once, first reached at ``peak_at`` (Unix seconds; None: already now, so
    that plans of an unscheduled fleet made at different moments are equal)."""

    minutes: float
    peak: int
    peak_at: float | None


@dataclass(frozen=True)
class Cost:
    """One project's running agents and their estimated cost before and after the plan."""

    project: str
    currency: str
    price_per_minute: float
    running_before: int
    running_after: int
    month_before: float
    month_after: float
    peak: int
    peak_at: float | None
    limit: int

    @property
    def hour_before(self) -> float:
        return self.running_before * 60 * self.price_per_minute

    @property
    def hour_after(self) -> float:
        return self.running_after * 60 * self.price_per_minute


def project(
    schedules: Sequence[tuple[Recurrence, ...]], *, capacity: int, now: float
) -> Projection:
    """Walk the horizon from ``now`` for agents with these ``schedules`` (empty: always on)."""
    groups = Counter(schedules)
    start = instant(now)
    end = start + HORIZON
    bounds = {start, end}
    for windows in groups:
        at = start
        for _ in range(_MAX_EDGES if windows else 0):
            edge = recurrence.next_edge(windows, at)
            if edge is None or edge >= end:
                break
            bounds.add(edge)
            at = edge
    ordered = sorted(bounds)
    minutes = 0.0
    peak, peak_at = 0, start
    for here, following in itertools.pairwise(ordered):
        count = sum(n for windows, n in groups.items() if _open(windows, here))
        if count > peak:
            peak, peak_at = count, here
        minutes += min(count, capacity) * (following - here).total_seconds() / 60
    first = None if peak_at == start else peak_at.timestamp()
    return Projection(minutes=minutes, peak=peak, peak_at=first)


def after_holds(
    costs: Iterable[Cost], *, held_joins: Counter[str], held_leaves: Counter[str]
) -> tuple[Cost, ...]:
    """``costs`` once the safety rules held some joins and leaves back from this pass."""
    return tuple(
        dataclasses.replace(
            cost,
            running_after=cost.running_after - held_joins[cost.project] + held_leaves[cost.project],
        )
        for cost in costs
    )


def _open(windows: tuple[Recurrence, ...], at: datetime) -> bool:
    return not windows or recurrence.any_open(windows, at)
