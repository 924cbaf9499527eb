"""How the client maps answers and transport failures onto the exception tree, and what it sends."""

from __future__ import annotations

import json

import httpx
import pytest

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, BasicAuth, RetryPolicy

APP_ID = "0123456789abcdef0123456789abcdef"


def client(handler: httpx.MockTransport) -> AgoraClient:
    return AgoraClient(
        app_id=APP_ID,
        auth=BasicAuth("cid", "csecret"),
        base_url="https://agora.test",
        retry=RetryPolicy(attempts=1),
        transport=handler,
    )


def answering(status: int, **kwargs: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _: httpx.Response(status, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (400, "InvalidFieldValue", errors.InvalidRequestError),
        (401, None, errors.AuthError),
        (403, "ServiceNotEnabled", errors.AuthError),
        (404, "TaskNotFound", errors.NotFoundError),
        (405, None, errors.InvalidRequestError),
        (409, "TaskConflict", errors.ConflictError),
        (422, "ResourceQuotaLimitExceeded", errors.QuotaExceededError),
        (429, None, errors.RateLimitedError),
        (500, "InternalError", errors.ServerError),
        (503, "ResourceAllocationFailed", errors.ServerError),
    ],
)
async def test_each_status_maps_to_its_error_keeping_reason_and_detail(
    status: int, reason: str | None, error: type[errors.ApiError]
) -> None:
    """The class follows the status; the API's own reason and detail ride along."""
    body = {"detail": f"detail for {status}", "reason": reason}
    async with client(answering(status, json=body)) as api:
        with pytest.raises(error) as caught:
            await api.query("A1")
    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.reason == reason
    assert caught.value.detail == f"detail for {status}"
    assert caught.value.endpoint == "query"


async def test_the_legacy_error_shape_is_understood() -> None:
    """Older servers sent ``message`` and ``statusCode``; they become detail and reason."""
    body = {"message": "channel not found", "statusCode": "InvalidRequest", "taskId": ""}
    async with client(answering(400, json=body)) as api:
        with pytest.raises(errors.InvalidRequestError) as caught:
            await api.query("A1")
    assert (caught.value.reason, caught.value.detail) == ("InvalidRequest", "channel not found")


async def test_a_non_json_error_body_becomes_a_truncated_detail() -> None:
    """A gateway's HTML page is kept as text, cut short."""
    async with client(answering(502, text="<html>" + "x" * 5000)) as api:
        with pytest.raises(errors.ServerError) as caught:
            await api.query("A1")
    assert caught.value.reason is None
    assert caught.value.detail is not None
    assert caught.value.detail.startswith("<html>")
    assert len(caught.value.detail) <= 300


@pytest.mark.parametrize("field", ["agent_id", "taskId"])
async def test_a_conflict_names_the_holder_when_the_body_does(field: str) -> None:
    """409 bodies that carry the existing agent's id (either spelling) expose it."""
    body = {"reason": "TaskConflict", "detail": "name in use", field: "HOLDER1"}
    async with client(answering(409, json=body)) as api:
        with pytest.raises(errors.ConflictError) as caught:
            await api.join(_join())
    assert caught.value.existing_agent_id == "HOLDER1"


async def test_a_conflict_without_a_holder_says_none() -> None:
    """The current API does not promise the holder's id, so it may well be absent."""
    async with client(answering(409, json={"reason": "TaskConflict"})) as api:
        with pytest.raises(errors.ConflictError) as caught:
            await api.join(_join())
    assert caught.value.existing_agent_id is None


@pytest.mark.parametrize(
    ("failure", "reached"),
    [
        (httpx.ConnectError, False),
        (httpx.ConnectTimeout, False),
        (httpx.PoolTimeout, False),
        (httpx.ReadTimeout, True),
        (httpx.WriteTimeout, True),
        (httpx.ReadError, True),
        (httpx.RemoteProtocolError, True),
    ],
)
async def test_transport_failures_say_whether_the_request_may_have_arrived(
    failure: type[httpx.TransportError], reached: bool
) -> None:
    """Nothing was sent on connect failures; anything later may have reached the server."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("simulated", request=request)

    async with client(httpx.MockTransport(fail)) as api:
        with pytest.raises(errors.TransportError) as caught:
            await api.leave("A1")
    assert caught.value.may_have_reached_server is reached
    assert isinstance(caught.value.__cause__, failure)
    assert caught.value.status is None
    assert caught.value.endpoint == "leave"


async def test_a_success_body_off_the_contract_is_an_api_error_naming_the_field() -> None:
    """A 200 whose body lacks a required field fails clearly, without echoing the body."""
    async with client(answering(200, json={"status": "RUNNING", "secret": "s3cr3t"})) as api:
        with pytest.raises(errors.ApiError, match="agent_id") as caught:
            await api.query("A1")
    assert "s3cr3t" not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_requests_use_the_documented_methods_paths_and_bodies() -> None:
    """Each endpoint hits its path; interrupt and leave send no body; GETs send none either."""
    seen: list[tuple[str, str, bytes]] = []
    action = {"agent_id": "A1", "channel": "lobby", "start_ts": 1}
    answers = {
        "join": {"agent_id": "A1", "create_ts": 1, "status": "RUNNING"},
        "update": {"agent_id": "A1", "create_ts": 1, "status": "RUNNING"},
        "A1": {"agent_id": "A1", "status": "RUNNING"},
        "agents": {"data": {"count": 0, "list": []}, "meta": {"cursor": ""}, "status": "ok"},
        "speak": action,
        "interrupt": action,
        "think": action,
        "history": {"agent_id": "A1", "status": "RUNNING", "contents": []},
        "turns": {"agent_id": "A1", "turns": []},
        "leave": {},
    }

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.raw_path.decode(), request.content))
        return httpx.Response(200, json=answers[request.url.path.rsplit("/", 1)[1]])

    async with client(httpx.MockTransport(serve)) as api:
        await api.join(_join())
        await api.update("A1", wire.UpdateRequest.model_validate({"properties": {"token": "t"}}))
        await api.query("A1")
        await api.list_page(wire.ListQuery(state="2", from_time=1700000000.0, limit=5))
        await api.speak("A1", wire.SpeakRequest(text="hi"))
        await api.interrupt("A1")
        await api.think("A1", wire.ThinkRequest(text="hmm"))
        await api.history("A1")
        await api.turns("A1", wire.TurnsQuery(page_index=1, page_size=50))
        await api.leave("A1")
    root = f"/api/conversational-ai-agent/v2/projects/{APP_ID}"
    assert [(m, p) for m, p, _ in seen] == [
        ("POST", f"{root}/join"),
        ("POST", f"{root}/agents/A1/update"),
        ("GET", f"{root}/agents/A1"),
        ("GET", f"{root}/agents?from_time=1700000000&state=2&limit=5"),
        ("POST", f"{root}/agents/A1/speak"),
        ("POST", f"{root}/agents/A1/interrupt"),
        ("POST", f"{root}/agents/A1/think"),
        ("GET", f"{root}/agents/A1/history"),
        ("GET", f"{root}/agents/A1/turns?page_index=1&page_size=50"),
        ("POST", f"{root}/agents/A1/leave"),
    ]
    bodies = {p.rsplit("/", 1)[1]: b for _, p, b in seen}
    assert bodies["interrupt"] == b""
    assert bodies["leave"] == b""
    assert json.loads(bodies["update"]) == {"properties": {"token": "t"}}
    assert json.loads(bodies["speak"]) == {"text": "hi"}


def _join() -> wire.JoinRequest:
    return wire.JoinRequest.model_validate(
        {
            "name": "lobby-g1",
            "properties": {
                "channel": "lobby",
                "token": "007tok",
                "agent_rtc_uid": "1001",
                "remote_rtc_uids": ["2001"],
            },
        }
    )
