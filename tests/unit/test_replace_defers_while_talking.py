"""deferWhileTalking against the emulator: a replace, or a stop at the end of the agent's
schedule, waits while its agent talks, up to a limit.

The emulator's clock is frozen and follows apply's fake clock on every sleep, so the turns a
talking caller leaves and the deferral's reading of them share one timeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apply_harness import FakeClock, World, agent, write_fleet

from reconciler.emulator import EmulatorConfig

T = 1_750_000_000.0
CALM = {"a": agent("ch-a"), "b": agent("ch-b")}
NEW_VOICE = {"tts": {"vendor": "elevenlabs", "params": {}}}


async def _world(tmp_path: Path, defer: str) -> World:
    world = World(
        tmp_path, config=EmulatorConfig(stopping_seconds=0, frozen_clock=True, clock_start=T)
    )
    _follow(world, FakeClock(T))
    write_fleet(world.fleet, CALM, rollout={"deferWhileTalking": defer})
    assert (await world.apply()).code == 0
    return world


def _follow(world: World, clock: FakeClock) -> None:
    """Apply runs on ``clock``, and the emulator's clock follows it on every sleep."""
    world.clock = clock

    async def follow() -> None:
        await world.control("POST", "/clock", {"set": clock.now()})

    clock.on_sleep = follow


async def _replace_a(world: World, defer: str) -> dict[str, Any]:
    """Change a's voice, apply, and return a's new agent as the emulator shows it."""
    old = {x["channel"]: x for x in await world.live()}
    write_fleet(
        world.fleet,
        {**CALM, "a": agent("ch-a", properties=NEW_VOICE)},
        rollout={"deferWhileTalking": defer},
    )
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    new = {x["channel"]: x for x in await world.live()}
    assert new["ch-a"]["agent_id"] != old["ch-a"]["agent_id"]
    assert new["ch-b"]["agent_id"] == old["ch-b"]["agent_id"]
    return new["ch-a"]


async def _talk(world: World, seconds: float) -> None:
    (talker,) = [x for x in await world.live() if x["channel"] == "ch-a"]
    await world.control("POST", f"/agents/{talker['agent_id']}/talk", {"seconds": seconds})


async def test_a_replace_waits_until_the_conversation_has_been_quiet_for_30s(
    tmp_path: Path,
) -> None:
    """A caller talks for 60 s: the replace joins once 30 s passed without a turn, not before."""
    world = await _world(tmp_path, "2m")
    await _talk(world, 60)
    replaced = await _replace_a(world, "2m")
    assert T + 90 <= replaced["start_ts"] < T + 120


async def test_a_replace_goes_ahead_when_deferWhileTalking_is_up(tmp_path: Path) -> None:
    """A caller who talks for ten minutes holds the replace for the minute it may wait only."""
    world = await _world(tmp_path, "1m")
    await _talk(world, 600)
    replaced = await _replace_a(world, "1m")
    assert T + 60 <= replaced["start_ts"] < T + 90


async def test_a_quiet_agent_is_replaced_at_once_after_one_look(tmp_path: Path) -> None:
    """No turns: one read of the turns, no wait."""
    world = await _world(tmp_path, "5m")
    replaced = await _replace_a(world, "5m")
    assert replaced["start_ts"] < T + 5
    counters = await world.control("GET", "/counters")
    assert sum(counters["turns"].values()) == 1


SHIFT = {"cron": "0 15 * * *", "duration": "10m", "timezone": "UTC"}
"""Open from 15:00 to 15:10 UTC: T is 15:06:40, so the window ends at T + 200."""


async def _stop_after_shift(tmp_path: Path, *, talk: float) -> dict[str, Any]:
    """Join a's shift at T, let a caller talk for ``talk`` s, apply past the shift's end, and
    return a's agent as the emulator shows it once it left."""
    world = await _world(tmp_path, "2m")
    on_shift = {**CALM, "a": agent("ch-a", schedule=SHIFT)}
    write_fleet(world.fleet, on_shift, rollout={"deferWhileTalking": "2m"})
    assert (await world.apply()).code == 0
    (talker,) = [x for x in await world.live() if x["channel"] == "ch-a"]
    if talk:
        await _talk(world, talk)
    _follow(world, FakeClock(T + 210))
    await world.control("POST", "/clock", {"set": T + 210})
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert [x["channel"] for x in await world.live()] == ["ch-b"]
    (left,) = [x for x in await world.agents() if x["agent_id"] == talker["agent_id"]]
    return left


async def test_a_scheduled_stop_waits_for_the_conversation_up_to_deferWhileTalking(
    tmp_path: Path,
) -> None:
    """The shift ends mid-call: the agent stays for the two minutes it may wait, then leaves."""
    left = await _stop_after_shift(tmp_path, talk=600)
    assert T + 330 <= left["stop_ts"] < T + 360


async def test_a_quiet_agent_leaves_at_the_end_of_its_shift(tmp_path: Path) -> None:
    left = await _stop_after_shift(tmp_path, talk=0)
    assert left["stop_ts"] < T + 215
