"""leave answers at once, the agent is STOPPING for a while, then STOPPED; then it is gone."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def test_leave_answers_empty_object_and_agent_goes_stopping(api):
    """leave is 200 {} and the agent is STOPPING right after."""
    agent_id = await api.start("a")
    response = await api.call(Endpoint.LEAVE, agent_id)
    assert response.status_code == 200
    assert response.json() == {}
    assert await api.status(agent_id) == "STOPPING"


async def test_agent_is_stopped_with_ok_after_stopping_seconds(api):
    """A clock jump past stopping_seconds finds the agent STOPPED, message OK, stop_ts set."""
    agent_id = await api.start("a")
    await api.call(Endpoint.LEAVE, agent_id)
    left_at = await api.now()
    await api.advance(1)
    body = (await api.call(Endpoint.QUERY, agent_id)).json()
    assert body["status"] == "STOPPED"
    assert body["message"] == "OK"
    assert body["stop_ts"] == int(left_at + 1)
    assert body["name"] == "a"


async def test_second_leave_is_404_while_stopping_and_after(api):
    """Leave on a STOPPING or STOPPED agent is 404 TaskNotFound."""
    agent_id = await api.start("a")
    await api.call(Endpoint.LEAVE, agent_id)
    stopping = await api.call(Endpoint.LEAVE, agent_id)
    assert stopping.status_code == 404
    assert stopping.json()["reason"] == "TaskNotFound"
    await api.advance(5)
    assert (await api.call(Endpoint.LEAVE, agent_id)).status_code == 404


async def test_leave_of_unknown_agent_is_404(api):
    """An id the service never handed out is TaskNotFound."""
    response = await api.call(Endpoint.LEAVE, "NOSUCHAGENT")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "agent NOSUCHAGENT not found or has exited",
        "reason": "TaskNotFound",
    }


async def test_query_answers_after_stop_until_retention_ends(api):
    """query keeps answering for query_retention_seconds after stop, then 404."""
    agent_id = await api.start("a")
    await api.call(Endpoint.LEAVE, agent_id)
    await api.advance(1 + 23 * 3600)
    assert await api.status(agent_id) == "STOPPED"
    await api.advance(2 * 3600)
    assert (await api.call(Endpoint.QUERY, agent_id)).status_code == 404


async def test_stopped_agent_refuses_update_speak_and_history(api):
    """Endpoints that need a RUNNING agent answer 404 once it has stopped."""
    agent_id = await api.start("a")
    await api.call(Endpoint.LEAVE, agent_id)
    await api.advance(1)
    for endpoint, body in (
        (Endpoint.UPDATE, {"properties": {"token": "t2"}}),
        (Endpoint.SPEAK, {"text": "hello"}),
        (Endpoint.THINK, {"text": "hello"}),
        (Endpoint.INTERRUPT, None),
        (Endpoint.HISTORY, None),
    ):
        response = await api.call(endpoint, agent_id, json=body)
        assert response.status_code == 404, endpoint


async def test_stopping_seconds_zero_stops_at_once(api):
    """With stopping_seconds 0 the very next query already sees STOPPED."""
    await api.configure(stopping_seconds=0)
    agent_id = await api.start("a")
    await api.call(Endpoint.LEAVE, agent_id)
    assert await api.status(agent_id) == "STOPPED"
