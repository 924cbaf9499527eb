"""With --wait, apply polls each joined agent until RUNNING and reports one that fails instead."""

from __future__ import annotations

from pathlib import Path

from apply_harness import World, agent, write_fleet

from reconciler.apply.readiness import Polling
from reconciler.apply.steps import ApplySettings
from reconciler.emulator import EmulatorConfig

WAIT = ApplySettings(wait=True, ready_polling=Polling(timeout=30.0))


async def test_a_starting_agent_is_awaited_until_running(tmp_path: Path) -> None:
    """Join answers STARTING; apply succeeds once query says RUNNING."""
    config = EmulatorConfig(join_status="STARTING", starting_seconds=0, stopping_seconds=0)
    world = World(tmp_path, config=config)
    write_fleet(world.fleet, {"a": agent("room-a")})
    ran = await world.apply(settings=WAIT)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert (await world.control("GET", "/counters"))["query"] == {"200": 1}


async def test_an_agent_that_fails_while_starting_is_reported_with_the_api_message(
    tmp_path: Path,
) -> None:
    """The agent goes FAILED during the wait: exit 1, and the summary quotes the API's message."""
    config = EmulatorConfig(join_status="STARTING", starting_seconds=3600, stopping_seconds=0)
    world = World(tmp_path, config=config)
    write_fleet(world.fleet, {"a": agent("room-a")})

    async def fail_it() -> None:
        [starting] = await world.live()
        await world.control(
            "POST", f"/agents/{starting['agent_id']}/fail", {"message": "RTC connection error"}
        )
        world.clock.on_sleep = None

    world.clock.on_sleep = fail_it
    ran = await world.apply(settings=WAIT)
    assert ran.code == 1
    assert "FAILED (RTC connection error) instead of RUNNING" in ran.stdout
    assert world.records()["demo/a"].agent_id is not None
    recreate = await world.plan()
    assert [c.action.value for c in recreate.changes] == ["recreate"]


async def test_an_agent_never_running_times_out_on_fake_time(tmp_path: Path) -> None:
    """Still STARTING when the wait runs out: reported, after bounded, growing pauses."""
    config = EmulatorConfig(join_status="STARTING", starting_seconds=3600, stopping_seconds=0)
    world = World(tmp_path, config=config)
    write_fleet(world.fleet, {"a": agent("room-a")})
    ran = await world.apply(settings=WAIT)
    assert ran.code == 1
    assert "STARTING instead of RUNNING" in ran.stdout
    assert sum(world.clock.slept) <= 30.0
    assert world.clock.slept[:4] == [0.25, 0.5, 1.0, 2.0]
