"""Each error the emulated API gives reaches the caller as the right exception, retried or not."""

from __future__ import annotations

import pytest
from client_contract_harness import ClientFactory, EmulatorControl, Sleeps, join_request

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, BasicAuth
from reconciler.emulator import DEMO_CUSTOMER_ID


async def test_wrong_credentials_cost_exactly_one_request(
    make_client: ClientFactory, emulator: EmulatorControl, sleeps: Sleeps
) -> None:
    """A 401 is final: one call reaches the server, no retry, one AuthError."""
    api = make_client(auth=BasicAuth(DEMO_CUSTOMER_ID, "not-the-secret"))
    with pytest.raises(errors.AuthError) as caught:
        await api.list_all(states=[wire.StatusCode.RUNNING], from_time=0)
    assert caught.value.status == 401
    assert "not-the-secret" not in str(caught.value)
    assert await emulator.counters() == {"list": {"401": 1}}
    assert sleeps == []


async def test_an_unknown_agent_is_not_found(api: AgoraClient) -> None:
    """404 with the API's TaskNotFound reason."""
    with pytest.raises(errors.NotFoundError) as caught:
        await api.query("NO0SUCH0AGENT")
    assert caught.value.reason == "TaskNotFound"


async def test_a_reused_name_is_a_conflict(api: AgoraClient) -> None:
    """A second join under a name still held is 409 TaskConflict, not a second agent."""
    await api.join(join_request("lobby-g1"))
    with pytest.raises(errors.ConflictError) as caught:
        await api.join(join_request("lobby-g1", channel="other"))
    assert caught.value.reason == "TaskConflict"
    assert caught.value.existing_agent_id is None


async def test_a_conflict_body_naming_the_holder_is_read(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """When the server says which agent holds the name, the error carries its id."""
    await emulator.configure(conflict_body_includes_agent_id=True)
    first = await api.join(join_request("lobby-g1"))
    with pytest.raises(errors.ConflictError) as caught:
        await api.join(join_request("lobby-g1", channel="other"))
    assert caught.value.existing_agent_id == first.agent_id


async def test_joining_past_the_quota_is_quota_exceeded(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """422 once the project holds as many live agents as its quota allows."""
    await emulator.configure(quota=1)
    await api.join(join_request("a-g1", channel="a"))
    with pytest.raises(errors.QuotaExceededError) as caught:
        await api.join(join_request("b-g1", channel="b"))
    assert caught.value.status == 422


async def test_an_invalid_request_is_refused_without_retry(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """A non-numeric uid without enable_string_uid is a 400 InvalidFieldValue, sent once."""
    with pytest.raises(errors.InvalidRequestError) as caught:
        await api.join(join_request("lobby-g1", uid="alice"))
    assert caught.value.reason == "InvalidFieldValue"
    assert await emulator.counters() == {"join": {"400": 1}}


async def test_rate_limiting_is_retried_after_the_servers_hint_then_raised(
    make_client: ClientFactory, emulator: EmulatorControl, sleeps: Sleeps
) -> None:
    """429 with Retry-After: the client waits as told, and finally raises RateLimitedError."""
    await emulator.add_fault(endpoint="query", status=429, retry_after=2)
    api = make_client(attempts=3)
    with pytest.raises(errors.RateLimitedError) as caught:
        await api.query("A1")
    assert caught.value.retry_after == 2.0
    assert sleeps == [2.0, 2.0]
    assert await emulator.counters() == {"query": {"429": 3}}


async def test_a_startup_failure_is_retried_until_the_join_succeeds(
    api: AgoraClient, emulator: EmulatorControl, sleeps: Sleeps
) -> None:
    """Two 503s then success: the same join is resent and exactly one agent exists."""
    await emulator.add_fault(endpoint="join", status=503, count=2)
    joined = await api.join(join_request("lobby-g1"))
    assert len(sleeps) == 2
    assert await emulator.counters() == {"join": {"200": 1, "503": 2}}
    assert [a["agent_id"] for a in await emulator.agents()] == [joined.agent_id]


async def test_a_join_whose_answer_is_lost_is_flagged_and_not_resent(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """The connection drops after the agent was created: the caller learns it may exist."""
    await emulator.add_fault(endpoint="join", drop_connection=True, when="after", count=1)
    with pytest.raises(errors.TransportError) as caught:
        await api.join(join_request("lobby-g1"))
    assert caught.value.may_have_reached_server
    assert await emulator.counters() == {"join": {"dropped": 1}}
    (agent,) = await emulator.agents()
    assert agent["name"] == "lobby-g1"
    with pytest.raises(errors.ConflictError):
        await api.join(join_request("lobby-g1"))


async def test_a_gateway_timeout_on_join_is_flagged_and_not_resent(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """504 after the action took effect leaves the outcome open, so the client stops there."""
    await emulator.add_fault(endpoint="join", status=504, when="after", count=1)
    with pytest.raises(errors.ServerError) as caught:
        await api.join(join_request("lobby-g1"))
    assert caught.value.may_have_reached_server
    assert await emulator.counters() == {"join": {"504": 1}}


async def test_a_dropped_connection_on_an_idempotent_call_is_retried(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """Query is safe to repeat, so a dropped connection costs one extra request, not an error."""
    agent_id = (await api.join(join_request("lobby-g1"))).agent_id
    await emulator.add_fault(endpoint="query", drop_connection=True, count=1)
    assert (await api.query(agent_id)).status == "RUNNING"
    assert (await emulator.counters())["query"] == {"dropped": 1, "200": 1}
