"""Real passes against the in-process emulator: edits converge, failed agents heal, tokens renew."""

from __future__ import annotations

import time
from pathlib import Path

from apply_harness import World, agent, write_fleet
from daemon_harness import (
    ManualClock,
    eventually,
    finished,
    one_pass,
    real_daemon,
    running,
    until,
)

from reconciler import daemon
from reconciler.daemon import triggers
from reconciler.state import MemoryStateStore

LIFETIME = 3600


def _world(tmp_path: Path, agents: dict[str, dict[str, object]]) -> World:
    world = World(tmp_path)
    write_fleet(world.fleet, agents, token_lifetime=LIFETIME)
    return world


def _gauge(the_daemon: daemon.Daemon, name: str, **labels: str) -> float | None:
    return the_daemon.metrics.registry.get_sample_value(name, labels)


async def test_a_manifest_edit_converges_without_being_asked(tmp_path: Path) -> None:
    """Saving a new manifest wakes a pass (the file watcher): the new agent joins, drift is 0."""
    world = _world(tmp_path, {"a": agent("ch-a")})
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=ManualClock(time.time()))
    async with running(the_daemon):
        await until(the_daemon.ready)
        write_fleet(world.fleet, {"a": agent("ch-a"), "b": agent("ch-b")}, token_lifetime=LIFETIME)

        async def both_live() -> bool:
            return sorted(a["channel"] for a in await world.live()) == ["ch-a", "ch-b"]

        await eventually(both_live)
        await one_pass(the_daemon)
    assert _gauge(the_daemon, "reconciler_agents_desired") == 2
    assert _gauge(the_daemon, "reconciler_drift_agents") == 0
    assert _gauge(the_daemon, "reconciler_agents", status="RUNNING") == 2
    assert _gauge(the_daemon, "reconciler_api_requests_total", endpoint="join", code="200") == 2


async def test_a_failed_agent_is_recreated_per_its_restart_policy(tmp_path: Path) -> None:
    """Always and OnFailure agents that failed come back on the next pass; Never stays down."""
    policies = {"always": "Always", "on-failure": "OnFailure", "never": "Never"}
    world = _world(
        tmp_path,
        {name: agent(f"ch-{name}", restartPolicy=policy) for name, policy in policies.items()},
    )
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=ManualClock(time.time()))
    async with running(the_daemon):
        await until(the_daemon.ready)
        for live in await world.live():
            await world.control("POST", f"/agents/{live['agent_id']}/fail", {"message": "boom"})
        await one_pass(the_daemon)
        channels = sorted(a["channel"] for a in await world.live())
    assert channels == ["ch-always", "ch-on-failure"]
    recreated = {"action": "recreate", "outcome": "done"}
    assert _gauge(the_daemon, "reconciler_actions_total", **recreated) == 2


async def test_gauges_right_after_a_healing_pass_show_the_fleet_it_left(tmp_path: Path) -> None:
    """The pass that recreated a failed agent leaves the gauges at RUNNING and no drift."""
    world = _world(tmp_path, {"a": agent("ch-a"), "b": agent("ch-b")})
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=ManualClock(time.time()))
    recreated = {"action": "recreate", "outcome": "done"}
    async with running(the_daemon):
        await until(the_daemon.ready)
        victim = (await world.live())[0]
        await world.control("POST", f"/agents/{victim['agent_id']}/fail", {"message": "boom"})
        the_daemon.wake()
        await until(lambda: _gauge(the_daemon, "reconciler_actions_total", **recreated) == 1)
        # The counter moves in the same step as the gauges: no later pass is needed.
        assert _gauge(the_daemon, "reconciler_agents", status="RUNNING") == 2
        assert _gauge(the_daemon, "reconciler_drift_agents") == 0


async def test_a_broken_edit_deletes_nothing_and_a_fix_resumes(tmp_path: Path) -> None:
    """An invalid edit that drops an agent leaves it running; the fixed file is then applied."""
    world = _world(tmp_path, {"a": agent("ch-a"), "b": agent("ch-b")})
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=ManualClock(time.time()))
    async with running(the_daemon):
        await until(the_daemon.ready)
        write_fleet(world.fleet, {"a": agent("ch-a", restartPolicy="Sometimes")})
        await one_pass(the_daemon)
        assert _gauge(the_daemon, "reconciler_manifests_valid") == 0
        assert len(await world.live()) == 2
        assert the_daemon.ready()
        write_fleet(world.fleet, {"a": agent("ch-a")}, token_lifetime=LIFETIME)
        await one_pass(the_daemon)
        assert [a["channel"] for a in await world.live()] == ["ch-a"]
    assert _gauge(the_daemon, "reconciler_manifests_valid") == 1
    assert _gauge(the_daemon, "reconciler_actions_total", action="delete", outcome="done") == 1


async def test_the_renewal_deadline_wakes_a_pass_that_renews_the_token(tmp_path: Path) -> None:
    """With no other trigger, the alarm at expiry less a quarter lifetime brings the renewal."""
    world = _world(tmp_path, {"a": agent("ch-a")})
    clock = ManualClock(time.time())
    store = MemoryStateStore()
    the_daemon = real_daemon(world, store=store, clock=clock)
    async with running(the_daemon):
        await until(the_daemon.ready)
        (record,) = store.snapshot().records.values()
        assert record.token_expires_at is not None
        deadline = record.token_expires_at - LIFETIME / 4 + triggers.RENEWAL_MARGIN_SECONDS
        assert the_daemon.renewal_deadline == deadline
        passes = finished(the_daemon)
        await clock.advance(deadline - clock.now() - 1)
        assert finished(the_daemon) == passes
        await clock.advance(1)
        await until(lambda: finished(the_daemon) > passes and the_daemon.idle)
    renewed = {"action": "renew-token", "outcome": "done"}
    assert _gauge(the_daemon, "reconciler_actions_total", **renewed) == 1
