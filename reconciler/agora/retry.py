"""When and how patiently the client resends a request: exponential backoff with jitter, and the
server's ``Retry-After``. Which requests may be resent is the client's decision, not this one's.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Literal


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to resend; tests inject ``sleep`` and ``rng`` (0 <= x < 1)."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    jitter: Literal["full", "equal", "none"] = "full"
    retry_after_cap: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    rng: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")

    def backoff(self, retry: int) -> float:
        """The pause before the ``retry``-th resend (1-based): exponential, capped, jittered."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        if self.jitter == "full":
            return self.rng() * ceiling
        if self.jitter == "equal":
            return ceiling / 2 + self.rng() * ceiling / 2
        return ceiling

    def delay(self, retry: int, *, retry_after: float | None) -> float:
        """The server's ``Retry-After`` when it gave one (capped), else the backoff."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return self.backoff(retry)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date), if valid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)
