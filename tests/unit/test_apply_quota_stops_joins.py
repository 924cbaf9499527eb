"""A 422 stops further joins in its project for the pass, and the report names what is left."""

from __future__ import annotations

from pathlib import Path

from apply_harness import World, agent, write_fleet

from reconciler.apply.steps import ApplySettings
from reconciler.emulator import EmulatorConfig

FOUR = {name: agent(f"room-{name}") for name in ("a", "b", "c", "d")}


async def test_the_first_422_skips_the_remaining_creates(tmp_path: Path) -> None:
    """Quota 2 in the emulator: two join, the third gets 422, the fourth is not even tried."""
    world = World(tmp_path, config=EmulatorConfig(quota=2, stopping_seconds=0))
    write_fleet(world.fleet, FOUR)
    ran = await world.apply(settings=ApplySettings(concurrency=1))
    assert ran.code == 1
    assert "Project demo reached its agent quota" in ran.stdout
    assert "✗ demo/c: create" in ran.stdout
    assert "- demo/d: create" in ran.stdout
    assert (await world.control("GET", "/counters"))["join"] == {"200": 2, "422": 1}
    records = world.records()
    assert sorted(k for k, r in records.items() if r.agent_id) == ["demo/a", "demo/b"]
    assert "demo/d" not in records
    left = await world.plan()
    assert [(c.action.value, c.key) for c in left.changes] == [
        ("create", "demo/c"),
        ("create", "demo/d"),
    ]


async def test_deletes_run_first_and_free_the_quota_for_creates(tmp_path: Path) -> None:
    """At quota 3 with 3 live, swapping one agent for another works: the leave goes first."""
    world = World(tmp_path, config=EmulatorConfig(quota=3, stopping_seconds=0))
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b"), "c": agent("room-c")})
    assert (await world.apply()).code == 0
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b"), "d": agent("room-d")})
    ran = await world.apply(settings=ApplySettings(concurrency=4))
    assert ran.code == 0, ran.stdout + ran.stderr
    assert sorted(a["channel"] for a in await world.live()) == ["room-a", "room-b", "room-d"]
    await world.assert_converged()
