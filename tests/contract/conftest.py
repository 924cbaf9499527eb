"""Fixtures for the client contract suite: the real client against the emulator, in-process.

Requests go through ``httpx.ASGITransport`` to ``create_app``: no sockets, no mocks. The
emulator's clock is frozen so that only ``/_emulator/clock`` moves time, and the client's retry
pauses are recorded rather than slept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from client_contract_harness import EMULATOR_URL, ClientFactory, EmulatorControl, Sleeps

from reconciler.agora.client import AgoraClient, Auth, BasicAuth, RetryPolicy
from reconciler.emulator import (
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    create_app,
)


@pytest.fixture
def transport() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(EmulatorConfig(frozen_clock=True)))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def emulator(transport: httpx.ASGITransport) -> AsyncIterator[EmulatorControl]:
    async with httpx.AsyncClient(transport=transport, base_url=EMULATOR_URL) as http:
        yield EmulatorControl(http)


@pytest.fixture
async def make_client(
    transport: httpx.ASGITransport, sleeps: Sleeps
) -> AsyncIterator[ClientFactory]:
    """Builds clients on the emulator, closed after the test; Basic demo credentials by default."""
    made: list[AgoraClient] = []

    def build(
        *, auth: Auth | None = None, base_url: str = EMULATOR_URL, attempts: int = 4
    ) -> AgoraClient:
        api = AgoraClient(
            app_id=DEMO_APP_ID,
            auth=auth or BasicAuth(DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET),
            base_url=base_url,
            retry=RetryPolicy(attempts=attempts, sleep=sleeps),
            transport=transport,
        )
        made.append(api)
        return api

    yield build
    for api in made:
        await api.aclose()


@pytest.fixture
def api(make_client: ClientFactory) -> AgoraClient:
    return make_client()
