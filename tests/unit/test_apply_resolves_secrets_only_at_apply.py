"""Secrets are resolved at apply time into the request only; a missing one stops the pass early."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from apply_harness import ENV, SECRETS, World, agent, write_fleet

from reconciler import logs, reconcile
from reconciler.manifest import load
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
    """An unset variable is named with its manifest line, column and field as written, and
    nothing is joined at all."""
    world = World(tmp_path)
    fleet = {"a": agent("room-a"), "b": agent("room-b", properties={"greeting": "${env:UNSET}"})}
    write_fleet(world.fleet, fleet)
    where = r"fleet.yaml:\d+:\d+ spec\.properties\.greeting: environment variable UNSET"
    with pytest.raises(SecretUnavailableError, match=where):
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


class _CountingEnviron(Mapping[str, str]):
    """An environment that counts how often each variable is read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.reads: Counter[str] = Counter()

    def __getitem__(self, name: str) -> str:
        self.reads[name] += 1
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


async def test_each_reference_is_resolved_once_per_pass(tmp_path: Path) -> None:
    """Two agents sharing two keys: fingerprints and join bodies read each variable once."""
    world = World(tmp_path)
    environ = _CountingEnviron(ENV)
    world.environ = environ  # type: ignore[assignment]  # any Mapping will do
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")})
    assert (await world.apply()).code == 0
    assert len(await world.live()) == 2
    assert {name: environ.reads[name] for name in SECRETS} == dict.fromkeys(SECRETS, 1)


def test_a_reference_inside_a_longer_string_is_masked_on_its_own(tmp_path: Path) -> None:
    """Planning ``Token ${env:HEADER_SECRET}`` masks the value itself, wherever it shows later."""
    fleet_dir = tmp_path / "fleet"
    header = {"headers": {"X-Auth": "Token ${env:HEADER_SECRET}"}}
    write_fleet(fleet_dir, {"a": agent("room-a", properties={"llm": header})})
    fleet = load.load_fleet(fleet_dir).fleet
    assert fleet is not None
    environ = {**ENV, "HEADER_SECRET": "hdr-5e3c7a9b1d"}
    reconcile.fingerprint_secrets(fleet, environ=environ, key=b"k" * 32)
    assert logs.redact("the server echoed hdr-5e3c7a9b1d") == f"the server echoed {logs.MASK}"
