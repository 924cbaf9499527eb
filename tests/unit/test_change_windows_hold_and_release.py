"""Change windows against the emulator on a virtual clock: a deny window holds the replace back
while the failed agent is recreated, and the daemon replaces it when the window closes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apply_harness import FakeClock, World, agent, write_fleet
from daemon_harness import START, ManualClock, finished, one_pass, real_daemon, running, until

from reconciler.state import MemoryStateStore

# START is 22:13:20 UTC: inside a window from 22:00 for an hour, which closes 2800 s later.
EVENING = {"schedule": "0 22 * * *", "duration": "1h", "deny": ["replace"]}
CLOSES_IN = 2800.0
AGENTS = {name: agent(f"ch-{name}") for name in ("a", "b")}
NEW_VOICE = {"a": agent("ch-a", properties={"tts": {"vendor": "elevenlabs", "params": {}}})}


async def _ids(world: World) -> dict[str, str]:
    return {a["channel"]: a["agent_id"] for a in await world.live()}


async def test_apply_in_a_deny_window_holds_the_replace_and_heals(tmp_path: Path) -> None:
    """apply exits 3 naming the window, replaces nothing, and recreates the failed agent."""
    world = World(tmp_path)
    world.clock = FakeClock(START)
    write_fleet(world.fleet, AGENTS, windows=[EVENING])
    assert (await world.apply()).code == 0
    before = await _ids(world)
    await world.control("POST", f"/agents/{before['ch-b']}/fail", {"message": "RTC error"})
    write_fleet(world.fleet, {**AGENTS, **NEW_VOICE}, windows=[EVENING])
    ran = await world.apply()
    assert ran.code == 3, ran.stdout + ran.stderr
    assert "deny window windows[0] '0 22 * * *' for 1h (UTC), open until" in ran.stdout
    assert "2023-11-14 23:00 UTC" in ran.stderr
    after = await _ids(world)
    assert after["ch-a"] == before["ch-a"]
    assert after["ch-b"] != before["ch-b"]


async def test_the_daemon_replaces_when_the_deny_window_closes(tmp_path: Path) -> None:
    """The held replace waits through a pass, then runs on the window's edge, with no resync."""
    world = World(tmp_path)
    write_fleet(world.fleet, AGENTS, windows=[EVENING])
    clock = ManualClock(START)
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=clock)
    registry = the_daemon.metrics.registry
    held: dict[str, Any] = {"reason": "window"}
    async with running(the_daemon):
        await until(the_daemon.ready)
        before = await _ids(world)
        write_fleet(world.fleet, {**AGENTS, **NEW_VOICE}, windows=[EVENING])
        await one_pass(the_daemon)
        assert registry.get_sample_value("reconciler_held_back_changes", held) == 1
        assert (await _ids(world))["ch-a"] == before["ch-a"]
        passes = finished(the_daemon)
        await clock.advance(CLOSES_IN - 1)
        assert the_daemon.idle
        assert finished(the_daemon) == passes
        await clock.advance(1)
        await until(lambda: finished(the_daemon) > passes and the_daemon.idle)
        assert registry.get_sample_value("reconciler_held_back_changes", held) == 0
        after = await _ids(world)
        assert after["ch-a"] != before["ch-a"]
        assert after["ch-b"] == before["ch-b"]
