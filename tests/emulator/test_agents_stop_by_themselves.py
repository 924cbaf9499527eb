"""Agents stop on their own: idle_timeout without their remote user, and the 72-hour cap."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def _user(api, action, *, channel="room", uid="2001"):
    return await api.control("POST", f"channels/{channel}/users/{uid}/{action}")


async def _stopped_with(api, agent_id):
    body = (await api.call(Endpoint.QUERY, agent_id)).json()
    return body["status"], body.get("message")


async def test_idle_timer_runs_from_join_when_the_user_never_came(api):
    """With no remote user ever present, the agent stops after idle_timeout (default 30 s)."""
    agent_id = await api.start("a")
    await api.advance(29)
    assert await api.status(agent_id) == "RUNNING"
    await api.advance(1)
    assert await _stopped_with(api, agent_id) == ("STOPPED", "Idle for too long")


async def test_present_user_keeps_the_agent_alive(api):
    """While the remote user is in the channel the agent never idles out."""
    await _user(api, "join")
    agent_id = await api.start("a")
    await api.advance(3600)
    assert await api.status(agent_id) == "RUNNING"


async def test_idle_timer_runs_from_the_user_leaving(api):
    """After the user leaves, the agent stops idle_timeout seconds later, stop_ts at that time."""
    await _user(api, "join")
    agent_id = await api.start("a", idle_timeout=120)
    await api.advance(500)
    await _user(api, "leave")
    left_at = await api.now()
    await api.advance(119)
    assert await api.status(agent_id) == "RUNNING"
    await api.advance(2)
    body = (await api.call(Endpoint.QUERY, agent_id)).json()
    assert (body["status"], body["message"]) == ("STOPPED", "Idle for too long")
    assert body["stop_ts"] == int(left_at + 120)


async def test_user_coming_back_cancels_the_idle_timer(api):
    """A user who leaves and returns within idle_timeout keeps the agent running."""
    await _user(api, "join")
    agent_id = await api.start("a")
    await _user(api, "leave")
    await api.advance(20)
    await _user(api, "join")
    await api.advance(3600)
    assert await api.status(agent_id) == "RUNNING"


async def test_other_users_do_not_count(api):
    """Only the agent's remote_rtc_uids keep it alive."""
    await _user(api, "join", uid="9999")
    agent_id = await api.start("a", remote=("2001",))
    await api.advance(31)
    assert await api.status(agent_id) == "STOPPED"


async def test_idle_timeout_zero_never_idles_but_the_72_hour_cap_still_stops(api):
    """idle_timeout 0 disables the idle exit; at 72 h the agent stops with the lifetime message."""
    agent_id = await api.start("a", idle_timeout=0)
    await api.advance(72 * 3600 - 1)
    assert await api.status(agent_id) == "RUNNING"
    await api.advance(1)
    assert await _stopped_with(api, agent_id) == ("STOPPED", "Task lifetime limit exceeded")


async def test_without_idle_timer_for_absent_users_agent_waits(api):
    """With idle_timer_without_user off, an agent whose user never came keeps running."""
    await api.configure(idle_timer_without_user=False)
    agent_id = await api.start("a")
    await api.advance(3600)
    assert await api.status(agent_id) == "RUNNING"
    await _user(api, "join")
    await _user(api, "leave")
    await api.advance(30)
    assert await api.status(agent_id) == "STOPPED"


async def test_join_can_answer_starting_and_flip_to_running(api):
    """With join_status STARTING the agent turns RUNNING after starting_seconds."""
    await api.configure(join_status="STARTING", starting_seconds=2)
    response = await api.join("a")
    assert response.json()["status"] == "STARTING"
    agent_id = response.json()["agent_id"]
    assert (await api.call(Endpoint.SPEAK, agent_id, json={"text": "hi"})).status_code == 404
    await api.advance(2)
    assert await api.status(agent_id) == "RUNNING"


async def test_failed_agent_reports_its_message(api):
    """The fail control route moves the agent to FAILED with the given message."""
    agent_id = await api.start("a")
    await api.control("POST", f"agents/{agent_id}/fail", json={"message": "RTC connection error"})
    assert await _stopped_with(api, agent_id) == ("FAILED", "RTC connection error")
