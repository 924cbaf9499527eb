"""The token bucket lets a burst through, then spaces calls, and a 429 pauses it for everyone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from apply_harness import FakeClock, World, agent, write_fleet
from hypothesis import given
from hypothesis import strategies as st

from reconciler.agora import wire
from reconciler.apply.ratelimit import (
    MAX_PAUSE_SECONDS,
    GatedApi,
    RateLimit,
    TokenBucket,
    projects_in_turn,
)
from reconciler.apply.steps import ApplySettings
from reconciler.errors import RateLimitedError


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


class _TooManyRequests:
    """A project's API that answers every call with 429 and ``Retry-After``."""

    app_id = "app"

    def __init__(self, retry_after: float | None) -> None:
        self._retry_after = retry_after

    async def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RateLimitedError(status=429, retry_after=self._retry_after)

    join = leave = update = query = history = list_all = _refuse


_CALLS: dict[str, Callable[[GatedApi], Awaitable[object]]] = {
    "join": lambda api: api.join(wire.JoinRequest.model_construct()),
    "leave": lambda api: api.leave("a-1"),
    "update": lambda api: api.update("a-1", wire.UpdateRequest.model_construct()),
    "query": lambda api: api.query("a-1"),
    "history": lambda api: api.history("a-1"),
    "list": lambda api: api.list_all(states=tuple(wire.StatusCode), from_time=0.0),
}


@pytest.mark.parametrize("call", sorted(_CALLS))
async def test_a_429_on_any_call_pauses_the_project_for_every_caller(call: str) -> None:
    """Whatever call ends in 429 with Retry-After: 5, the project's next call waits 5 s."""
    clock = FakeClock(start=0.0)
    api = GatedApi(_TooManyRequests(5.0), bucket=TokenBucket(RateLimit(), clock=clock))
    with pytest.raises(RateLimitedError):
        await _CALLS[call](api)
    assert await api.bucket.take() == 5.0


async def test_a_429_pauses_at_most_as_long_as_the_client_waits() -> None:
    """A Retry-After of an hour pauses the project no longer than the client itself would wait."""
    clock = FakeClock(start=0.0)
    api = GatedApi(_TooManyRequests(3600.0), bucket=TokenBucket(RateLimit(), clock=clock))
    with pytest.raises(RateLimitedError):
        await api.update("a-1", wire.UpdateRequest.model_construct())
    assert await api.bucket.take() == MAX_PAUSE_SECONDS


async def test_a_429_without_retry_after_does_not_pause() -> None:
    """With no Retry-After there is nothing to wait out: the next call goes at once."""
    clock = FakeClock(start=0.0)
    api = GatedApi(_TooManyRequests(None), bucket=TokenBucket(RateLimit(), clock=clock))
    with pytest.raises(RateLimitedError):
        await api.leave("a-1")
    assert await api.bucket.take() == 0.0


async def test_a_huge_retry_after_defers_the_projects_calls_not_the_pass(tmp_path: Path) -> None:
    """``Retry-After: 999999999`` on the first join: that join is given up on at once, the
    project's other joins are not sent, and the pass ends (failed) without waiting it out."""
    world = World(tmp_path)
    write_fleet(world.fleet, {f"a{i}": agent(f"room-{i}") for i in range(3)})
    await world.fault(endpoint="join", status=429, retry_after=999_999_999)
    ran = await world.apply(settings=ApplySettings(concurrency=1))
    assert ran.code == 1
    assert "deferred to a later pass" in ran.stdout + ran.stderr
    counters = await world.control("GET", "/counters")
    assert counters["join"] == {"429": 1}
    assert sum(world.clock.slept) <= MAX_PAUSE_SECONDS


@given(st.lists(st.sampled_from("abc"), max_size=30))
def test_projects_take_turns_each_in_its_own_order(projects: list[str]) -> None:
    """Every item once; each project's in its order; no project two ahead of another that has
    items left (so no project's bucket holds the shared slots while the others wait)."""
    items = list(enumerate(projects))
    turns = projects_in_turn(items, project=lambda name: name)
    assert sorted(turns) == items
    for name in set(projects):
        assert [i for i, p in turns if p == name] == [i for i, p in items if p == name]
    left = {name: projects.count(name) for name in projects}
    taken = dict.fromkeys(left, 0)
    for _, name in turns:
        assert all(taken[name] <= taken[other] for other in left if taken[other] < left[other])
        taken[name] += 1


def test_the_first_of_every_project_goes_before_the_second_of_any() -> None:
    items = list(enumerate(["a", "a", "a", "b", "c", "c"]))
    assert projects_in_turn(items, project=lambda name: name) == [
        (0, "a"),
        (3, "b"),
        (4, "c"),
        (1, "a"),
        (5, "c"),
        (2, "a"),
    ]
