"""The emulator's virtual clock: real time plus an offset, or a frozen instant.

Every timestamp the emulator hands out or compares against comes from here, so tests can jump
hours ahead (idle timeouts, the 72-hour cap, token expiry) without waiting. It must not schedule
anything itself: the store reads it lazily on each request.
"""

from __future__ import annotations

import time


class VirtualClock:
    """Unix seconds as the emulator sees them."""

    def __init__(self, *, frozen: bool = False, start: float | None = None) -> None:
        self._frozen = frozen
        self._frozen_at = time.time() if start is None else start
        self._offset = 0.0 if start is None else start - time.time()

    def now(self) -> float:
        return self._frozen_at if self._frozen else time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move forward (or back, for a negative amount) and return the new time."""
        return self.set(self.now() + seconds)

    def set(self, timestamp: float) -> float:
        """Jump to an absolute time and return it."""
        self._frozen_at = timestamp
        self._offset = timestamp - time.time()
        return timestamp
