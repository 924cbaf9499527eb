"""Windows that recur on a cron schedule: when one is open, and when the next edge comes.

Change windows (when replaces and deletes may run) and agent schedules (when an agent should
exist) are both "from each cron time, for this long, in this time zone". The cron times are
walked in the window's own time zone by cronsim, so a 09:00 start stays at 09:00 local across a
DST change (a start that falls in the skipped hour moves to the first minute after it); the
duration is elapsed time from the start, as in Argo CD's sync windows. Pure: the caller brings
``now``; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

_ONE_SECOND: Final = timedelta(seconds=1)
_MAX_MERGED_STARTS: Final = 10_000
"""Bounds the walk over overlapping windows (a window longer than its period never closes)."""


def check_cron(expression: str) -> str:
    """The expression unchanged; ValueError saying what is wrong with it otherwise."""
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ValueError(f"is not a cron expression such as '0 9 * * 1-5' ({error})") from None
    return expression


def check_time_zone(name: str) -> str:
    """The IANA zone name unchanged; ValueError if this machine's zone database lacks it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"is not a known IANA time zone such as Europe/Berlin or UTC, got {name!r}"
        ) from None
    return name


@dataclass(frozen=True)
class Recurrence:
    """A window opening at every ``cron`` time in ``time_zone`` and lasting ``duration``."""

    cron: str
    duration: timedelta
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        check_cron(self.cron)
        check_time_zone(self.time_zone)
        if self.duration <= timedelta(0):
            raise ValueError(f"a window must last longer than zero, got {self.duration}")

    def last_start(self, now: datetime) -> datetime:
        """The latest start at or before ``now``."""
        since = _whole_second(now, self._zone()) + _ONE_SECOND
        start: datetime = next(CronSim(self.cron, since, reverse=True))
        return start

    def next_start(self, now: datetime) -> datetime:
        """The first start strictly after ``now``."""
        start: datetime = next(CronSim(self.cron, _whole_second(now, self._zone())))
        return start

    def is_open(self, now: datetime) -> bool:
        """True while a window that started at or before ``now`` has not yet ended."""
        return now < _elapsed(self.last_start(now), self.duration)

    def open_until(self, now: datetime) -> datetime | None:
        """When the window open at ``now`` closes, overlapping windows merged; None if closed."""
        start = self.last_start(now)
        end = _elapsed(start, self.duration)
        if now >= end:
            return None
        starts = CronSim(self.cron, start)
        for _ in range(_MAX_MERGED_STARTS):
            following: datetime = next(starts)
            if following > end:
                return end
            end = max(end, _elapsed(following, self.duration))
        return end

    def next_edge(self, now: datetime) -> datetime:
        """The next moment the window opens or closes, strictly after ``now``."""
        closes = self.open_until(now)
        return closes if closes is not None else self.next_start(now)

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def any_open(windows: Iterable[Recurrence], now: datetime) -> bool:
    """True when at least one of ``windows`` is open at ``now``."""
    return any(window.is_open(now) for window in windows)


def next_edge(windows: Iterable[Recurrence], now: datetime) -> datetime | None:
    """The earliest edge of any of ``windows`` after ``now``; None when there are none."""
    return min((window.next_edge(now) for window in windows), default=None)


def _elapsed(start: datetime, duration: timedelta) -> datetime:
    """``duration`` of real time after ``start`` (aware arithmetic alone would add wall time)."""
    return (start.astimezone(UTC) + duration).astimezone(start.tzinfo)


def _whole_second(now: datetime, zone: ZoneInfo) -> datetime:
    if now.tzinfo is None:
        raise ValueError("a window is evaluated at an aware time (with its time zone)")
    return now.astimezone(zone).replace(microsecond=0)
