"""What the operator-command tests share: a converged ``World``, its workspace, and a wire recorder.

Built on the apply tests' ``World`` (manifests, state file, in-process emulator, fake time), so a
test applies a fleet exactly as ``reconciler apply`` would and then operates on what it made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from apply_e2e_harness import harness

from reconciler import operate
from reconciler.agora.client import AgoraClient, BasicAuth
from reconciler.emulator import DEMO_APP_ID, DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET


class Recorder(httpx.AsyncBaseTransport):
    """Passes every request on and keeps (method, path, JSON body) of each, in order."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        return await self.inner.handle_async_request(request)

    def calls(self, suffix: str) -> list[Any]:
        """The bodies of the requests whose path ends with ``suffix``."""
        return [body for _, path, body in self.sent if path.endswith(suffix)]


async def converged(world: Any, agents: Mapping[str, Mapping[str, Any]]) -> None:
    """Write ``agents`` as the fleet of project ``demo`` and apply it; it must succeed."""
    harness.write_fleet(world.fleet, agents)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr


def workspace(
    world: Any, *, transport: httpx.AsyncBaseTransport | None = None
) -> operate.Workspace:
    """The workspace of ``world``: its fleet, state, emulator and secrets."""
    return operate.Workspace(
        fleet=world.fleet,
        state=world.state_path,
        api_url=world.base_url,
        environ=world.environ,
        transport=transport or world.transport,
    )


def client(world: Any) -> AgoraClient:
    """A client of the demo project on ``world``'s emulator, for looking behind the commands."""
    return AgoraClient(
        app_id=DEMO_APP_ID,
        auth=BasicAuth(customer_id=DEMO_CUSTOMER_ID, customer_secret=DEMO_CUSTOMER_SECRET),
        base_url=world.base_url,
        transport=world.transport,
    )


def agent_id(world: Any, key: str) -> str:
    """The agent id the state records for ``key``."""
    found = world.records()[key].agent_id
    assert found is not None
    return str(found)
