"""``/healthz``, ``/readyz`` and ``/metrics`` answer what they should; ``--listen`` parses."""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from reconciler.agora import wire
from reconciler.apply.report import Outcome, StepResult
from reconciler.daemon import health
from reconciler.daemon.metrics import Metrics, PassResult
from reconciler.errors import ReconcilerError

NAMES = (
    "reconciler_reconcile_total",
    "reconciler_reconcile_time_seconds",
    "reconciler_agents_desired",
    "reconciler_agents",
    "reconciler_actions_total",
    "reconciler_api_requests_total",
    "reconciler_drift_agents",
    "reconciler_last_success_timestamp_seconds",
)


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon")


async def test_healthz_is_ok_and_readyz_follows_readiness() -> None:
    """``/healthz`` is always 200; ``/readyz`` is 503 until ready, then 200."""
    ready = False
    app = health.create_app(ready=lambda: ready, metrics=Metrics())
    async with _client(app) as http:
        assert (await http.get("/healthz")).status_code == 200
        answer = await http.get("/readyz")
        assert (answer.status_code, answer.json()) == (503, {"ready": False})
        ready = True
        answer = await http.get("/readyz")
        assert (answer.status_code, answer.json()) == (200, {"ready": True})


async def test_metrics_exposes_every_series_with_its_labels() -> None:
    """After a pass, the exposition text carries each name, labelled as documented."""
    metrics = Metrics()
    metrics.on_request(endpoint=wire.Endpoint.JOIN, status=200, attempt=1, duration_s=0.01)
    metrics.on_request(endpoint=wire.Endpoint.LIST, status=None, attempt=1, duration_s=0.01)
    metrics.applied(
        [
            StepResult(
                key="demo/a",
                project="demo",
                action="create",
                outcome=Outcome.DONE,
                remote_name="rc-demo--a-g1",
                agent_id="A",
                detail="joined",
            )
        ]
    )
    metrics.observed(desired=3, live_statuses=["RUNNING", "RUNNING", "STARTING"], drift=1)
    metrics.pass_finished(result=PassResult.SUCCESS, seconds=0.2, finished_at=1_700_000_000.0)
    async with _client(health.create_app(ready=lambda: True, metrics=metrics)) as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    for name in NAMES:
        assert f"# TYPE {name}" in text or f"# TYPE {name.removesuffix('_total')}" in text
    for line in (
        'reconciler_reconcile_total{result="success"} 1.0',
        "reconciler_reconcile_time_seconds_count 1.0",
        "reconciler_agents_desired 3.0",
        'reconciler_agents{status="RUNNING"} 2.0',
        'reconciler_agents{status="STARTING"} 1.0',
        'reconciler_actions_total{action="create",outcome="done"} 1.0',
        'reconciler_api_requests_total{code="200",endpoint="join"} 1.0',
        'reconciler_api_requests_total{code="error",endpoint="list"} 1.0',
        "reconciler_drift_agents 1.0",
        "reconciler_last_success_timestamp_seconds 1.7e+09",
    ):
        assert line in text, line


def test_a_status_no_agent_holds_any_more_reads_zero() -> None:
    """``reconciler_agents`` drops a status nobody holds instead of keeping its last count."""
    metrics = Metrics()
    metrics.observed(desired=1, live_statuses=["STARTING"], drift=0)
    metrics.observed(desired=1, live_statuses=["RUNNING"], drift=0)
    registry = metrics.registry
    assert registry.get_sample_value("reconciler_agents", {"status": "STARTING"}) is None
    assert registry.get_sample_value("reconciler_agents", {"status": "RUNNING"}) == 1


def test_each_daemon_has_a_registry_of_its_own() -> None:
    """Two ``Metrics`` never share a series (tests and benchmarks run several daemons)."""
    first, second = Metrics(), Metrics()
    first.pass_finished(result=PassResult.ERROR, seconds=1.0, finished_at=0.0)
    assert (
        second.registry.get_sample_value("reconciler_reconcile_total", {"result": "error"}) is None
    )


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9090", health.Address("127.0.0.1", 9090)),
        ("0.0.0.0:9090", health.Address("0.0.0.0", 9090)),
        (":9090", health.Address("0.0.0.0", 9090)),
        ("[::1]:0", health.Address("::1", 0)),
        ("localhost:8081", health.Address("localhost", 8081)),
    ],
)
def test_listen_addresses_parse(text: str, address: health.Address) -> None:
    """``--listen`` takes HOST:PORT, [IPv6]:PORT or :PORT."""
    assert health.Address.parse(text) == address


@pytest.mark.parametrize("text", ["9090", "host:", "host:port", "host:70000"])
def test_listen_addresses_that_make_no_sense_are_refused(text: str) -> None:
    """A missing or impossible port is an error."""
    with pytest.raises(ValueError, match="HOST:PORT"):
        health.Address.parse(text)


def test_a_busy_port_is_one_clear_error() -> None:
    """Binding a port someone holds raises a ``ReconcilerError`` naming the address."""
    taken = health.bind(health.Address("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        with pytest.raises(ReconcilerError, match=f"cannot listen on 127.0.0.1:{port}"):
            health.bind(health.Address("127.0.0.1", port))
    finally:
        taken.close()


async def test_the_served_endpoints_carry_a_date_and_stop_at_once() -> None:
    """The server stamps each response with the current Date itself (uvicorn's own ticking
    is off), and ``serve`` returns when ``stop`` is set."""
    sock = health.bind(health.Address("127.0.0.1", 0))
    stop = asyncio.Event()
    serving = asyncio.create_task(
        health.serve(health.create_app(ready=lambda: True, metrics=Metrics()), sock, stop=stop)
    )
    async with httpx.AsyncClient(base_url=health.url_of(sock)) as http:
        async with asyncio.timeout(30):
            while True:
                try:
                    answer = await http.get("/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.01)
    dated = email.utils.parsedate_to_datetime(answer.headers["date"])
    assert abs((dated - datetime.now(UTC)).total_seconds()) < 3600
    assert answer.headers.get_list("date") == [answer.headers["date"]]
    stop.set()
    await asyncio.wait_for(serving, timeout=30)
