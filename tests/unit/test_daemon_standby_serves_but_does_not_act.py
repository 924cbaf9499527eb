"""A replica standing by answers its endpoints and webhooks, and nothing it is told acts.

``Endpoints`` is what a ``reconciler run`` process keeps for life; these tests drive it with no
leader attached (a standby) and with one (the term in force), through its real HTTP app.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable

import httpx
import pytest

from reconciler.daemon import webhooks
from reconciler.daemon.endpoints import Endpoints
from reconciler.daemon.metrics import Metrics
from reconciler.manifest.desired import DesiredFleet

SECRET = "push-secret-for-standby-tests"
REF = "refs/heads/main"


class _Leader:
    """A term in force that only counts what it is asked."""

    def __init__(self) -> None:
        self.wakes = 0
        self.fetches = 0

    @property
    def fleet(self) -> DesiredFleet | None:
        return None

    @property
    def passing(self) -> bool:
        return False

    def between_passes(self) -> Awaitable[object]:
        raise AssertionError("not asked for in these tests")

    def wake(self) -> None:
        self.wakes += 1

    def fetch_soon(self) -> None:
        self.fetches += 1

    def ready(self) -> bool:
        return True


def _endpoints() -> Endpoints:
    hooks = webhooks.PushWebhooks(secret=SECRET, ref=REF)
    return Endpoints(metrics=Metrics(), environ={}, hooks=hooks)


def _client(endpoints: Endpoints) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=endpoints.app())
    return httpx.AsyncClient(transport=transport, base_url="http://replica")


async def _push(http: httpx.AsyncClient) -> httpx.Response:
    body = json.dumps({"ref": REF, "after": "c0ffee"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"x-hub-signature-256": signature, "x-github-event": "push"}
    return await http.post("/webhooks/github", content=body, headers=headers)


def _standby_answers(endpoints: Endpoints) -> float:
    registry = endpoints.metrics.registry
    sample = registry.get_sample_value("reconciler_webhook_requests_total", {"answer": "standby"})
    return sample or 0.0


async def test_a_standby_is_healthy_ready_and_not_the_leader() -> None:
    """/healthz and /readyz answer 200 while the state is reachable; /leaderz says 503."""
    endpoints = _endpoints()
    async with _client(endpoints) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200
        leaderz = await http.get("/leaderz")
        assert (leaderz.status_code, leaderz.json()) == (503, {"leader": False})
        endpoints.reachable = False
        assert (await http.get("/readyz")).status_code == 503


async def test_a_standby_refuses_agora_events_so_agora_resends_them() -> None:
    """503 and nothing queued: a resend may reach the leader, a 200 would lose the event."""
    endpoints = _endpoints()
    async with _client(endpoints) as http:
        answer = await http.post("/webhooks/agora/demo", content=b"{}")
    assert answer.status_code == 503
    assert "stands by" in answer.json()["detail"]
    assert endpoints.inbox.pending == 0
    assert _standby_answers(endpoints) == 1.0


async def test_a_standby_takes_a_signed_push_and_fetches_nothing() -> None:
    """202 ``standby``: the forge counts it delivered (GitHub never resends), nothing wakes."""
    endpoints = _endpoints()
    async with _client(endpoints) as http:
        answer = await _push(http)
        unsigned = await http.post("/webhooks/github", content=b"{}")
    assert (answer.status_code, answer.json()) == (202, {"status": "standby"})
    assert unsigned.status_code == 401


@pytest.mark.parametrize("leading", [True, False])
async def test_sighup_and_pushes_reach_only_a_leader(leading: bool) -> None:
    """The same process: while a term is attached its daemon is woken and fetches."""
    endpoints = _endpoints()
    leader = _Leader()
    if leading:
        endpoints.leading = leader
    endpoints.wake()
    async with _client(endpoints) as http:
        answer = await _push(http)
        leaderz = await http.get("/leaderz")
    assert (leader.wakes, leader.fetches) == ((1, 1) if leading else (0, 0))
    assert answer.json()["status"] == ("fetch scheduled" if leading else "standby")
    assert leaderz.status_code == (200 if leading else 503)
