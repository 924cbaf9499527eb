"""Secrets are resolved at apply time into the request only; a missing one stops the pass early."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_harness import SECRETS, World, agent, write_fleet

from reconciler.manifest.secrets import SecretUnavailableError


async def test_references_reach_the_api_as_values_and_the_state_as_fingerprints(
    tmp_path: Path,
) -> None:
    """The emulator receives the key itself; the state keeps only a fingerprint of it."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    assert (await world.apply()).code == 0
    [live] = await world.live()
    assert live["properties"]["llm"]["api_key"] == SECRETS["OPENAI_API_KEY"]
    assert live["properties"]["tts"]["params"]["key"] == SECRETS["AZURE_TTS_KEY"]
    stored = repr(world.snapshot())
    assert all(secret not in stored for secret in SECRETS.values())


async def test_a_missing_secret_stops_the_pass_before_any_call(tmp_path: Path) -> None:
    """An unset variable is named with its manifest line, and nothing is joined at all."""
    world = World(tmp_path)
    fleet = {"a": agent("room-a"), "b": agent("room-b", properties={"greeting": "${env:UNSET}"})}
    write_fleet(world.fleet, fleet)
    with pytest.raises(SecretUnavailableError, match=r"fleet.yaml:\d+: environment variable UNSET"):
        await world.apply()
    assert await world.agents() == []


async def test_a_replace_whose_new_body_cannot_be_built_keeps_the_old_agent(
    tmp_path: Path,
) -> None:
    """The join body is built before the leave, so a token that cannot be minted costs nothing."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")})
    assert (await world.apply()).code == 0
    [old] = [a for a in await world.live() if a["channel"] == "room-a"]
    string_uid = agent("room-a", uid="concierge", properties={"enable_string_uid": True})
    write_fleet(world.fleet, {"a": string_uid, "b": agent("room-b")})
    ran = await world.apply()
    assert ran.code == 1
    assert "cannot mint the RTC token of demo/a" in ran.stdout
    assert old["agent_id"] in {a["agent_id"] for a in await world.live()}
    assert world.records()["demo/a"].agent_id == old["agent_id"]
    assert "leave" not in await world.control("GET", "/counters")
