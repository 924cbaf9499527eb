"""``POST /webhooks/agora/{project}``: signed events are queued once; nothing else changes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from reconciler.agora import events
from reconciler.daemon import ncs
from reconciler.errors import ReconcilerError

SECRET = "ncs-secret-0123456789"


def _notice(notice_id: str = "n-1", **payload: Any) -> bytes:
    return events.Notice(
        notice_id=notice_id,
        product_id=events.PRODUCT_ID,
        event_type=events.EventType.AGENT_LEFT,
        notify_ms=1_700_000_000_000,
        payload={"agent_id": "A1", **payload},
    ).to_body()


def _secret_of(project: str) -> str | None:
    if project == "broken":
        raise ReconcilerError("environment variable NCS is not set")
    return SECRET if project == "demo" else None


class Receiver:
    def __init__(self, *, max_body: int = ncs.MAX_BODY_BYTES) -> None:
        self.registry = CollectorRegistry()
        self.inbox = ncs.Inbox(secret_of=_secret_of, registry=self.registry, max_body=max_body)
        app = FastAPI()
        app.include_router(self.inbox.router())
        self.transport = httpx.ASGITransport(app=app)

    async def post(
        self,
        body: bytes,
        *,
        project: str = "demo",
        headers: Mapping[str, str | bytes] | None = None,
    ) -> httpx.Response:
        sent = dict(events.signatures(body, secret=SECRET) if headers is None else headers)
        async with httpx.AsyncClient(transport=self.transport, base_url="http://daemon") as http:
            return await http.post(f"/webhooks/agora/{project}", content=body, headers=sent)

    def answers(self, answer: str) -> float:
        value = self.registry.get_sample_value(
            "reconciler_webhook_requests_total", {"answer": answer}
        )
        return value or 0.0


async def test_a_signed_event_is_acknowledged_and_queued() -> None:
    """A V2-signed notice gets 200 with a JSON body and is queued for the reactions."""
    receiver = Receiver()
    response = await receiver.post(_notice())
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    received = await receiver.inbox.get()
    assert (received.project, received.notice.notice_id) == ("demo", "n-1")


async def test_the_sha1_signature_counts_only_when_v2_is_absent() -> None:
    """V1 alone is accepted; a wrong V2 is refused even beside a right V1."""
    receiver = Receiver()
    body = _notice()
    signed = events.signatures(body, secret=SECRET)
    v1_only = {events.SIGNATURE_HEADER: signed[events.SIGNATURE_HEADER]}
    assert (await receiver.post(body, headers=v1_only)).status_code == 200
    wrong_v2 = {**signed, events.SIGNATURE_V2_HEADER: "0" * 64}
    assert (await receiver.post(_notice("n-2"), headers=wrong_v2)).status_code == 401
    assert receiver.inbox.pending == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        events.signatures(b"another body", secret=SECRET),
        events.signatures(_notice(), secret="not-the-secret"),
        {events.SIGNATURE_V2_HEADER: ("é" * 64).encode("latin-1")},
    ],
    ids=["missing", "other-body", "other-secret", "not-ascii"],
)
async def test_a_bad_or_missing_signature_gets_401_and_queues_nothing(
    headers: dict[str, str | bytes],
) -> None:
    """Nothing unsigned is read, queued or remembered (a later good copy still counts)."""
    receiver = Receiver()
    response = await receiver.post(_notice(), headers=headers)
    assert response.status_code == 401
    assert receiver.inbox.pending == 0
    assert (await receiver.post(_notice())).status_code == 200
    assert receiver.inbox.pending == 1


async def test_a_duplicate_notice_is_acknowledged_and_dropped() -> None:
    """Agora resends what it thinks was lost: the second copy gets 200 and is not queued."""
    receiver = Receiver()
    for _ in range(3):
        assert (await receiver.post(_notice())).status_code == 200
    assert receiver.inbox.pending == 1
    assert receiver.answers("duplicate") == 2


async def test_an_oversized_body_gets_413() -> None:
    """The size limit holds whether or not the sender declares a length."""
    receiver = Receiver(max_body=512)
    body = _notice(message="x" * 1024)
    assert (await receiver.post(body)).status_code == 413

    async def chunks() -> Any:
        yield body[:300]
        yield body[300:]

    async with httpx.AsyncClient(transport=receiver.transport, base_url="http://d") as http:
        streamed = await http.post(
            "/webhooks/agora/demo", content=chunks(), headers=events.signatures(body, secret=SECRET)
        )
    assert streamed.status_code == 413
    assert receiver.inbox.pending == 0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", json.dumps({"noticeId": "n"}).encode()],
    ids=["not-json", "not-an-object", "not-a-notice"],
)
async def test_a_signed_body_that_is_no_notice_gets_400(body: bytes) -> None:
    receiver = Receiver()
    assert (await receiver.post(body)).status_code == 400
    assert receiver.inbox.pending == 0


async def test_a_project_without_a_secret_gets_404_and_an_unresolvable_one_503() -> None:
    """No secret, no way to verify: 404; a secret that cannot be read now: 503, Agora retries."""
    receiver = Receiver()
    assert (await receiver.post(_notice(), project="other")).status_code == 404
    assert (await receiver.post(_notice(), project="broken")).status_code == 503
    assert receiver.inbox.pending == 0


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=200))
def test_only_the_right_secret_verifies(secret: str, body: bytes) -> None:
    """Both signatures verify with their own secret and never with another."""
    signed = events.signatures(body, secret=secret)
    v1, v2 = signed[events.SIGNATURE_HEADER], signed[events.SIGNATURE_V2_HEADER]
    assert events.verify(body, secret=secret, v2=v2, v1=None)
    assert events.verify(body, secret=secret, v2=None, v1=v1)
    other = secret + "x"
    assert not events.verify(body, secret=other, v2=v2, v1=v1)
    assert not events.verify(body, secret=other, v2=None, v1=v1)


def test_payloads_are_read_leniently_and_foreign_events_not_at_all() -> None:
    """A 102 with loosely typed extras is still a 102; other products and types read as None."""

    def notice(**fields: Any) -> events.Notice:
        envelope = {"noticeId": "n", "productId": 17, "eventType": 102, "notifyMs": 1}
        return events.Notice.model_validate({**envelope, **fields})

    left = events.read_payload(
        notice(payload={"agent_id": "A", "status": 6, "labels": {"n": 1}, "stop_ts": 1.5, "x": {}})
    )
    assert isinstance(left, events.AgentLeft)
    assert (left.agent_id, left.status) == ("A", 6)
    assert events.read_payload(notice(productId=9, payload={"agent_id": "A"})) is None
    assert events.read_payload(notice(eventType=201, payload={"agent_id": "A"})) is None
    assert events.read_payload(notice(payload={"name": "no agent id"})) is None
