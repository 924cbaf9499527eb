"""The /_emulator control routes: seed, dump, reset, clock, config, user presence, fail."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint
from reconciler.emulator import DEMO_APP_ID


async def test_seeded_agents_are_served_and_dumped_in_full(api):
    """Seeded agents get ids, answer query, and the dump shows every field tests assert on."""
    seeded = await api.control(
        "POST",
        "agents",
        json={
            "agents": [
                {
                    "name": "old",
                    "channel": "lobby",
                    "agent_rtc_uid": "1001",
                    "remote_rtc_uids": ["2001"],
                    "status": "STOPPED",
                    "start_ts": 1_700_000_000,
                    "stop_ts": 1_700_000_100,
                    "message": "Idle for too long",
                    "properties": {"idle_timeout": 0},
                }
            ]
        },
    )
    (agent_id,) = seeded["agent_ids"]
    record = (await api.agents())[agent_id]
    assert record == {
        "agent_id": agent_id,
        "region": "global",
        "app_id": DEMO_APP_ID,
        "name": "old",
        "channel": "lobby",
        "agent_rtc_uid": "1001",
        "remote_rtc_uids": ["2001"],
        "status": "STOPPED",
        "properties": {
            "idle_timeout": 0,
            "channel": "lobby",
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["2001"],
        },
        "start_ts": 1_700_000_000,
        "stop_ts": 1_700_000_100,
        "message": "Idle for too long",
    }


async def test_seeding_may_exceed_the_quota(api):
    """Seeds bypass the quota, so tests can start from an over-quota project."""
    await api.configure(quota=1)
    agents = [{"name": f"a{n}", "channel": f"c{n}"} for n in range(3)]
    assert len((await api.control("POST", "agents", json={"agents": agents}))["agent_ids"]) == 3
    assert (await api.join("one-more", channel="c9")).status_code == 422


async def test_reset_forgets_agents_faults_counters_and_config(api):
    """After reset the emulator is empty and back on its start config; the clock keeps its time."""
    await api.configure(quota=0)
    await api.control("POST", "faults", json={"endpoint": "query", "status": 500})
    await api.call(Endpoint.LIST)
    now = await api.advance(100)
    assert await api.control("POST", "reset") == {}
    assert await api.agents() == {}
    assert await api.control("GET", "counters") == {}
    assert await api.control("GET", "faults") == {"faults": []}
    assert await api.now() == now
    assert (await api.join("a")).status_code == 200


async def test_clock_can_be_set_and_advanced(api):
    """{"set": ts} jumps to ts and {"advance": s} moves from there; a frozen clock stays put."""
    assert (await api.control("POST", "clock", json={"set": 1_800_000_000}))["now"] == 1_800_000_000
    assert await api.advance(2.5) == 1_800_000_002.5
    assert await api.now() == 1_800_000_002.5


async def test_config_returns_the_knobs_in_force(api):
    """POST /config changes the given knobs and reports all of them."""
    knobs = await api.control("POST", "config", json={"quota": 3, "rate_limit_per_second": 50})
    assert knobs["quota"] == 3
    assert knobs["rate_limit_per_second"] == 50
    assert knobs["strict_names"] is False
    assert "customer_secret" not in knobs


async def test_users_join_and_leave_channels(api):
    """User presence is reported per channel."""
    assert await api.control("POST", "channels/lobby/users/2001/join") == {
        "channel": "lobby",
        "users": ["2001"],
    }
    await api.control("POST", "channels/lobby/users/2002/join")
    left = await api.control("POST", "channels/lobby/users/2001/leave")
    assert left["users"] == ["2002"]


async def test_fail_of_an_unknown_or_stopped_agent_is_404(api):
    """Only a live agent can be failed."""
    response = await api.client.post("/_emulator/agents/NOSUCH/fail", json={"message": "x"})
    assert response.status_code == 404


async def test_joins_are_recorded_as_received_until_reset(api, body):
    """``GET /_emulator/joins`` holds each accepted join body byte for byte; a refused one is
    not there, and reset forgets them."""
    payload = body("a", labels={"team": "x"}, future_field=[1, {"b": None}])
    payload["preset"] = None
    response = await api.call(Endpoint.JOIN, json=payload)
    assert response.status_code == 200
    assert (await api.join("a")).status_code == 409
    (record,) = (await api.control("GET", "joins"))["joins"]
    assert record == {
        "region": "global",
        "app_id": DEMO_APP_ID,
        "agent_id": response.json()["agent_id"],
        "body": payload,
    }
    await api.control("POST", "reset")
    assert (await api.control("GET", "joins"))["joins"] == []
