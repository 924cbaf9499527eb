"""Observation against the emulator: every page, queries only where needed, ownership sorted."""

from __future__ import annotations

import runpy
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from reconciler import observe
from reconciler.agora.client import AgoraClient, BasicAuth
from reconciler.emulator import (
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    create_app,
)
from reconciler.errors import AuthError
from reconciler.reconcile.connect import ReadOnlyAgents
from reconciler.state import StateSnapshot

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)
URL = "http://emulator.test"


class World:
    """The emulator in-process, a read-only client on it, and its control routes."""

    def __init__(self, http: httpx.AsyncClient, reader: ReadOnlyAgents) -> None:
        self.http = http
        self.reader = reader

    async def seed(self, agents: list[dict[str, Any]]) -> list[str]:
        answer = await self.http.post("/_emulator/agents", json={"agents": agents})
        ids: list[str] = answer.json()["agent_ids"]
        return ids

    async def now(self) -> float:
        return float((await self.http.get("/_emulator/clock")).json()["now"])

    async def counters(self) -> dict[str, dict[str, int]]:
        counters: dict[str, dict[str, int]] = (await self.http.get("/_emulator/counters")).json()
        return counters

    async def observe(self, state: StateSnapshot) -> observe.ObservedProject:
        target = observe.Target(project="prod", reader=self.reader, prefix="rc")
        return await observe.observe_project(target, state=state, now=await self.now())


@pytest.fixture
async def world() -> AsyncIterator[World]:
    transport = httpx.ASGITransport(app=create_app(EmulatorConfig(frozen_clock=True)))
    client = AgoraClient(
        app_id=DEMO_APP_ID,
        auth=BasicAuth(DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET),
        base_url=URL,
        transport=transport,
    )
    async with httpx.AsyncClient(transport=transport, base_url=URL) as http, client:
        yield World(http, ReadOnlyAgents(client))


def _state(records: list[Any]) -> StateSnapshot:
    return StateSnapshot(lineage="l", serial=1, records={r.key: r for r in records}, intents=())


def _record(key: str, agent_id: str) -> Any:
    name = f"rc-{key.replace('/', '--')}-g1"
    return casekit.record(key, like=None, fingerprints={}, agent_id=agent_id, remote_name=name)


async def test_state_in_sync_costs_only_list_pages(world: World) -> None:
    """250 owned live agents: three list pages of 100 and not a single query."""
    now = await world.now()
    seeds = [
        {"name": f"rc-prod--a{i}-g1", "channel": f"c{i}", "start_ts": int(now) - 48 * 3600}
        for i in range(250)
    ]
    ids = await world.seed(seeds)
    records = [_record(f"prod/a{i}", agent_id) for i, agent_id in enumerate(ids)]
    seen = await world.observe(_state(records))
    assert await world.counters() == {"list": {"200": 3}}
    assert set(seen.live) == set(ids)
    assert {agent.ownership for agent in seen.live.values()} == {observe.Ownership.OWNED}
    assert seen.live[ids[0]].name == "rc-prod--a0-g1"
    assert seen.ended == {}


async def test_missing_owned_agents_are_queried_for_how_they_ended(world: World) -> None:
    """An owned agent off the list is queried: STOPPED or FAILED with its message, or gone."""
    stopped, failed = await world.seed(
        [
            {"name": "rc-prod--a-g1", "channel": "a", "status": "STOPPED", "message": "Idle"},
            {"name": "rc-prod--b-g1", "channel": "b", "status": "FAILED", "message": "RTC"},
        ]
    )
    records = [_record("prod/a", stopped), _record("prod/b", failed), _record("prod/c", "NOPE")]
    seen = await world.observe(_state(records))
    assert seen.live == {}
    assert {(e.agent_id, e.status, e.message) for e in seen.ended.values()} == {
        (stopped, "STOPPED", "Idle"),
        (failed, "FAILED", "RTC"),
        ("NOPE", observe.GONE, None),
    }
    counters = await world.counters()
    assert counters["query"] == {"200": 2, "404": 1}


async def test_unknown_agents_are_queried_once_and_classified(world: World) -> None:
    """Unknown ids are queried for their name: our prefix makes them ours, else unmanaged."""
    ours, other = await world.seed(
        [
            {"name": "rc-prod--lost-g3", "channel": "x"},
            {"name": "support_agent_001", "channel": "y"},
        ]
    )
    seen = await world.observe(_state([]))
    assert seen.live[ours].ownership is observe.Ownership.OURS_WITHOUT_RECORD
    assert seen.live[other].ownership is observe.Ownership.UNMANAGED
    assert seen.live[other].name == "support_agent_001"
    assert (await world.counters())["query"] == {"200": 2}


async def test_a_failing_project_fails_the_pass_with_its_own_error() -> None:
    """An API error surfaces as itself, not wrapped in an exception group."""
    transport = httpx.ASGITransport(app=create_app(EmulatorConfig(frozen_clock=True)))
    client = AgoraClient(
        app_id=DEMO_APP_ID, auth=BasicAuth("wrong", "wrong"), base_url=URL, transport=transport
    )
    async with client:
        target = observe.Target(project="prod", reader=ReadOnlyAgents(client), prefix="rc")
        with pytest.raises(AuthError):
            await observe.observe_fleet([target], state=_state([]), now=0.0)


def test_the_read_only_view_cannot_change_agents() -> None:
    """The planning path's view of a client has list and query, and no join, update or leave."""
    for name in ("join", "update", "leave", "speak", "interrupt", "think"):
        assert not hasattr(ReadOnlyAgents, name)
    assert {"list_all", "query"} <= set(dir(ReadOnlyAgents))
