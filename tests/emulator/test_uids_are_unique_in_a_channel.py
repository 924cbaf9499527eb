"""Two live agents may not share an agent_rtc_uid in one channel (409 TaskConflict)."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def test_same_uid_in_same_channel_conflicts(api):
    """A second live agent with the same uid in the channel gets 409 TaskConflict."""
    await api.start("first", channel="lobby", uid="1001")
    response = await api.join("second", channel="lobby", uid="1001")
    assert response.status_code == 409
    assert response.json()["reason"] == "TaskConflict"


async def test_same_uid_in_another_channel_is_fine(api):
    """The uid rule is per channel."""
    await api.start("first", channel="lobby", uid="1001")
    assert (await api.join("second", channel="hall", uid="1001")).status_code == 200


async def test_uid_is_free_once_the_holder_stopped(api):
    """A STOPPED agent no longer holds its uid."""
    agent_id = await api.start("first", channel="lobby", uid="1001")
    await api.call(Endpoint.LEAVE, agent_id)
    await api.advance(1)
    assert (await api.join("second", channel="lobby", uid="1001")).status_code == 200
