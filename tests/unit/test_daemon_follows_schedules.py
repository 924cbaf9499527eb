"""The daemon on the emulator's virtual clock: scheduled agents join and leave at their edges.

The daemon's clock and the emulator's frozen clock move together, by hand: nothing wakes a pass
but the alarm the last pass set for the next schedule edge, so an agent joining with the
emulator's ``start_ts`` at the edge proves the daemon woke on time, across Berlin's DST change.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apply_harness import World, agent, write_fleet
from daemon_harness import ManualClock, finished, real_daemon, running, until

from reconciler.emulator.config import EmulatorConfig
from reconciler.state import MemoryStateStore

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = {"cron": "0 9 * * *", "duration": "9h", "timezone": "Europe/Berlin"}


def _at(day: int, hour: int) -> float:
    return datetime(2026, 3, day, hour, tzinfo=BERLIN).timestamp()


async def _move(world: World, clock: ManualClock, to: float) -> None:
    """Both clocks to ``to``: the emulator's first, so the pass the alarm wakes sees it."""
    await world.control("POST", "/clock", {"set": to})
    await clock.advance(to - clock.now())


async def test_a_scheduled_agent_joins_and_leaves_at_its_edges_across_dst(tmp_path: Path) -> None:
    """09:00-18:00 Berlin: joins at 08:00 UTC, leaves at 17:00 UTC, joins at 07:00 UTC after
    the DST change, each pass woken by the alarm at the edge and acting at it."""
    start = _at(28, 8) + 50 * 60  # 08:50 local, ten minutes before the window
    world = World(
        tmp_path,
        config=EmulatorConfig(stopping_seconds=0, frozen_clock=True, clock_start=start),
    )
    write_fleet(world.fleet, {"desk": agent("desk", schedule=WINDOW)}, certificate=False)
    clock = ManualClock(start)
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=clock)
    async with running(the_daemon):
        await until(lambda: finished(the_daemon) == 1 and the_daemon.idle)
        assert await world.live() == []
        for edge, live in ((_at(28, 9), 1), (_at(28, 18), 0), (_at(29, 9), 1)):
            assert the_daemon.renewal_deadline == edge
            passes = finished(the_daemon)
            await _move(world, clock, edge - 1)
            assert finished(the_daemon) == passes
            await _move(world, clock, edge)
            await until(lambda: finished(the_daemon) > passes and the_daemon.idle)  # noqa: B023
            running_now = await world.live()
            assert len(running_now) == live
            if live:
                assert abs(running_now[0]["start_ts"] - edge) < 1
            burn = the_daemon.metrics.registry.get_sample_value(
                "reconciler_estimated_cost_per_hour", {"project": "demo", "currency": "USD"}
            )
            assert burn == 6.0 * live
    assert _at(29, 9) - _at(28, 9) == 23 * 3600  # the DST change: the window moved an hour
