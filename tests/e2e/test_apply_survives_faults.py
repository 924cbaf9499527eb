"""Faults on a real emulator server never leave a key with two agents, or with none for long."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply_e2e_harness import harness

from reconciler.emulator import EmulatorConfig, running_server
from reconciler.errors import ApiError

FLEET = {name: harness.agent(f"room-{name}") for name in ("a", "b", "c", "d", "e")}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Any]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        world = harness.World(tmp_path, base_url=url)
        harness.write_fleet(world.fleet, FLEET)
        yield world


async def _one_agent_per_key(world: Any) -> None:
    names = [a["name"] for a in await world.live()]
    assert sorted(names) == sorted(set(names))
    assert len(names) == len(FLEET)
    await world.assert_converged()


async def test_the_next_joins_failing_with_503_still_give_one_agent_per_key(world: Any) -> None:
    """The next 6 joins answer 503 (no agent started); retries get every key exactly one."""
    await world.fault(endpoint="join", status=503, count=6)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    await _one_agent_per_key(world)


async def test_429_with_retry_after_is_waited_out(world: Any) -> None:
    """Joins refused with 429 and Retry-After: 3 wait that long (on fake time) and succeed."""
    await world.fault(endpoint="join", status=429, retry_after=3, count=4)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert world.clock.slept.count(3) >= 1
    await _one_agent_per_key(world)


async def test_connections_dropped_after_the_join_took_effect_adopt_not_duplicate(
    world: Any,
) -> None:
    """Every join's answer is lost once after the agent started: still one agent per key."""
    await world.fault(endpoint="join", drop_connection=True, when="after", count=5)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert len(await world.agents()) == len(FLEET)
    await _one_agent_per_key(world)


# Fault safety is the subject here, not pacing: agents left down by faults would use up a
# rollout budget, and the last apply must converge in one pass.
ALL_AT_ONCE = {"maxUnavailable": "100%"}


def _variant(round_number: int) -> dict[str, Any]:
    """A fleet that differs from the last one: a new prompt, one agent swapped, a TTS change."""
    llm = {
        **harness.profile()["llm"],
        "system_messages": [{"role": "system", "content": f"v{round_number}"}],
    }
    tts = {"vendor": f"vendor-{round_number % 2}", "params": {"key": "${env:AZURE_TTS_KEY}"}}
    names = [n for n in FLEET if n != "abcde"[round_number % 5]]
    fleet = {n: harness.agent(f"room-{n}", properties={"llm": llm}) for n in names}
    fleet[names[0]] = harness.agent(f"room-{names[0]}", properties={"llm": llm, "tts": tts})
    return fleet


async def test_random_faults_on_every_endpoint_never_duplicate(world: Any) -> None:
    """A third of all calls fail (503, 500, dropped after the fact) while the fleet changes."""
    await world.fault(status=503, fraction=0.2)
    await world.fault(drop_connection=True, when="after", fraction=0.15)
    await world.fault(status=500, fraction=0.1)
    for round_number in range(8):
        harness.write_fleet(world.fleet, _variant(round_number), rollout=ALL_AT_ONCE)
        with contextlib.suppress(ApiError):
            await world.apply(allow_mass_delete=True)
        names = [a["name"] for a in await world.live()]
        keys = [name.rsplit("-g", 1)[0] for name in names]
        assert len(keys) == len(set(keys)), f"two live generations of one key: {sorted(names)}"
    counters = await world.control("GET", "/counters")
    assert counters["join"].get("dropped", 0) + counters["join"].get("503", 0) > 0
    await world.control("DELETE", "/faults")
    harness.write_fleet(world.fleet, FLEET, rollout=ALL_AT_ONCE)
    ran = await world.apply(allow_mass_delete=True)
    assert ran.code == 0, ran.stdout + ran.stderr
    await _one_agent_per_key(world)
