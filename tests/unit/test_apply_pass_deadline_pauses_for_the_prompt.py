"""``apply``'s pass deadline bounds the work, not the person: time spent answering the prompt
is given back, and time spent waiting on the API is not."""

from __future__ import annotations

import asyncio
import time

import pytest

from reconciler.errors import PassDeadlineError
from reconciler.reconcile.deadline import PassDeadline


def _slow_person(seconds: float) -> bool:
    time.sleep(seconds)  # the synchronous prompt blocks the loop, as input() does
    return True


async def test_a_prompt_longer_than_the_deadline_does_not_use_it_up() -> None:
    deadline = PassDeadline(2.0)
    async with deadline.running():
        assert deadline.paused(_slow_person)(2.5)
        await asyncio.sleep(0)  # without the pause, the expired deadline would cancel here


async def test_awaiting_past_the_deadline_raises_the_clear_error() -> None:
    deadline = PassDeadline(0.05)
    with pytest.raises(PassDeadlineError, match=r"0\.05 s deadline .*recorded in the state"):
        async with deadline.running():
            await asyncio.Event().wait()
