"""The client's retry loop: which failures are resent, how long it waits, and when it gives up."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from structlog.testing import capture_logs

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import (
    AgoraClient,
    BasicAuth,
    RetryPolicy,
    TokenAuth,
    parse_retry_after,
)

APP_ID = "0123456789abcdef0123456789abcdef"
AGENT = {"agent_id": "A1", "create_ts": 1_700_000_000, "status": "RUNNING"}
ACTION = {"agent_id": "A1", "channel": "lobby", "start_ts": 1_700_000_000}

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A fake server that plays back one outcome per request and records what it was sent."""

    def __init__(self, *outcomes: httpx.Response | type[httpx.TransportError]) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, httpx.Response):
            return outcome
        raise outcome("simulated", request=request)


class Sleeps(list[float]):
    """Records the pauses the retry loop asks for instead of sleeping."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


def client(
    handler: Handler, sleeps: Sleeps, *, attempts: int = 4, retry_after_cap: float = 30.0
) -> AgoraClient:
    retry = RetryPolicy(
        sleep=sleeps, jitter="none", attempts=attempts, retry_after_cap=retry_after_cap
    )
    return AgoraClient(
        app_id=APP_ID,
        auth=BasicAuth("cid", "csecret"),
        base_url="https://agora.test",
        retry=retry,
        transport=httpx.MockTransport(handler),
    )


def join_request() -> wire.JoinRequest:
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


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, json=body)


def test_backoff_doubles_from_the_base_delay_up_to_the_cap() -> None:
    """Without jitter the pauses are 0.25, 0.5, 1, 2, 4, 8 and then stay at 8."""
    policy = RetryPolicy(jitter="none")
    assert [policy.backoff(n) for n in range(1, 8)] == [0.25, 0.5, 1, 2, 4, 8, 8]


def test_full_jitter_scales_the_whole_delay_and_equal_jitter_keeps_half() -> None:
    """Full jitter draws from [0, d), equal jitter from [d/2, d)."""
    assert RetryPolicy(jitter="full", rng=lambda: 0.5).backoff(4) == 1.0
    assert RetryPolicy(jitter="equal", rng=lambda: 0.0).backoff(4) == 1.0
    assert RetryPolicy(jitter="equal", rng=lambda: 0.5).backoff(4) == 1.5


async def test_server_errors_are_retried_with_backoff_until_success() -> None:
    """Two 503s then a 200: the caller sees the 200, after pauses of 0.25 s and 0.5 s."""
    script = Script(httpx.Response(503), httpx.Response(500), ok(AGENT))
    sleeps = Sleeps()
    async with client(script, sleeps) as api:
        result = await api.query("A1")
    assert result.agent_id == "A1"
    assert len(script.requests) == 3
    assert sleeps == [0.25, 0.5]


async def test_gives_up_after_the_configured_attempts_with_the_last_error() -> None:
    """A server that always fails gets exactly ``attempts`` requests, then ServerError."""
    script = Script(httpx.Response(500, json={"reason": "InternalError", "detail": "boom"}))
    sleeps = Sleeps()
    with capture_logs() as logs:
        async with client(script, sleeps, attempts=3) as api:
            with pytest.raises(errors.ServerError) as caught:
                await api.query("A1")
    assert caught.value.reason == "InternalError"
    assert len(script.requests) == 3
    assert len(sleeps) == 2
    events = [e for e in logs if e["event"] == "api_request"]
    assert [e["attempt"] for e in events] == [1, 2, 3]
    assert [e.get("gave_up", False) for e in events] == [False, False, True]
    assert all(e["status"] == 500 and "duration_ms" in e for e in events)


async def test_retry_after_in_seconds_is_honoured() -> None:
    """A 429 with ``Retry-After: 3`` waits 3 s, whatever the backoff would say."""
    script = Script(httpx.Response(429, headers={"Retry-After": "3"}), ok(AGENT))
    sleeps = Sleeps()
    async with client(script, sleeps) as api:
        await api.query("A1")
    assert sleeps == [3.0]


async def test_retry_after_is_capped() -> None:
    """A server asking for two minutes gets the policy's cap instead."""
    script = Script(httpx.Response(503, headers={"Retry-After": "120"}), ok(AGENT))
    sleeps = Sleeps()
    async with client(script, sleeps, retry_after_cap=10.0) as api:
        await api.query("A1")
    assert sleeps == [10.0]


def test_retry_after_accepts_an_http_date() -> None:
    """An HTTP date is turned into seconds from now; a date in the past means no wait."""
    now = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:25 GMT", now=now) == 5.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


async def test_rate_limit_error_carries_the_servers_hint() -> None:
    """When 429s outlast the attempts, RateLimitedError says how long the server asked to wait."""
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}))
    async with client(script, Sleeps(), attempts=1) as api:
        with pytest.raises(errors.RateLimitedError) as caught:
            await api.query("A1")
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_never_retried(status: int) -> None:
    """A 4xx other than 429 is final: one request, no pause."""
    script = Script(httpx.Response(status, json={"reason": "X", "detail": "no"}))
    sleeps = Sleeps()
    async with client(script, sleeps) as api:
        with pytest.raises(errors.ApiError):
            await api.query("A1")
    assert len(script.requests) == 1
    assert sleeps == []


async def test_wrong_credentials_give_one_request_one_log_line_and_an_auth_error() -> None:
    """401 is not retried and the failure is logged once."""
    script = Script(httpx.Response(401, json={"detail": "Authentication failed"}))
    with capture_logs() as logs:
        async with client(script, Sleeps()) as api:
            with pytest.raises(errors.AuthError, match="Authentication failed"):
                await api.list_all(states=[wire.StatusCode.RUNNING], from_time=0)
    assert len(script.requests) == 1
    assert [e["event"] for e in logs] == ["api_request"]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        httpx.ReadError,
        httpx.Response(502),
        httpx.Response(504),
    ],
)
async def test_join_is_not_resent_when_it_may_have_taken_effect(
    failure: httpx.Response | type[httpx.TransportError],
) -> None:
    """A lost join answer raises at once, flagged as possibly applied, for the caller to resolve."""
    script = Script(failure, ok(AGENT))
    async with client(script, Sleeps()) as api:
        with pytest.raises(errors.ApiError) as caught:
            await api.join(join_request())
    assert caught.value.may_have_reached_server
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.Response(429),
        httpx.Response(500),
        httpx.Response(503, json={"reason": "ResourceAllocationFailed"}),
    ],
)
async def test_join_is_resent_unchanged_when_it_surely_did_not_take_effect(
    failure: httpx.Response | type[httpx.TransportError],
) -> None:
    """Connect failures, 429, 500 and 503 resend the very same join: same name, same body."""
    script = Script(failure, ok(AGENT))
    async with client(script, Sleeps()) as api:
        result = await api.join(join_request())
    assert result.agent_id == "A1"
    first, second = (json.loads(r.content) for r in script.requests)
    assert first == second
    assert first["name"] == "lobby-g1"


async def test_speak_is_not_resent_after_a_read_timeout() -> None:
    """Speak is not idempotent either: an agent must not say the same thing twice."""
    script = Script(httpx.ReadTimeout, ok(ACTION))
    async with client(script, Sleeps()) as api:
        with pytest.raises(errors.TransportError):
            await api.speak("A1", wire.SpeakRequest(text="hello"))
    assert len(script.requests) == 1


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_idempotent_calls_are_resent_after_a_lost_answer(
    failure: type[httpx.TransportError],
) -> None:
    """Query, leave and the like are safe to repeat, so a lost answer is simply retried."""
    script = Script(failure, ok(AGENT))
    async with client(script, Sleeps()) as api:
        await api.query("A1")
    assert len(script.requests) == 2


async def test_every_attempt_reaches_the_request_hook() -> None:
    """The metrics hook hears each attempt with its status, None for a transport error."""
    seen: list[tuple[wire.Endpoint, int | None, int]] = []

    def hook(
        *, endpoint: wire.Endpoint, status: int | None, attempt: int, duration_s: float
    ) -> None:
        assert duration_s >= 0
        seen.append((endpoint, status, attempt))

    script = Script(httpx.ConnectError, httpx.Response(503), ok(AGENT))
    api = AgoraClient(
        app_id=APP_ID,
        auth=BasicAuth("cid", "csecret"),
        base_url="https://agora.test",
        retry=RetryPolicy(sleep=Sleeps()),
        transport=httpx.MockTransport(script),
        on_request=hook,
    )
    async with api:
        await api.query("A1")
    assert seen == [
        (wire.Endpoint.QUERY, None, 1),
        (wire.Endpoint.QUERY, 503, 2),
        (wire.Endpoint.QUERY, 200, 3),
    ]


async def test_a_minted_token_is_minted_once_per_call_not_per_attempt() -> None:
    """Every attempt of one call carries the same Authorization header, minted once."""
    script = Script(httpx.Response(503), httpx.Response(503), ok(AGENT))
    api = AgoraClient(
        app_id=APP_ID,
        auth=TokenAuth.minted("fedcba9876543210fedcba9876543210"),
        base_url="https://agora.test",
        retry=RetryPolicy(sleep=Sleeps(), jitter="none"),
        transport=httpx.MockTransport(script),
    )
    async with api:
        await api.query("A1")
    headers = {request.headers["Authorization"] for request in script.requests}
    assert len(script.requests) == 3
    assert len(headers) == 1


@pytest.mark.parametrize("reason", ["InvalidParameter", "ValidationError"])
async def test_a_422_that_is_not_the_quota_is_a_final_invalid_request(reason: str) -> None:
    """Only the documented quota reasons make a 422 a capacity condition; another reason is a
    validation failure: one request, no pause, and not mistaken for a full project."""
    script = Script(httpx.Response(422, json={"reason": reason, "detail": "bad field"}))
    sleeps = Sleeps()
    async with client(script, sleeps) as api:
        with pytest.raises(errors.InvalidRequestError) as caught:
            await api.join(join_request())
    assert not isinstance(caught.value, errors.QuotaExceededError)
    assert len(script.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("reason", ["ResourceQuotaLimitExceeded", "ConcurrencyLimitExceeded", None])
async def test_the_documented_quota_422_stays_a_quota_error(reason: str | None) -> None:
    body = {"detail": "Access limit exceeded"} | ({"reason": reason} if reason else {})
    script = Script(httpx.Response(422, json=body))
    async with client(script, Sleeps()) as api:
        with pytest.raises(errors.QuotaExceededError):
            await api.join(join_request())
    assert len(script.requests) == 1


async def test_a_transport_error_names_the_project_and_the_url_not_the_credentials() -> None:
    """Host and path, so a fleet of projects says which one broke; never the userinfo or query."""
    script = Script(httpx.ConnectError)
    retry = RetryPolicy(sleep=Sleeps(), jitter="none", attempts=2)
    api = AgoraClient(
        app_id=APP_ID,
        auth=BasicAuth("cid", "csecret"),
        base_url="https://user:pw-secret@agora.test:8443/base",
        retry=retry,
        transport=httpx.MockTransport(script),
        project="prod-eu",
    )
    async with api:
        with pytest.raises(errors.TransportError) as caught:
            await api.query("A1")
    message = str(caught.value)
    where = f"https://agora.test:8443/base/api/conversational-ai-agent/v2/projects/{APP_ID}"
    assert f"query: project prod-eu: GET {where}/agents/A1: ConnectError" in message
    assert "ConnectError" in message
    for hidden in ("pw-secret", "user:", "csecret", "?"):
        assert hidden not in message
    assert len(script.requests) == 2  # nothing was sent, so it is resent
