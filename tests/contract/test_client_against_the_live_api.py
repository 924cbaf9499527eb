"""The read-only part of the contract, against Agora's real API (``-m live``, needs credentials).

Only calls that start nothing, and so cost nothing, run here: listing, a query for an id that
cannot exist, and a call with wrong credentials. Joining real agents needs LLM and TTS keys and
is billed, so the full round stays with the emulator. Set AGORA_APP_ID, AGORA_CUSTOMER_ID and
AGORA_CUSTOMER_SECRET (and optionally AGORA_REGION) and run ``pytest -m live tests/contract``.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator

import pytest

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, BasicAuth, base_url_for

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not all(
            os.environ.get(v)
            for v in ("AGORA_APP_ID", "AGORA_CUSTOMER_ID", "AGORA_CUSTOMER_SECRET")
        ),
        reason="needs AGORA_APP_ID, AGORA_CUSTOMER_ID and AGORA_CUSTOMER_SECRET",
    ),
]


def live_client(*, secret: str | None = None) -> AgoraClient:
    return AgoraClient(
        app_id=os.environ["AGORA_APP_ID"],
        auth=BasicAuth(
            os.environ["AGORA_CUSTOMER_ID"], secret or os.environ["AGORA_CUSTOMER_SECRET"]
        ),
        base_url=base_url_for(region=os.environ.get("AGORA_REGION")),
    )


@pytest.fixture
async def live() -> AsyncIterator[AgoraClient]:
    async with live_client() as api:
        yield api


async def test_listing_every_live_state_over_72_hours_succeeds(live: AgoraClient) -> None:
    """The explicit multi-value state filter and a 72-hour window are accepted (§17 #5, #7)."""
    items = await live.list_all(
        states=list(wire.NON_TERMINAL_CODES), from_time=time.time() - 73 * 3600, page_size=20
    )
    assert all(item.agent_id for item in items)


async def test_an_unknown_agent_is_not_found(live: AgoraClient) -> None:
    """A made-up id answers 404."""
    with pytest.raises(errors.NotFoundError):
        await live.query("RECONCILERCONTRACTTEST0000000000")


async def test_wrong_credentials_are_an_auth_error() -> None:
    """A wrong secret answers 401 (or 403), raised once as AuthError."""
    async with live_client(secret="definitely-not-the-secret") as api:
        with pytest.raises(errors.AuthError):
            await api.list_all(states=[wire.StatusCode.RUNNING], from_time=time.time() - 3600)
