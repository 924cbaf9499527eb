"""``agora token=`` auth with tokens minted by tokens.py is accepted by the emulated API."""

from __future__ import annotations

import pytest
from client_contract_harness import ClientFactory, EmulatorControl, join_request

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import TokenAuth
from reconciler.agora.tokens import mint_rtc_token
from reconciler.emulator import DEMO_APP_CERTIFICATE, DEMO_APP_ID


async def test_tokens_minted_per_request_work_for_every_kind_of_call(
    make_client: ClientFactory, emulator: EmulatorControl
) -> None:
    """join (scoped to its channel and uid), query, list and leave all authenticate."""
    api = make_client(auth=TokenAuth.minted(DEMO_APP_CERTIFICATE))
    agent_id = (await api.join(join_request("lobby-g1"))).agent_id
    assert (await api.query(agent_id)).name == "lobby-g1"
    assert len(await api.list_all(states=[wire.StatusCode.RUNNING], from_time=0)) == 1
    await api.leave(agent_id)
    assert await emulator.counters() == {
        "join": {"200": 1},
        "leave": {"200": 1},
        "list": {"200": 1},
        "query": {"200": 1},
    }


async def test_a_static_minted_token_is_accepted(make_client: ClientFactory) -> None:
    """A token minted once (for any channel, uid 0) serves as a fixed credential."""
    token = mint_rtc_token(
        app_id=DEMO_APP_ID, app_certificate=DEMO_APP_CERTIFICATE, channel="ops", uid="0"
    )
    api = make_client(auth=TokenAuth.static(token.value))
    assert await api.list_all(states=[wire.StatusCode.RUNNING], from_time=0) == []


async def test_a_token_signed_with_another_certificate_is_refused_once(
    make_client: ClientFactory, emulator: EmulatorControl
) -> None:
    """A wrong certificate gives one 401 and an AuthError, never a retry."""
    api = make_client(auth=TokenAuth.minted("0" * 32))
    with pytest.raises(errors.AuthError):
        await api.query("A1")
    assert await emulator.counters() == {"query": {"401": 1}}


async def test_an_expired_token_is_refused(
    make_client: ClientFactory, emulator: EmulatorControl
) -> None:
    """A token past its lifetime on the server's clock no longer authenticates."""
    token = mint_rtc_token(
        app_id=DEMO_APP_ID,
        app_certificate=DEMO_APP_CERTIFICATE,
        channel="ops",
        uid="0",
        lifetime_s=60,
    )
    api = make_client(auth=TokenAuth.static(token.value))
    await emulator.advance_clock(120)
    with pytest.raises(errors.AuthError, match="expired"):
        await api.query("A1")
