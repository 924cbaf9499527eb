"""The token bucket lets a burst through, then spaces calls, and a 429 pauses it for everyone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from apply_harness import FakeClock, World, agent, write_fleet

from reconciler.ratelimit import RateLimit, TokenBucket
from reconciler.steps import ApplySettings


async def test_a_burst_goes_at_once_and_the_rest_are_spaced() -> None:
    """Burst 3 at 2/s: three calls wait nothing, the next ones 0.5 s apart."""
    clock = FakeClock(start=1000.0)
    bucket = TokenBucket(RateLimit(per_second=2.0, burst=3), clock=clock)
    waits = [await bucket.take() for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 0.5]
    assert clock.now() == pytest.approx(1001.0)


class _FrozenClock(FakeClock):
    """Time that stands still while callers wait, as when they all arrive in one instant."""

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)


async def test_concurrent_callers_get_reserved_slots_in_arrival_order() -> None:
    """Ten callers at once with burst 1 and 10/s: the last one waits 0.9 s, none wait longer."""
    clock = _FrozenClock(start=0.0)
    bucket = TokenBucket(RateLimit(per_second=10.0, burst=1), clock=clock)
    waits = await asyncio.gather(*(bucket.take() for _ in range(10)))
    assert [round(w, 3) for w in waits] == [round(0.1 * i, 3) for i in range(10)]


async def test_a_pause_holds_every_caller() -> None:
    """After pause(5) even a full bucket waits out the pause."""
    clock = FakeClock(start=0.0)
    bucket = TokenBucket(RateLimit(per_second=10.0, burst=10), clock=clock)
    bucket.pause(5.0)
    assert await bucket.take() == 5.0


def test_a_rate_limit_must_be_positive() -> None:
    """Zero calls per second or an empty burst is refused up front."""
    with pytest.raises(ValueError, match="positive"):
        RateLimit(per_second=0)
    with pytest.raises(ValueError, match="burst"):
        RateLimit(per_second=1, burst=0)


async def test_apply_spends_one_token_per_call(tmp_path: Path) -> None:
    """Six creates at 2 calls/s with burst 1 wait 2.5 s (fake) in all before their joins."""
    world = World(tmp_path)
    write_fleet(world.fleet, {f"a{i}": agent(f"room-{i}") for i in range(6)})
    settings = ApplySettings(concurrency=6, rate_limit=RateLimit(per_second=2.0, burst=1))
    ran = await world.apply(settings=settings)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert sum(world.clock.slept) == pytest.approx(2.5)
    await world.assert_converged()
