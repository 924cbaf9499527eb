"""Turning ``protect`` or ``archiveHistory`` on for an agent in sync reaches its record alone."""

from __future__ import annotations

from pathlib import Path

from apply_harness import World, agent, write_fleet

from reconciler.plan import diff


async def _updates(world: World) -> int:
    counters = await world.control("GET", "/counters")
    return sum(counters.get("update", {}).values())


async def test_protect_turned_on_is_recorded_and_refuses_the_later_delete(tmp_path: Path) -> None:
    """The update sends nothing and keeps the agent; removing its key then is refused."""
    world = World(tmp_path)
    others = {"hall": agent("hall"), "desk": agent("desk")}
    write_fleet(world.fleet, {**others, "lobby": agent("lobby")})
    assert (await world.apply()).code == 0
    first = world.records()["demo/lobby"]
    write_fleet(world.fleet, {**others, "lobby": agent("lobby", protect=True)})
    ran = await world.apply()
    assert ran.code == 0, ran.stderr
    assert "records protect: true" in ran.stdout
    assert await _updates(world) == 0
    record = world.records()["demo/lobby"]
    assert diff.recorded_protect(record)
    assert (record.agent_id, record.generation) == (first.agent_id, first.generation)
    await world.assert_converged()
    write_fleet(world.fleet, others)
    refused = await world.apply()
    assert refused.code == 3
    assert "demo/lobby has protect: true and would be deleted" in refused.stderr
    assert first.agent_id in {a["agent_id"] for a in await world.live()}
    assert "demo/lobby" in world.records()


async def test_archive_history_turned_on_is_recorded(tmp_path: Path) -> None:
    """The record learns the directory a later delete archives to, without a call."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"lobby": agent("lobby")})
    assert (await world.apply()).code == 0
    write_fleet(world.fleet, {"lobby": agent("lobby", archiveHistory="transcripts")})
    assert (await world.apply()).code == 0
    assert await _updates(world) == 0
    assert diff.recorded_archive_directory(world.records()["demo/lobby"]) == "transcripts"
    await world.assert_converged()
