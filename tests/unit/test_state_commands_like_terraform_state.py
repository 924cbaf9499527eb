"""``reconciler state list|show|rm|recover`` and ``reconciler import``, against the emulator.

``list`` and ``show`` read; ``rm`` forgets without leaving; ``recover`` adopts only what carries
this fleet's names and digests and leaves the rest for ``apply``; ``import`` makes an agent
started by hand a manifest entry's, and refuses every claim it can tell is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_harness import SECRETS, World, agent, profile, write_fleet
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.errors import StateError
from reconciler.plan import Action
from reconciler.reconcile import state_commands

TWO = {"a": agent("room-a"), "b": agent("room-b")}


def _where(world: World) -> state_commands.Where:
    return state_commands.Where(
        fleet=world.fleet,
        state=world.state_path,
        api_url=world.base_url,
        environ=world.environ,
        transport=world.transport,
        clock=world.clock,
    )


async def _applied(tmp_path: Path, fleet: dict[str, Any] = TWO) -> World:
    world = World(tmp_path)
    write_fleet(world.fleet, fleet)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    return world


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


async def test_list_and_show_read_the_state(tmp_path: Path) -> None:
    """``list`` prints the keys; ``show`` one record, as text or JSON; an unknown key is named."""
    world = await _applied(tmp_path)
    state = str(world.state_path)
    assert _cli("state", "list", "--state", state).stdout == "demo/a\ndemo/b\n"
    listed = json.loads(_cli("state", "list", "--state", state, "-o", "json").stdout)
    assert [r["key"] for r in listed["records"]] == ["demo/a", "demo/b"]
    record = world.records()["demo/a"]
    shown = _cli("state", "show", "demo/a", "--state", state).stdout
    assert shown.startswith("# demo/a\n")
    assert f'remote_name        = "{record.remote_name}"' in shown
    assert not [value for value in SECRETS.values() if value in shown]  # fingerprints only
    as_json = json.loads(_cli("state", "show", "demo/a", "--state", state, "-o", "json").stdout)
    assert as_json["agent_id"] == record.agent_id
    missing = _cli("state", "show", "demo/zz", "--state", state)
    assert isinstance(missing.exception, StateError)
    assert "it holds demo/a, demo/b" in str(missing.exception)


async def test_rm_forgets_without_leaving_and_the_next_plan_adopts_by_name(
    tmp_path: Path,
) -> None:
    """The agent keeps running; while its entry stays, the next plan owns it again by name."""
    world = await _applied(tmp_path)
    agent_id = world.records()["demo/a"].agent_id
    ran = _cli("state", "rm", "demo/a", "--state", str(world.state_path))
    assert ran.exit_code == 0, ran.stdout
    assert "keeps running" in ran.stdout
    assert sorted(world.records()) == ["demo/b"]
    assert agent_id in {a["agent_id"] for a in await world.live()}
    planned = await world.plan()
    assert [(c.action, c.key, c.agent_id) for c in planned.changes] == [
        (Action.ADOPT, "demo/a", agent_id)
    ]


async def test_recover_adopts_what_matches_and_leaves_the_rest_to_apply(tmp_path: Path) -> None:
    """A changed fixed spec is not adopted; nothing leaves, nothing joins."""
    world = await _applied(tmp_path)
    world.state_path.unlink()
    tts = {"vendor": "elevenlabs", "params": {"key": "${env:AZURE_TTS_KEY}", "voice": "b"}}
    write_fleet(world.fleet, {**TWO, "b": agent("room-b", properties={"tts": tts})})
    live = {a["agent_id"] for a in await world.live()}
    done = await state_commands.recover(_where(world))
    assert done.report.ok
    assert [(r.key, r.action) for r in done.report.results] == [("demo/a", "adopt")]
    assert [c.key for c in done.left_to_replace] == ["demo/b"]
    text = state_commands.describe(done.report, left=done.left_to_replace)
    assert "+ demo/a:" in text
    assert "~ demo/b:" in text
    assert "`reconciler apply` replaces it" in text
    assert {a["agent_id"] for a in await world.live()} == live
    assert sorted(world.records()) == ["demo/a"]


async def test_import_adopts_an_agent_started_by_hand(tmp_path: Path) -> None:
    """Its prompt and token are sent at once, and the next plan is empty."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    seeded = await world.control(
        "POST",
        "/agents",
        {"agents": [{"name": "by-hand", "channel": "room-a", "agent_rtc_uid": "1001"}]},
    )
    [agent_id] = seeded["agent_ids"]
    report = await state_commands.import_agent(_where(world), "demo/a", agent_id)
    assert report.ok, state_commands.describe(report)
    record = world.records()["demo/a"]
    assert (record.agent_id, record.remote_name) == (agent_id, "by-hand")
    assert record.token_expires_at is not None
    [live] = await world.live()
    assert live["properties"]["llm"]["system_messages"] == profile()["llm"]["system_messages"]
    assert (await world.plan()).is_empty


@pytest.mark.parametrize(
    ("key", "agent_id", "refusal"),
    [
        ("demo/zz", "OWNED", "demo/zz is not in the manifests"),
        ("demo/b", "NOPE", "agent NOPE is not live in project demo"),
        ("demo/b", "OWNED", "is already the agent of demo/a"),
        ("demo/a", "STRANGER", "demo/a already owns live agent"),
    ],
)
async def test_import_refuses_a_wrong_claim(
    tmp_path: Path, key: str, agent_id: str, refusal: str
) -> None:
    """Nothing is written when the entry, the agent or their owners say no."""
    world = await _applied(tmp_path, {"a": agent("room-a"), "b": agent("room-b")})
    stranger = await world.control("POST", "/agents", {"agents": [{"name": "x", "channel": "c"}]})
    ids = {"OWNED": world.records()["demo/a"].agent_id, "STRANGER": stranger["agent_ids"][0]}
    before = world.snapshot()
    with pytest.raises(state_commands.ImportRefusedError, match=refusal):
        await state_commands.import_agent(_where(world), key, ids.get(agent_id, agent_id))
    assert world.snapshot().records == before.records
