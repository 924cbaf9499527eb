"""Auth: Basic customer credentials, or an ``agora token=`` AccessToken2 checked like the server."""

from __future__ import annotations

import base64
import time
import warnings

import httpx
import pytest

from reconciler.agora import wire
from reconciler.agora.wire import Endpoint
from reconciler.emulator import (
    DEMO_APP_CERTIFICATE,
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    create_app,
)
from reconciler.emulator.auth import parse_access_token

with warnings.catch_warnings():
    # The SDK's generated models use pydantic v1-style config, which warns once on import.
    warnings.simplefilter("ignore")
    from agora_agent.agentkit.token import generate_convo_ai_token, generate_rtc_token

OTHER_APP_ID = "11112222333344445555666677778888"
OTHER_CERTIFICATE = "99998888777766665555444433332222"


def _token(app_id=DEMO_APP_ID, certificate=DEMO_APP_CERTIFICATE, channel="room", uid=1001):
    return generate_convo_ai_token(
        app_id=app_id, app_certificate=certificate, channel_name=channel, uid=uid
    )


async def _list_with(client, authorization, app_id=DEMO_APP_ID):
    path = wire.API_ROOT + wire.endpoint_path(Endpoint.LIST, app_id=app_id)
    headers = {} if authorization is None else {"authorization": authorization}
    return await client.get(path, headers=headers)


def _basic(customer_id=DEMO_CUSTOMER_ID, secret=DEMO_CUSTOMER_SECRET, scheme="Basic"):
    return f"{scheme} " + base64.b64encode(f"{customer_id}:{secret}".encode()).decode()


@pytest.fixture
async def anonymous(app):
    """A client of the same emulator that sends no credentials unless told to."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        yield http


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
async def test_basic_auth_is_accepted_with_any_scheme_case(anonymous, scheme):
    """The demo customer id and secret work whatever the case of the scheme."""
    assert (await _list_with(anonymous, _basic(scheme=scheme))).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        _basic(secret="wrong"),
        _basic(customer_id="someone-else"),
        "Basic not-base64!",
        "Bearer something",
        "agora token=garbage",
    ],
)
async def test_bad_credentials_are_401_with_the_error_body(anonymous, authorization):
    """Missing, wrong or malformed credentials get 401 {detail, reason: InvalidPermission}."""
    response = await _list_with(anonymous, authorization)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "reason"}
    assert body["reason"] == "InvalidPermission"
    assert body["detail"].startswith("authentication failed")
    assert "wrong" not in body["detail"]


async def test_another_app_id_is_403_service_not_enabled(anonymous):
    """Valid credentials on an App ID the emulator does not serve give 403 ServiceNotEnabled."""
    response = await _list_with(anonymous, _basic(), app_id=OTHER_APP_ID)
    assert response.status_code == 403
    assert response.json()["reason"] == "ServiceNotEnabled"


async def test_more_app_ids_of_the_account_are_served_with_its_credentials(anonymous):
    """``more_app_ids`` enables further App IDs under the same customer credentials and
    certificate; any other App ID is still 403."""
    third = "99990000999900009999000099990000"
    changed = await anonymous.post("/_emulator/config", json={"more_app_ids": [OTHER_APP_ID]})
    assert changed.json()["more_app_ids"] == [OTHER_APP_ID]
    token = _token(app_id=OTHER_APP_ID)
    for authorization in (_basic(), f"agora token={token}"):
        response = await _list_with(anonymous, authorization, app_id=OTHER_APP_ID)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["list"] == []
    refused = await _list_with(anonymous, _basic(), app_id=third)
    assert refused.status_code == 403


async def test_sdk_token_is_accepted_whatever_its_channel(anonymous):
    """A token minted by the official SDK works, even for the channel 'stop' and uid 0."""
    for channel, uid in (("room", 1001), ("stop", 0)):
        response = await _list_with(anonymous, f"agora token={_token(channel=channel, uid=uid)}")
        assert response.status_code == 200, response.text


async def test_rtc_only_token_is_accepted(anonymous):
    """A token without the RTM service (the SDK's plain RTC token) also authenticates."""
    token = generate_rtc_token(DEMO_APP_ID, DEMO_APP_CERTIFICATE, channel="room", uid=1001)
    assert [service.type for service in parse_access_token(token).services] == [1]
    assert (await _list_with(anonymous, f"agora token={token}")).status_code == 200


async def test_expired_token_is_401(api, anonymous):
    """A token is refused once the emulator clock passes issue_ts + expire."""
    token = _token()
    await api.control("POST", "clock", json={"set": time.time() + 86400 + 60})
    response = await _list_with(anonymous, f"agora token={token}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_token_signed_with_another_certificate_is_401(anonymous):
    """A token whose HMAC does not match the configured certificate is refused."""
    response = await _list_with(anonymous, f"agora token={_token(certificate=OTHER_CERTIFICATE)}")
    assert response.status_code == 401
    assert "signature" in response.json()["detail"]


async def test_token_for_another_app_id_is_401(anonymous):
    """A valid token of another project does not open this one."""
    token = _token(app_id=OTHER_APP_ID, certificate=OTHER_CERTIFICATE)
    response = await _list_with(anonymous, f"agora token={token}")
    assert response.status_code == 401
    assert "another app id" in response.json()["detail"]


VECTOR = (
    "007eJxTYDC/bJRptlGmomWSFO9cD8+ZInqOk+3OLlig45Rx5HP1KSsFBktzA2dHY9OUVDODZBMTMxPTpKTEVItEI0NTAzPDJG"
    "Njho/BqQJ8DAx+iXsYmBgYGViAGMRnApPMYJIFTPIwlKQWl+gmZyTm5aXmsDAYGhgYgnQwQtWA+ACIviBM"
)
VECTOR_APP_ID = "970CA35de60c44645bbae8a215061b33"
VECTOR_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"


def test_reference_vector_decodes_to_its_fields():
    """The §12.5 test vector parses to the documented fields and verifies with its certificate."""
    token = parse_access_token(VECTOR)
    assert (token.app_id, token.issue_ts, token.expire, token.salt) == (
        VECTOR_APP_ID,
        1700000000,
        3600,
        12345678,
    )
    rtc, rtm = token.services
    assert (rtc.type, rtc.channel, rtc.account) == (1, "test-channel", "1001")
    assert rtc.privileges == ((1, 3600), (2, 3600), (3, 3600), (4, 3600))
    assert (rtm.type, rtm.account, rtm.privileges) == (2, "1001", ((1, 3600),))
    assert token.signed_with(VECTOR_CERTIFICATE)
    assert not token.signed_with(DEMO_APP_CERTIFICATE)


@pytest.mark.parametrize(("at", "status"), [(1700000000 + 3599, 200), (1700000000 + 3600, 401)])
async def test_reference_vector_is_valid_until_it_expires(at, status):
    """Served with the vector's app id and certificate, the token works until issue_ts + expire."""
    config = EmulatorConfig(
        app_id=VECTOR_APP_ID,
        app_certificate=VECTOR_CERTIFICATE,
        frozen_clock=True,
        clock_start=at,
    )
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        response = await _list_with(http, f"agora token={VECTOR}", app_id=VECTOR_APP_ID)
    assert response.status_code == status
