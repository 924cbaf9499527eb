"""Replaces roll out in waves: never more than maxUnavailable channels without a RUNNING agent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from apply_harness import World, profile

from reconciler.plan import Action

CHANNELS = [f"store-{index:03d}" for index in range(1, 9)]


def _write(world: World, *, voice: str, rollout: dict[str, Any] | None) -> None:
    properties = {**profile(), "agent_rtc_uid": "1001", "remote_rtc_uids": ["2001"]}
    properties["tts"] = {**properties["tts"], "params": {**properties["tts"]["params"]}}
    properties["tts"]["params"]["voice"] = voice
    spec: dict[str, Any] = {"channels": CHANNELS, "template": {"properties": properties}}
    if rollout is not None:
        spec["rollout"] = rollout
    documents = [
        {
            "apiVersion": "reconciler/v1",
            "kind": "Project",
            "metadata": {"name": "demo"},
            "spec": {
                "appId": "${env:AGORA_APP_ID}",
                "customerId": "${env:AGORA_CUSTOMER_ID}",
                "customerSecret": "${env:AGORA_CUSTOMER_SECRET}",
                "appCertificate": "${env:AGORA_APP_CERTIFICATE}",
            },
        },
        {
            "apiVersion": "reconciler/v1",
            "kind": "AgentSet",
            "metadata": {"name": "shop", "project": "demo"},
            "spec": spec,
        },
    ]
    world.fleet.mkdir(parents=True, exist_ok=True)
    (world.fleet / "fleet.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))


async def _down(world: World) -> int:
    """Channels of the set without a RUNNING agent, as the emulator holds them now."""
    running = {a["channel"] for a in await world.agents() if a["status"] == "RUNNING"}
    return sum(1 for channel in CHANNELS if channel not in running)


async def test_a_voice_change_of_eight_agents_rolls_out_two_at_a_time(tmp_path: Path) -> None:
    """All 8 are replaced without any flag, and a sampler never sees more than 2 channels down."""
    world = World(tmp_path)
    _write(world, voice="a", rollout={"maxUnavailable": 2})
    assert (await world.apply()).code == 0
    before = {r.key: r.agent_id for r in world.records().values()}
    _write(world, voice="b", rollout={"maxUnavailable": 2})
    planned = await world.plan()
    assert [c.wave for c in planned.changes if c.action is Action.REPLACE] == [
        1, 1, 2, 2, 3, 3, 4, 4
    ]  # fmt: skip
    (rollout,) = planned.rollouts
    assert (rollout.scope, rollout.waves, rollout.max_unavailable) == ("AgentSet demo/shop", 4, 2)
    seen: list[int] = []
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            seen.append(await _down(world))
            # A real pause: a sampler that only yields keeps the loop so busy that apply's state
            # writes (in a worker thread) wait on the GIL for minutes. A replaced channel stays
            # down for seconds (stopping, then starting), so 5 ms still sees every dip.
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    try:
        ran = await world.apply()
    finally:
        done.set()
        await sampler
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "4 wave(s) of at most 2" in ran.stdout
    after = {r.key: r.agent_id for r in world.records().values()}
    assert sorted(after) == sorted(before)
    assert all(after[key] != before[key] for key in before)
    assert max(seen) == 2, seen
    await world.assert_converged()


async def test_channels_already_down_use_up_the_budget(tmp_path: Path) -> None:
    """With 2 of 8 down and maxUnavailable 2, the replaces wait; the recreates run at once."""
    world = World(tmp_path)
    _write(world, voice="a", rollout={"maxUnavailable": 2})
    assert (await world.apply()).code == 0
    for live in (await world.live())[:2]:
        await world.control("POST", f"/agents/{live['agent_id']}/fail", {"message": "boom"})
    _write(world, voice="b", rollout={"maxUnavailable": 2})
    ran = await world.apply()
    assert ran.code == 3, ran.stdout + ran.stderr
    assert "the rollout budget of AgentSet demo/shop is used up" in ran.stderr
    assert await _down(world) == 0
    # The recreated agents joined with the new voice; the six others are replaced next pass.
    planned = await world.plan()
    assert [str(c.action) for c in planned.changes] == ["replace"] * 6
    assert (await world.apply()).code == 0
    await world.assert_converged()


async def test_the_default_budget_is_a_quarter_of_the_scope(tmp_path: Path) -> None:
    """Unset, maxUnavailable is 25%: 8 agents roll out 2 at a time."""
    world = World(tmp_path)
    _write(world, voice="a", rollout=None)
    assert (await world.apply()).code == 0
    _write(world, voice="b", rollout={"pauseBetweenWaves": "30s"})
    planned = await world.plan()
    assert planned.rollouts[0].waves == 4
    assert (await world.apply()).code == 0
    assert world.clock.slept.count(30.0) == 3
    await world.assert_converged()


async def test_a_wave_that_misses_its_deadline_stops_the_rollout(tmp_path: Path) -> None:
    """New agents still STARTING at progressDeadline fail their wave; later waves wait."""
    world = World(tmp_path)
    _write(world, voice="a", rollout={"maxUnavailable": 4})
    assert (await world.apply()).code == 0
    await world.control("POST", "/config", {"join_status": "STARTING", "starting_seconds": 3600})
    _write(world, voice="b", rollout={"maxUnavailable": 4, "progressDeadline": "10s"})
    ran = await world.apply()
    assert ran.code == 1, ran.stdout + ran.stderr
    assert "the rollout of AgentSet demo/shop stopped after wave 1" in ran.stdout
    replaced = [r for r in world.records().values() if r.generation == 2]
    assert len(replaced) == 4
    await world.control("POST", "/clock", {"advance": 3600})
    planned = await world.plan()
    assert [str(c.action) for c in planned.changes] == ["replace"] * 4
