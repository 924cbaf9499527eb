"""Which desired agents are in their schedule's window at ``now``, and when that next changes.

An agent outside every window of its schedule is not desired: the planner makes its owned
agent leave (a scheduled stop, not a delete) and joins it again at the next start. The daemon
wakes at ``next_edge`` so that both happen on time. Pure: ``now`` is passed in (Unix seconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler import recurrence
from reconciler.manifest.desired import DesiredAgent


@dataclass(frozen=True)
class Window:
    """Where a scheduled agent stands at plan time: in a window (until ``next_stop``) or not
    (until ``next_start``); instants in Unix seconds."""

    key: str
    project: str
    open: bool
    next_start: float | None
    next_stop: float | None


def instant(now: float) -> datetime:
    """``now`` (Unix seconds) as an aware UTC time, as ``recurrence`` takes it."""
    return datetime.fromtimestamp(now, UTC)


def standing(
    schedule: tuple[recurrence.Recurrence, ...], *, now: float
) -> tuple[bool, float | None, float | None]:
    """Whether ``schedule`` is open at ``now``, its next start and (open) its next stop."""
    at = instant(now)
    stops = [w.open_until(at) for w in schedule]
    open_until = max((stop for stop in stops if stop is not None), default=None)
    if open_until is None:
        return False, min(w.next_start(at) for w in schedule).timestamp(), None
    # Another window may open before this one closes: the agent stays on through it.
    merged = open_until
    while recurrence.any_open(schedule, merged):
        later = max(s for w in schedule if (s := w.open_until(merged)) is not None)
        if later <= merged:
            break
        merged = later
    start = min(w.next_start(merged) for w in schedule)
    return True, start.timestamp(), merged.timestamp()


def next_edge(agents: Iterable[DesiredAgent], *, now: float) -> float | None:
    """The earliest moment after ``now`` at which any of ``agents`` starts or stops being
    desired; None when none has a schedule."""
    at = instant(now)
    # An AgentSet's members share one schedule: walk each distinct schedule once.
    distinct = {agent.schedule for agent in agents if agent.schedule}
    edges = [recurrence.next_edge(schedule, at) for schedule in distinct]
    found = [edge.timestamp() for edge in edges if edge is not None]
    return min(found, default=None)
