"""Time as apply sees it: Unix seconds to stamp records and bound waits, and a sleep to wait on.

One seam, so that rate limiting, retries and readiness polls run on fake time in tests and never
sleep for real. It only reads and waits; it must not schedule anything.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


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
