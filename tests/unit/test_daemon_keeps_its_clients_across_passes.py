"""The daemon keeps one Agora client per project across passes, and lets each go when it must.

A client is rebuilt when what it is made of changes (a rotated secret in a ``${file:}``), closed
when its project leaves the fleet or the daemon stops, and forgets per pass what a fresh client
would not know (the API's clock).
"""

from __future__ import annotations

import email.utils
import time
from pathlib import Path
from typing import Any

import httpx
from apply_harness import ENV, World, agent, write_fleet
from daemon_harness import ManualClock, one_pass, real_daemon, running, until
from structlog.testing import capture_logs

from reconciler.agora import wire
from reconciler.emulator import DEMO_CUSTOMER_SECRET, EmulatorConfig, create_app
from reconciler.manifest.desired import ProjectSpec
from reconciler.manifest.load import load_fleet
from reconciler.reconcile.clients import KeptClients
from reconciler.state import MemoryStateStore

SECRET_FILE = "customer-secret.txt"


def _events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in e.items() if k not in ("event", "log_level")}
        for e in logs
        if e["event"] == name
    ]


def _projects(fleet: Path) -> dict[str, ProjectSpec]:
    loaded = load_fleet(fleet)
    assert loaded.fleet is not None, loaded.diagnostics
    return dict(loaded.fleet.projects)


def _secret_in_a_file(fleet: Path, secret: str) -> None:
    """The project's customer secret read from a file beside the manifest (one that rotates)."""
    manifest = fleet / "fleet.yaml"
    text = manifest.read_text().replace(
        "${env:AGORA_CUSTOMER_SECRET}", "${file:" + SECRET_FILE + "}"
    )
    manifest.write_text(text)
    (fleet / SECRET_FILE).write_text(secret)


async def test_one_client_serves_every_pass_and_is_closed_when_the_daemon_stops(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("ch-a")})
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=ManualClock(time.time()))
    with capture_logs() as logs:
        async with running(the_daemon):
            await until(the_daemon.ready)
            await one_pass(the_daemon)
            await one_pass(the_daemon)
            assert len(_events(logs, "pass_finished")) >= 3
            assert _events(logs, "api_client_opened") == [
                {"project": "demo", "base_url": world.base_url + "/api/conversational-ai-agent"}
            ]
            assert _events(logs, "api_client_closed") == []
    assert _events(logs, "api_client_closed") == [{"project": "demo", "reason": "stopping"}]
    lists = the_daemon.metrics.registry.get_sample_value(
        "reconciler_api_requests_total", {"endpoint": "list", "code": "200"}
    )
    assert lists is not None
    assert lists >= 3  # every pass observed through the one client


async def test_a_rotated_secret_builds_a_new_client_and_a_project_gone_closes_its_own(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("ch-a")})
    _secret_in_a_file(world.fleet, DEMO_CUSTOMER_SECRET)
    rotated = "rotated-customer-secret-0123456789"
    with capture_logs() as logs:
        async with KeptClients(
            environ=world.environ, api_url=world.base_url, transport=world.transport
        ) as clients:
            first = (await clients.for_pass(_projects(world.fleet)))["demo"]
            again = (await clients.for_pass(_projects(world.fleet)))["demo"]
            assert again is first
            (world.fleet / SECRET_FILE).write_text(rotated)
            third = (await clients.for_pass(_projects(world.fleet)))["demo"]
            assert third is not first
            assert _events(logs, "api_client_closed") == [
                {"project": "demo", "reason": "changed", "changed": ["credentials"]}
            ]
            assert await clients.for_pass({}) == {}
            assert repr(clients) == "KeptClients(projects=[])"
    assert _events(logs, "api_client_closed")[1:] == [
        {"project": "demo", "reason": "left the fleet"}
    ]
    assert len(_events(logs, "api_client_opened")) == 2
    for secret in (DEMO_CUSTOMER_SECRET, rotated):
        assert secret not in repr(logs)


class _SkewedDate(httpx.AsyncBaseTransport):
    """The emulator behind a front that stamps each answer's ``Date`` ``skew`` seconds off ours."""

    def __init__(self) -> None:
        self._app = httpx.ASGITransport(app=create_app(EmulatorConfig(stopping_seconds=0)))
        self.skew = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._app.handle_async_request(request)
        response.headers["Date"] = email.utils.formatdate(time.time() + self.skew, usegmt=True)
        return response


async def test_a_kept_client_checks_the_api_clock_afresh_on_every_pass(tmp_path: Path) -> None:
    """A skew seen in one pass and put right before the next is not carried into it."""
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    transport = _SkewedDate()
    projects = _projects(tmp_path / "fleet")
    states = [wire.StatusCode.RUNNING]
    async with KeptClients(environ=ENV, api_url="http://emulator", transport=transport) as clients:
        transport.skew = 7200.0
        client = (await clients.for_pass(projects))["demo"]
        await client.list_all(states=states, from_time=time.time() - 60)
        assert abs(client.api_clock_offset - 7200) <= 1  # the Date header has whole seconds
        transport.skew = 0.0
        assert (await clients.for_pass(projects))["demo"] is client
        await client.list_all(states=states, from_time=time.time() - 60)
        assert client.api_clock_offset == 0
