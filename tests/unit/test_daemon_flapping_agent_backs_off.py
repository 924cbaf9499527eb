"""Flap protection: an agent that keeps failing is held back with growing delays, and reported."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from apply_harness import World, agent, write_fleet
from daemon_harness import ManualClock, one_pass, real_daemon, running, until
from structlog.testing import capture_logs

from reconciler.apply.report import Outcome, StepResult
from reconciler.daemon import flap
from reconciler.plan import Action, Change, Plan
from reconciler.state import MemoryStateStore


def _recreate(key: str) -> Change:
    return Change(
        action=Action.RECREATE,
        key=key,
        project="demo",
        reason="agent FAILED",
        remote_name=key,
        generation=2,
    )


def _done(key: str) -> StepResult:
    return StepResult(
        key=key,
        project="demo",
        action="recreate",
        outcome=Outcome.DONE,
        remote_name=key,
        agent_id="x",
        detail="joined",
    )


def _passes(guard: flap.FlapGuard, key: str, *, at: float) -> bool:
    """One pass at ``at`` that wants to recreate ``key``; True when the guard lets it through."""
    filtered = guard.filter(Plan(changes=(_recreate(key),)), now=at)
    if filtered.plan.changes:
        guard.record([_done(key)], now=at)
    return bool(filtered.plan.changes)


def test_the_guard_allows_the_policy_then_holds_longer_each_time() -> None:
    """Three recreations pass; then holds of 60 s and 120 s, each followed by one more chance."""
    guard = flap.FlapGuard(flap.FlapPolicy(max_recreates=3, window=600.0, holds=(60.0, 120.0)))
    assert [_passes(guard, "demo/a", at=t) for t in (0.0, 10.0, 20.0)] == [True] * 3
    assert not _passes(guard, "demo/a", at=30.0)
    assert guard.holding(now=30.0) == ("demo/a",)
    assert not _passes(guard, "demo/a", at=89.0)
    assert _passes(guard, "demo/a", at=90.0)
    assert not _passes(guard, "demo/a", at=100.0)
    held = guard.filter(Plan(changes=(_recreate("demo/a"),)), now=101.0).held
    assert [(h.key, h.until, h.strikes) for h in held] == [("demo/a", 220.0, 2)]
    assert not _passes(guard, "demo/a", at=219.0)
    assert _passes(guard, "demo/a", at=220.0)


def test_a_key_that_stays_up_for_a_window_is_forgiven() -> None:
    """After a quiet window past its last recreation or hold, a key gets the full allowance."""
    guard = flap.FlapGuard(flap.FlapPolicy(max_recreates=2, window=100.0, holds=(50.0,)))
    assert [_passes(guard, "demo/a", at=t) for t in (0.0, 1.0, 2.0)] == [True, True, False]
    assert guard.holding(now=10.0) == ("demo/a",)
    assert [_passes(guard, "demo/a", at=t) for t in (152.0, 153.0)] == [True, True]


def test_the_guard_touches_only_recreations_of_flapping_keys() -> None:
    """Other actions and other keys pass untouched, in their order."""
    guard = flap.FlapGuard(flap.FlapPolicy(max_recreates=1, window=600.0, holds=(60.0,)))
    assert _passes(guard, "demo/a", at=0.0)
    create = Change(
        action=Action.CREATE,
        key="demo/a",
        project="demo",
        reason="new",
        remote_name="n",
        generation=1,
    )
    plan = Plan(changes=(_recreate("demo/a"), _recreate("demo/b"), create))
    filtered = guard.filter(plan, now=1.0)
    assert [(c.action, c.key) for c in filtered.plan.changes] == [
        (Action.RECREATE, "demo/b"),
        (Action.CREATE, "demo/a"),
    ]


def test_a_policy_needs_an_allowance_and_holds() -> None:
    """A policy without holds or with no allowance is refused at once."""
    with pytest.raises(ValueError, match="flap policy"):
        flap.FlapPolicy(holds=())
    with pytest.raises(ValueError, match="flap policy"):
        flap.FlapPolicy(max_recreates=0)


async def test_a_failing_agent_is_recreated_then_held_and_reported(tmp_path: Path) -> None:
    """Against the emulator: three recreations, then a hold: no join, a log event and a metric."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("ch-a")})
    clock = ManualClock(start=time.time())
    the_daemon = real_daemon(
        world,
        store=MemoryStateStore(),
        clock=clock,
        flap=flap.FlapPolicy(max_recreates=3, window=600.0, holds=(60.0, 120.0)),
    )

    async def fail_the_live_agent() -> None:
        (live,) = await world.live()
        await world.control("POST", f"/agents/{live['agent_id']}/fail", {"message": "crashed"})

    with capture_logs() as logs:
        async with running(the_daemon):
            await until(lambda: the_daemon.ready())
            for _ in range(3):
                await fail_the_live_agent()
                await one_pass(the_daemon)
                assert len(await world.live()) == 1
            await fail_the_live_agent()
            await one_pass(the_daemon)
            assert await world.live() == []
            flapping = the_daemon.metrics.registry.get_sample_value("reconciler_flapping_agents")
            assert flapping == 1
            await clock.advance(60.0)
            await one_pass(the_daemon)
            assert len(await world.live()) == 1
    joins = (await world.control("GET", "/counters"))["join"]
    assert joins == {"200": 5}, "one create, three recreations, one more after the hold"
    held = [e for e in logs if e["event"] == "recreate_held"]
    assert held[0]["key"] == "demo/a"
    assert held[0]["strikes"] == 1
    assert held[0]["recreates"] == 3
    assert held[0]["retry_in_s"] == 60.0
