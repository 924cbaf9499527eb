"""The emulator's lifecycle timers: what falls due on the virtual clock, and in which order.

An agent's lifecycle (starting → running, stopping → stopped, the idle and lifetime limits) is a
set of timers. ``Timers`` hands back the ones due by a given time, earliest first and, at equal
times, in the order they were set, so ``store`` can ``settle`` them lazily before each call. This
module never reads or changes an agent, and nothing here runs in the background: a timer fires
only when ``store`` asks for what is due.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import Enum


class Due(Enum):
    RUNNING = "running"
    STOPPED = "stopped"
    IDLE = "idle"
    LIFETIME = "lifetime"


@dataclass(frozen=True, order=True)
class Timer:
    due: float
    seq: int
    kind: Due = field(compare=False)
    agent_id: str = field(compare=False)
    idle_since: float | None = field(compare=False, default=None)


class Timers:
    """A heap of pending timers, ordered by due time, then by the order they were set."""

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0

    def set(self, due: float, kind: Due, agent_id: str, *, idle_since: float | None) -> None:
        self._seq += 1
        timer = Timer(due=due, seq=self._seq, kind=kind, agent_id=agent_id, idle_since=idle_since)
        heapq.heappush(self._heap, timer)

    def pop_due(self, now: float) -> Timer | None:
        """The earliest timer due by ``now``, taken off the heap; None when none is due."""
        if self._heap and self._heap[0].due <= now:
            return heapq.heappop(self._heap)
        return None
