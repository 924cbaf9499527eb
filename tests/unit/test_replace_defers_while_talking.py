"""deferWhileTalking against the emulator: a replace waits while its agent talks, up to a limit.

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
    world.clock = FakeClock(T)

    async def follow() -> None:
        await world.control("POST", "/clock", {"set": world.clock.now()})

    world.clock.on_sleep = follow
    write_fleet(world.fleet, CALM, rollout={"deferWhileTalking": defer})
    assert (await world.apply()).code == 0
    return world


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
