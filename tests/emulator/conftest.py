"""Fixtures that talk raw HTTP to an in-process emulator, on a frozen clock unless a test says not.

The helper speaks the wire directly (paths from the wire contract, JSON bodies by hand) so these
tests pin the emulator itself, independent of the reconciler's client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.agora import wire
from reconciler.agora.wire import Endpoint
from reconciler.emulator import (
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    create_app,
)

T0 = 1_750_000_000.0


def join_body(
    name: str,
    *,
    channel: str = "room",
    uid: str = "1001",
    remote: tuple[str, ...] = ("2001",),
    **properties: Any,
) -> dict[str, Any]:
    """A minimal valid join body; extra keyword arguments land in ``properties``."""
    return {
        "name": name,
        "properties": {
            "channel": channel,
            "token": "007-demo-rtc-token",
            "agent_rtc_uid": uid,
            "remote_rtc_uids": list(remote),
            **properties,
        },
    }


class EmulatorApi:
    """Raw HTTP against one emulator: API paths of the configured app, control routes, clock."""

    def __init__(self, client: httpx.AsyncClient, *, root: str = wire.API_ROOT) -> None:
        self.client = client
        self.root = root

    def path(self, endpoint: Endpoint, agent_id: str | None = None, *, app_id: str = "") -> str:
        return self.root + wire.endpoint_path(
            endpoint, app_id=app_id or DEMO_APP_ID, agent_id=agent_id
        )

    async def call(
        self, endpoint: Endpoint, agent_id: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        method, _ = wire.ROUTES[endpoint]
        return await self.client.request(method, self.path(endpoint, agent_id), **kwargs)

    async def join(self, name: str, **kwargs: Any) -> httpx.Response:
        return await self.call(Endpoint.JOIN, json=join_body(name, **kwargs))

    async def start(self, name: str, **kwargs: Any) -> str:
        """Join and return the new agent id, failing the test on anything but 200."""
        response = await self.join(name, **kwargs)
        assert response.status_code == 200, response.text
        agent_id: str = response.json()["agent_id"]
        return agent_id

    async def status(self, agent_id: str) -> str:
        response = await self.call(Endpoint.QUERY, agent_id)
        assert response.status_code == 200, response.text
        status: str = response.json()["status"]
        return status

    async def control(self, method: str, route: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, f"/_emulator/{route}", **kwargs)
        assert response.is_success, response.text
        return response.json()

    async def advance(self, seconds: float) -> float:
        now: float = (await self.control("POST", "clock", json={"advance": seconds}))["now"]
        return now

    async def now(self) -> float:
        now: float = (await self.control("GET", "clock"))["now"]
        return now

    async def configure(self, **knobs: Any) -> None:
        await self.control("POST", "config", json=knobs)

    async def agents(self) -> dict[str, dict[str, Any]]:
        """The emulator's full dump, keyed by agent id."""
        dump = await self.control("GET", "agents")
        return {record["agent_id"]: record for record in dump["agents"]}


@pytest.fixture
def body() -> Callable[..., dict[str, Any]]:
    """The join body builder, for tests that send a deliberately wrong one."""
    return join_body


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(frozen_clock=True, clock_start=T0)


@pytest.fixture
def app(config: EmulatorConfig) -> FastAPI:
    return create_app(config)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the in-process emulator, sending the demo Basic credentials."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://emulator",
        auth=httpx.BasicAuth(DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET),
    ) as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> EmulatorApi:
    return EmulatorApi(client)


@pytest.fixture
def cn_api(client: httpx.AsyncClient) -> EmulatorApi:
    """The same emulator through the separate CN service's paths."""
    return EmulatorApi(client, root=wire.CN_API_ROOT)
