"""Where the emulator follows Agora's docs exactly (docs/api-notes.md names the source of each)."""

from __future__ import annotations

import warnings

import httpx
import pytest

from reconciler.agora import wire
from reconciler.agora.wire import Endpoint
from reconciler.emulator import DEMO_APP_CERTIFICATE, DEMO_APP_ID

with warnings.catch_warnings():
    # The SDK's generated models use pydantic v1-style config, which warns once on import.
    warnings.simplefilter("ignore")
    from agora_agent.agentkit.token import generate_convo_ai_token


def _token_header(channel: str, uid: int) -> dict[str, str]:
    token = generate_convo_ai_token(
        app_id=DEMO_APP_ID, app_certificate=DEMO_APP_CERTIFICATE, channel_name=channel, uid=uid
    )
    return {"authorization": f"agora token={token}"}


async def test_update_without_properties_is_accepted(api):
    """Every field of update's body is optional, ``properties`` included."""
    agent_id = await api.start("a")
    response = await api.call(Endpoint.UPDATE, agent_id, json={})
    assert response.status_code == 200, response.text
    assert response.json()["agent_id"] == agent_id


async def test_a_trailing_slash_is_not_redirected(api):
    """``/join/`` is no path of Agora's: 404, never a 307 a client would silently follow."""
    response = await api.client.post(api.path(Endpoint.JOIN) + "/", json={})
    assert response.status_code == 404


def test_the_client_never_builds_a_trailing_slash():
    """Every endpoint path, below any base URL however written, ends without a slash."""
    from reconciler.agora.client import base_url_for

    assert not base_url_for(base_url="http://emulator:8080/").endswith("/")
    for endpoint in Endpoint:
        assert not wire.endpoint_path(endpoint, app_id="APP", agent_id="A1").endswith("/")


@pytest.mark.parametrize("field", ["labels", "mllm.params"])
async def test_null_where_a_map_is_documented_is_invalid(api, body, field):
    """``labels: null`` and ``mllm.params: null`` are 400 InvalidFieldValue, at join and update."""
    payload = body("a")
    if field == "labels":
        payload["properties"]["labels"] = None
    else:
        payload["properties"]["mllm"] = {"params": None}
    response = await api.call(Endpoint.JOIN, json=payload)
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"properties.{field}: Input should be a valid dictionary, not null",
        "reason": "InvalidFieldValue",
    }
    agent_id = await api.start("b")
    update = await api.call(
        Endpoint.UPDATE, agent_id, json={"properties": {"mllm": {"params": None}}}
    )
    assert update.status_code == 400


async def test_a_large_limit_is_honoured(api):
    """Agora documents no maximum for ``limit``: 150 asked, 150 listed in one page."""
    now = await api.now()
    seeds = [
        {"name": f"s{i}", "channel": f"c{i}", "status": "RUNNING", "start_ts": int(now) - 10}
        for i in range(150)
    ]
    await api.control("POST", "agents", json={"agents": seeds})
    response = await api.call(Endpoint.LIST, params={"limit": "150"})
    assert response.status_code == 200
    assert response.json()["data"]["count"] == 150
    assert response.json()["meta"]["cursor"] == ""


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"on_listening_action": "inject"}, 200),
        ({"on_listening_action": "interrupt", "on_thinking_action": "ignore"}, 200),
        ({"on_speaking_action": "interrupt"}, 200),
        ({"on_listening_action": "append"}, 400),
        ({"on_thinking_action": "inject"}, 400),
        ({"on_speaking_action": "append"}, 400),
    ],
)
async def test_think_takes_the_documented_actions_only(api, fields, status):
    """on_listening_action: inject, interrupt, ignore; the other two: interrupt, ignore."""
    agent_id = await api.start("a")
    response = await api.call(Endpoint.THINK, agent_id, json={"text": "hi", **fields})
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("channel", "uid", "status"),
    [("room", 1001, 200), ("room", 0, 200), ("other", 1001, 401), ("room", 1002, 401)],
)
async def test_a_join_token_must_be_scoped_to_its_channel_and_uid(app, body, channel, uid, status):
    """A REST token authorises a join only for its channel and agent uid (or any uid, 0)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        path = wire.API_ROOT + wire.endpoint_path(Endpoint.JOIN, app_id=DEMO_APP_ID)
        response = await http.post(
            path, json=body("a", channel="room", uid="1001"), headers=_token_header(channel, uid)
        )
        assert response.status_code == status, response.text
        if status == 200:
            leave = wire.API_ROOT + wire.endpoint_path(
                Endpoint.LEAVE, app_id=DEMO_APP_ID, agent_id=response.json()["agent_id"]
            )
            # Other calls do not look at the scope: the SDK leaves with channel "stop", uid 0.
            assert (await http.post(leave, headers=_token_header("stop", 0))).status_code == 200
