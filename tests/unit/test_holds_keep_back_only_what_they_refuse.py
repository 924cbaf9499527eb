"""A refused mass delete holds back only the deletes: a failed agent is healed in that pass."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from apply_harness import World, agent, write_fleet
from daemon_harness import ManualClock, one_pass, real_daemon, running, until

from reconciler.state import MemoryStateStore

FOUR = {name: agent(f"ch-{name}") for name in ("a", "b", "c", "d")}


async def _live_by_channel(world: World) -> dict[str, dict[str, Any]]:
    return {a["channel"]: a for a in await world.live()}


async def _fail(world: World, channel: str) -> str:
    failed: str = (await _live_by_channel(world))[channel]["agent_id"]
    await world.control("POST", f"/agents/{failed}/fail", {"message": "RTC connection error"})
    return failed


async def test_apply_recreates_a_failed_agent_while_a_mass_delete_is_held(tmp_path: Path) -> None:
    """apply exits 3 for the held deletes, yet the failed agent is recreated in the same pass."""
    world = World(tmp_path)
    write_fleet(world.fleet, FOUR)
    assert (await world.apply()).code == 0
    failed = await _fail(world, "ch-a")
    write_fleet(world.fleet, {"a": FOUR["a"]})
    ran = await world.apply()
    assert ran.code == 3, ran.stdout + ran.stderr
    assert "3 of 3 owned agents of project demo would be deleted" in ran.stderr
    assert "--allow-mass-delete" in ran.stderr
    assert "Held back by a safety rule" in ran.stdout
    live = await _live_by_channel(world)
    assert sorted(live) == ["ch-a", "ch-b", "ch-c", "ch-d"]
    assert live["ch-a"]["agent_id"] != failed
    assert world.records()["demo/a"].agent_id == live["ch-a"]["agent_id"]
    allowed = await world.apply(allow_mass_delete=True)
    assert allowed.code == 0, allowed.stdout + allowed.stderr
    assert sorted(await _live_by_channel(world)) == ["ch-a"]


async def test_the_daemon_heals_while_holding_a_mass_delete(tmp_path: Path) -> None:
    """run recreates the failed agent in the pass that holds the deletes back, and says so."""
    world = World(tmp_path)
    write_fleet(world.fleet, FOUR)
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=ManualClock(time.time()))
    registry = the_daemon.metrics.registry
    async with running(the_daemon):
        await until(the_daemon.ready)
        failed = await _fail(world, "ch-a")
        write_fleet(world.fleet, {"a": FOUR["a"]})
        await one_pass(the_daemon)
        live = await _live_by_channel(world)
        assert sorted(live) == ["ch-a", "ch-b", "ch-c", "ch-d"]
        assert live["ch-a"]["agent_id"] != failed
        held = {"reason": "mass-delete"}
        assert registry.get_sample_value("reconciler_held_back_changes", held) == 3
        # Later passes try again and hold again; the daemon stays ready throughout.
        await one_pass(the_daemon)
        assert registry.get_sample_value("reconciler_held_back_changes", held) == 3
        assert the_daemon.ready()
    recreated = {"action": "recreate", "outcome": "done"}
    assert registry.get_sample_value("reconciler_actions_total", recreated) == 1
