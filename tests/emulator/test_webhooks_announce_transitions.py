"""The emulator's Notification Center: signed events on every transition, retried when refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from reconciler.agora import events
from reconciler.agora.wire import Endpoint
from reconciler.daemon import health

if TYPE_CHECKING:
    # Only a type: importing a conftest by name picks whichever was loaded first.
    from conftest import EmulatorApi

SECRET = "emulator-webhook-secret"
BOUND_SECONDS = 10.0


@dataclass
class Receiver:
    """A real HTTP endpoint that keeps every delivery and answers ``refuse`` first."""

    url: str = ""
    refuse: list[int] = field(default_factory=list)
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def notices(self) -> list[events.Notice]:
        return [events.Notice.model_validate_json(body) for _, body in self.got]

    def types(self) -> list[int]:
        return [notice.event_type for notice in self.notices()]

    async def until(self, count: int) -> None:
        async with asyncio.timeout(BOUND_SECONDS):
            while len(self.got) < count:  # noqa: ASYNC110  (deliveries announce nothing)
                await asyncio.sleep(0.01)


@pytest.fixture
async def receiver(api: EmulatorApi) -> AsyncIterator[Receiver]:
    """The receiver, and the emulator's sender stopped once the test is done."""
    found = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> JSONResponse:
        found.got.append((dict(request.headers), await request.body()))
        status = found.refuse.pop(0) if found.refuse else 200
        return JSONResponse({"status": "ok"}, status_code=status)

    sock = health.bind(health.Address("127.0.0.1", 0))
    stop = asyncio.Event()
    task = asyncio.create_task(health.serve(app, sock, stop=stop))
    found.url = f"{health.url_of(sock)}/hook"
    try:
        yield found
    finally:
        await api.control("DELETE", "webhooks")
        stop.set()
        await task
        sock.close()


async def _send_to(api: EmulatorApi, receiver: Receiver, **knobs: Any) -> None:
    target = {"url": receiver.url, "secret": SECRET, "retry_seconds": 0.01, **knobs}
    await api.control("POST", "webhooks", json=target)


async def test_join_turn_and_leave_are_announced_signed(
    api: EmulatorApi, receiver: Receiver
) -> None:
    """101 on join, 111 per turn, then 102, 103 (the history) and 112 (the turns) once the leave
    completes."""
    await _send_to(api, receiver)
    agent_id = await api.start("greeter", labels={"key": "demo/greeter"})
    await api.call(Endpoint.SPEAK, agent_id, json={"text": "Hello!"})
    await api.call(Endpoint.LEAVE, agent_id)
    await api.advance(5)
    await receiver.until(5)
    assert receiver.types() == [101, 111, 102, 103, 112]
    for headers, body in receiver.got:
        v2 = headers[events.SIGNATURE_V2_HEADER.lower()]
        v1 = headers[events.SIGNATURE_HEADER.lower()]
        assert events.verify(body, secret=SECRET, v2=v2, v1=None)
        assert events.verify(body, secret=SECRET, v2=None, v1=v1)
    joined, metrics, left, history, turns = [events.read_payload(n) for n in receiver.notices()]
    assert isinstance(joined, events.AgentJoined)
    assert (joined.agent_id, joined.name, joined.labels) == (
        agent_id,
        "greeter",
        {"key": "demo/greeter"},
    )
    assert isinstance(metrics, events.AgentMetrics)
    assert metrics.metrics[0].tts_ttfb is not None
    assert isinstance(left, events.AgentLeft)
    assert (left.status, left.message) == ("STOPPED", "OK")
    assert isinstance(history, events.HistoryAfterStop)
    assert [entry.content for entry in history.contents] == ["Hello!"]
    assert isinstance(turns, events.TurnsAfterSession)
    assert (turns.total_turn_count, turns.is_truncated) == (1, False)
    assert turns.turns[0]["turn_id"] == 1
    assert len({n.notice_id for n in receiver.notices()}) == 5
    assert all(n.product_id == events.PRODUCT_ID for n in receiver.notices())


async def test_a_failure_is_announced_as_an_error_then_a_failed_leave(
    api: EmulatorApi, receiver: Receiver
) -> None:
    agent_id = await api.start("fragile")
    await _send_to(api, receiver)
    await api.control("POST", f"agents/{agent_id}/fail", json={"message": "RTC connection error"})
    await receiver.until(3)
    errors, left, _ = [events.read_payload(n) for n in receiver.notices()]
    assert isinstance(errors, events.AgentErrors)
    assert errors.errors[0].message == "RTC connection error"
    assert isinstance(left, events.AgentLeft)
    assert (left.status, left.message) == ("FAILED", "RTC connection error")


async def test_an_agent_that_idles_out_is_announced_without_any_api_call(
    api: EmulatorApi, receiver: Receiver
) -> None:
    """The sender settles the lazy timers itself, so a moved clock alone yields the 102."""
    agent_id = await api.start("idler", idle_timeout=5)
    await _send_to(api, receiver)
    await api.advance(10)
    await receiver.until(1)
    left = events.read_payload(receiver.notices()[0])
    assert isinstance(left, events.AgentLeft)
    assert (left.agent_id, left.message) == (agent_id, "Idle for too long")


async def test_a_refused_delivery_is_retried_a_bounded_number_of_times(
    api: EmulatorApi, receiver: Receiver
) -> None:
    """Two 503s then a 200: delivered on the third try; refused for ever: given up after
    ``retries``."""
    receiver.refuse = [503, 503]
    await _send_to(api, receiver, retries=3)
    await api.start("first")
    await receiver.until(3)
    receiver.refuse = [401] * 10
    await api.start("second", channel="other")
    await receiver.until(5)

    async def settled() -> list[dict[str, Any]]:
        async with asyncio.timeout(BOUND_SECONDS):
            while True:
                found = (await api.control("GET", "webhooks"))["deliveries"]
                if len(found) == 2 and len(found[1]["statuses"]) == 4:
                    return list(found)
                await asyncio.sleep(0.01)

    first, second = await settled()
    assert (first["statuses"], first["delivered"]) == ([503, 503, 200], True)
    assert (second["statuses"], second["delivered"]) == ([401] * 4, False)
    assert SECRET not in json.dumps(await api.control("GET", "webhooks"))


async def test_any_event_can_be_sent_on_demand(api: EmulatorApi, receiver: Receiver) -> None:
    """``/_emulator/agents/{id}/events`` sends what no transition does, such as a 104."""
    agent_id = await api.start("expiring")
    await _send_to(api, receiver)
    await api.control(
        "POST", f"agents/{agent_id}/events", json={"event_type": 104, "payload": {"message": "m"}}
    )
    await receiver.until(1)
    expiring = events.read_payload(receiver.notices()[0])
    assert isinstance(expiring, events.TokenExpiring)
    assert (expiring.agent_id, expiring.message) == (agent_id, "m")
