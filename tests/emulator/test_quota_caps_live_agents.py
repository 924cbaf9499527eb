"""Live agents per App ID are capped by the quota: the next join gets 422."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def test_join_over_quota_is_422_resource_quota_limit_exceeded(api):
    """With quota 2, the third live agent is refused with the documented reason."""
    await api.configure(quota=2)
    await api.start("a", channel="c1")
    await api.start("b", channel="c2")
    response = await api.join("c", channel="c3")
    assert response.status_code == 422
    assert response.json()["reason"] == "ResourceQuotaLimitExceeded"


async def test_stopping_agents_count_until_stopped(api):
    """A STOPPING agent still takes a slot; once STOPPED the slot is free."""
    await api.configure(quota=1)
    agent_id = await api.start("a", channel="c1")
    await api.call(Endpoint.LEAVE, agent_id)
    assert (await api.join("b", channel="c2")).status_code == 422
    await api.advance(1)
    assert (await api.join("b", channel="c2")).status_code == 200


async def test_default_quota_is_twenty(api):
    """Twenty agents start; the twenty-first does not."""
    for n in range(20):
        await api.start(f"agent-{n}", channel=f"room-{n}")
    assert (await api.join("one-too-many", channel="room-x")).status_code == 422
