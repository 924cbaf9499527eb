"""Each agent joins with the right RTC token, and a token near its expiry is renewed in place."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from apply_harness import World, agent, write_fleet

from reconciler.emulator import DEMO_APP_CERTIFICATE, DEMO_APP_ID
from reconciler.emulator.auth import parse_access_token
from reconciler.state import open_state


async def test_a_certificate_mints_a_token_per_channel_and_uid(tmp_path: Path) -> None:
    """The token is signed for the agent's channel and uid, and its expiry is in the state."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a", uid="1001")}, token_lifetime=3600)
    assert (await world.apply()).code == 0
    [live] = await world.live()
    token = parse_access_token(live["properties"]["token"])
    assert token.app_id == DEMO_APP_ID
    assert token.signed_with(DEMO_APP_CERTIFICATE)
    assert token.expire == 3600
    rtc = token.services[0]
    assert (rtc.channel, rtc.account) == ("room-a", "1001")
    assert world.records()["demo/a"].token_expires_at == token.expires_at


async def test_without_a_certificate_the_manifest_token_or_none_is_sent(tmp_path: Path) -> None:
    """No certificate: an agent with a token reference sends its value, the others send ""."""
    world = World(tmp_path)
    world.environ["ROOM_A_TOKEN"] = "fixed-room-a-token-value"
    fleet = {
        "a": agent("room-a", properties={"token": "${env:ROOM_A_TOKEN}"}),
        "b": agent("room-b"),
    }
    write_fleet(world.fleet, fleet, certificate=False)
    assert (await world.apply()).code == 0
    tokens = {a["channel"]: a["properties"]["token"] for a in await world.live()}
    assert tokens == {"room-a": "fixed-room-a-token-value", "room-b": ""}
    assert all(r.token_expires_at is None for r in world.records().values())
    await world.assert_converged()


async def test_a_token_near_its_expiry_is_renewed_with_update(tmp_path: Path) -> None:
    """With less than a quarter of its life left, the token is replaced and the agent stays."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")}, token_lifetime=3600)
    assert (await world.apply()).code == 0
    before = {a["agent_id"]: a["properties"]["token"] for a in await world.live()}
    with open_state(world.state_path) as store:
        record = store.snapshot().records["demo/a"]
        store.put_record(dataclasses.replace(record, token_expires_at=world.clock.now() + 600))
    planned = await world.plan()
    assert [(c.action.value, c.key) for c in planned.changes] == [("renew-token", "demo/a")]
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "1 token renewed" in ran.stdout
    after = {a["agent_id"]: a["properties"]["token"] for a in await world.live()}
    assert after.keys() == before.keys()
    renewed = world.records()["demo/a"]
    assert after[renewed.agent_id] != before[renewed.agent_id]
    assert renewed.token_expires_at == parse_access_token(after[renewed.agent_id]).expires_at
    assert (await world.control("GET", "/counters"))["update"] == {"200": 1}
    await world.assert_converged()
