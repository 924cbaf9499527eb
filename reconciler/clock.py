"""Time as apply sees it: Unix seconds to stamp records and bound waits, and a sleep to wait on.

One seam, so that rate limiting, retries and readiness polls run on fake time in tests and never
sleep for real; ``parse_duration`` reads the durations flags and settings are given in. It only
reads and waits; it must not schedule anything.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Final, Protocol

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds from ``30s``, ``2m``, ``1h``, ``500ms`` or a bare number of seconds."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"expected a positive duration such as 30s, 2m or 1h, got {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


class Clock(Protocol):
    """The wall clock and a way to wait on it."""

    def now(self) -> float:
        """Unix seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (nothing for zero or less)."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
