"""Injected faults (status before or after the action, dropped connections, fractions, latency),
the rate limit, and the call counters."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.agora.wire import Endpoint


async def _fault(api, **spec):
    return await api.control("POST", "faults", json=spec)


async def test_status_before_the_action_leaves_no_agent(api):
    """A 503 injected before join answers the error body and creates nothing."""
    await _fault(api, endpoint="join", status=503, count=1)
    response = await api.join("a")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "injected fault: HTTP 503",
        "reason": "ServiceUnavailable",
    }
    assert await api.agents() == {}
    assert (await api.join("a")).status_code == 200


async def test_status_after_the_action_keeps_its_effect(api):
    """A 504 injected after join hides the answer, but the agent exists: a retry gets 409."""
    await _fault(api, endpoint="join", status=504, when="after", count=1)
    response = await api.join("a")
    assert response.status_code == 504
    assert response.json()["reason"] == "TaskOperationTimeout"
    assert [r["name"] for r in (await api.agents()).values()] == ["a"]
    assert (await api.join("a")).status_code == 409


async def test_count_limits_how_many_calls_fail(api):
    """count=2 fails exactly the next two matching calls; other endpoints are untouched."""
    await _fault(api, endpoint="list", status=500, count=2)
    agent_id = await api.start("a")
    statuses = [(await api.call(Endpoint.LIST)).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert (await api.call(Endpoint.QUERY, agent_id)).status_code == 200


async def test_dropped_connection_in_process_is_a_transport_error(api):
    """A dropped connection reaches the client as httpx.RemoteProtocolError, never a status."""
    await _fault(api, endpoint="*", drop_connection=True, count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.call(Endpoint.LIST)
    assert (await api.call(Endpoint.LIST)).status_code == 200


async def test_dropped_connection_after_join_still_creates_the_agent(api):
    """drop_connection with when=after: the client sees no answer, the agent exists."""
    await _fault(api, endpoint="join", drop_connection=True, when="after", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.join("a")
    assert [r["status"] for r in (await api.agents()).values()] == ["RUNNING"]


async def test_fraction_fails_a_seeded_share_of_calls(api):
    """fraction=0.5 fails some but not all calls, the same ones on every run."""
    await _fault(api, endpoint="list", status=502, fraction=0.5)
    statuses = [(await api.call(Endpoint.LIST)).status_code for _ in range(40)]
    assert 5 < statuses.count(502) < 35
    assert set(statuses) == {200, 502}
    await api.control("POST", "reset")
    await _fault(api, endpoint="list", status=502, fraction=0.5)
    assert [(await api.call(Endpoint.LIST)).status_code for _ in range(40)] == statuses


async def test_latency_delays_the_answer(api):
    """latency_ms adds at least that much real delay and the call still succeeds."""
    await _fault(api, endpoint="list", latency_ms=30, count=1)
    started = time.monotonic()
    response = await api.call(Endpoint.LIST)
    assert time.monotonic() - started >= 0.03
    assert response.status_code == 200


async def test_fault_can_set_reason_detail_and_retry_after(api):
    """A 429 fault carries the given reason, detail and a Retry-After header."""
    await _fault(
        api, status=429, retry_after=7, reason="TooManyRequests", detail="slow down", count=1
    )
    response = await api.call(Endpoint.LIST)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"detail": "slow down", "reason": "TooManyRequests"}


async def test_delete_clears_every_fault(api):
    """DELETE /_emulator/faults removes standing rules."""
    await _fault(api, status=500)
    assert (await api.call(Endpoint.LIST)).status_code == 500
    assert (await api.control("DELETE", "faults")) == {"faults": []}
    assert (await api.call(Endpoint.LIST)).status_code == 200


async def test_fault_rule_must_do_something(api):
    """A rule with neither status, drop nor latency is refused by the control route."""
    response = await api.client.post("/_emulator/faults", json={"endpoint": "join"})
    assert response.status_code == 422


async def test_counters_tally_calls_by_endpoint_and_answer(api):
    """Counters count successes, errors and dropped connections per endpoint."""
    agent_id = await api.start("a")
    await api.join("a")
    await _fault(api, endpoint="query", drop_connection=True, count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.call(Endpoint.QUERY, agent_id)
    await api.call(Endpoint.QUERY, agent_id)
    assert await api.control("GET", "counters") == {
        "join": {"200": 1, "409": 1},
        "query": {"dropped": 1, "200": 1},
    }


async def test_rate_limit_answers_429_with_retry_after(api):
    """With a token bucket of 1 call per second, a burst beyond it gets 429 and Retry-After."""
    await api.configure(rate_limit_per_second=1)
    assert (await api.call(Endpoint.LIST)).status_code == 200
    limited = await api.call(Endpoint.LIST)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    await api.advance(1)
    assert (await api.call(Endpoint.LIST)).status_code == 200
