"""Each kind of change, applied against a real emulator server, converges to an empty plan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply_e2e_harness import harness, save_plan

from reconciler.emulator import EmulatorConfig, running_server

agent = harness.agent
TWO = {"a": agent("room-a"), "b": agent("room-b")}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Any]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        yield harness.World(tmp_path, base_url=url)


async def _converged_with(world: Any, fleet: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Apply ``fleet`` and return the live agents by channel."""
    harness.write_fleet(world.fleet, fleet)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    await world.assert_converged()
    return {a["channel"]: a for a in await world.live()}


async def test_a_prompt_change_updates_the_agent_in_place(world: Any) -> None:
    """A new system message goes by update: same agent, new prompt."""
    before = await _converged_with(world, TWO)
    prompt = [{"role": "system", "content": "You are terse."}]
    changed = {
        "a": agent(
            "room-a", properties={"llm": {**harness.profile()["llm"], "system_messages": prompt}}
        ),
        "b": TWO["b"],
    }
    after = await _converged_with(world, changed)
    assert after["room-a"]["agent_id"] == before["room-a"]["agent_id"]
    assert after["room-a"]["properties"]["llm"]["system_messages"] == prompt
    assert (await world.control("GET", "/counters"))["update"] == {"200": 1}


async def test_a_tts_change_replaces_the_agent(world: Any) -> None:
    """A new TTS vendor forces leave then join of generation 2 in the same channel and uid."""
    before = await _converged_with(world, TWO)
    tts = {"vendor": "elevenlabs", "params": {"key": "${env:AZURE_TTS_KEY}", "voice": "b"}}
    after = await _converged_with(
        world, {"a": agent("room-a", properties={"tts": tts}), "b": TWO["b"]}
    )
    assert after["room-a"]["agent_id"] != before["room-a"]["agent_id"]
    assert re.search(r"-g2-[0-9a-f]{8}$", after["room-a"]["name"])
    assert after["room-b"]["agent_id"] == before["room-b"]["agent_id"]
    old = [a for a in await world.agents() if a["agent_id"] == before["room-a"]["agent_id"]]
    assert old[0]["status"] == "STOPPED"


async def test_a_removed_agent_is_deleted(world: Any) -> None:
    """An entry gone from the manifests leaves, and its record goes."""
    await _converged_with(world, {**TWO, "c": agent("room-c")})
    after = await _converged_with(world, TWO)
    assert sorted(after) == ["room-a", "room-b"]
    assert sorted(world.records()) == ["demo/a", "demo/b"]


async def test_a_protected_agent_is_never_deleted(world: Any) -> None:
    """Removing a protect: true agent is refused with exit 3, and it keeps running."""
    await _converged_with(world, {**TWO, "c": agent("room-c", protect=True)})
    harness.write_fleet(world.fleet, TWO)
    ran = await world.apply()
    assert ran.code == 3
    assert "demo/c has protect: true" in ran.stderr
    assert len(await world.live()) == 3


async def test_a_mass_delete_is_refused_unless_allowed(world: Any) -> None:
    """Leaving all owned agents needs --allow-mass-delete."""
    await _converged_with(world, TWO)
    harness.write_fleet(world.fleet, {})
    refused = await world.apply()
    assert refused.code == 3
    assert "--allow-mass-delete" in refused.stderr
    assert len(await world.live()) == 2
    allowed = await world.apply(allow_mass_delete=True)
    assert allowed.code == 0, allowed.stdout + allowed.stderr
    assert await world.live() == []
    assert world.records() == {}


async def test_an_agent_failed_in_the_emulator_is_recreated(world: Any) -> None:
    """A FAILED agent is joined again under the next generation's name."""
    before = await _converged_with(world, TWO)
    failed = before["room-a"]["agent_id"]
    await world.control("POST", f"/agents/{failed}/fail", {"message": "RTC connection error"})
    planned = await world.plan()
    assert [(c.action.value, c.key) for c in planned.changes] == [("recreate", "demo/a")]
    after = await _converged_with(world, TWO)
    assert after["room-a"]["agent_id"] != failed
    assert re.search(r"-g2-[0-9a-f]{8}$", after["room-a"]["name"])


async def test_a_saved_plan_applies_once_then_is_refused_as_stale(world: Any) -> None:
    """A fresh plan file applies; the same file again names what moved and exits 3."""
    harness.write_fleet(world.fleet, TWO)
    planfile = world.fleet.parent / "plan.json"
    code, _ = await save_plan(world, planfile)
    assert code == 0
    first = await world.apply(target=planfile)
    assert first.code == 0, first.stdout + first.stderr
    again = await world.apply(target=planfile)
    assert again.code == 3
    assert "the state changed" in again.stderr
    assert "the live agents changed" in again.stderr
    await world.assert_converged()
