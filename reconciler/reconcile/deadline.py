"""The whole-pass deadline of ``reconciler apply``, whose clock stops while a person is asked.

``apply`` observes, plans, asks for ``yes`` and acts; a hostile or stuck API must not hold any
of that forever, but the person reading the plan may take as long as they like. So the pass
runs under one ``asyncio.timeout`` of ``RECONCILER_PASS_DEADLINE``, the same bound the daemon
puts on its passes, and the time spent in the (synchronous) confirmation is given back: the
deadline is moved on by it once the answer is in. Past the deadline the pass is cancelled
between two awaits; what had finished is already in the state (apply writes each step, and an
intent before each call), so the next pass resolves the rest. It only times; it must not act.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from reconciler.errors import PassDeadlineError
from reconciler.reconcile.bounds import PASS_DEADLINE_ENV

T = TypeVar("T")
R = TypeVar("R")


class PassDeadline:
    """A deadline of ``seconds`` on everything a pass does but wait for a person."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._timeout: asyncio.Timeout | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the body under the deadline; past it, raise ``PassDeadlineError``."""
        timeout = asyncio.timeout(self.seconds)
        self._timeout = timeout
        try:
            async with timeout:
                yield
        except TimeoutError:
            if not timeout.expired():
                raise
            raise PassDeadlineError(
                f"the pass ran past its {self.seconds:g} s deadline ({PASS_DEADLINE_ENV}) "
                "and was stopped; what finished is recorded in the state, and the next "
                "apply resolves the rest"
            ) from None
        finally:
            self._timeout = None

    def paused(self, ask: Callable[[T], R]) -> Callable[[T], R]:
        """``ask`` with the deadline's clock stopped while it runs (it may wait for a person)."""

        def asked(value: T) -> R:
            began = time.monotonic()
            try:
                return ask(value)
            finally:
                timeout = self._timeout
                when = timeout.when() if timeout is not None else None
                if timeout is not None and when is not None:
                    timeout.reschedule(when + (time.monotonic() - began))

        return asked
