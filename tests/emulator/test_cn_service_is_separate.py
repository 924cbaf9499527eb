"""The /cn/ prefix is a separate service: its agents, names and quota are its own."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def test_cn_agents_are_invisible_to_the_global_api(api, cn_api):
    """An agent started under /cn is listed and queried there, and unknown globally."""
    agent_id = await cn_api.start("a")
    assert (await api.call(Endpoint.QUERY, agent_id)).status_code == 404
    assert (await api.call(Endpoint.LIST)).json()["meta"]["total"] == 0
    assert (await cn_api.call(Endpoint.LIST)).json()["meta"]["total"] == 1
    assert (await api.agents())[agent_id]["region"] == "cn"


async def test_a_name_may_live_once_in_each_service(api, cn_api):
    """The same name and uid can run globally and in CN at the same time."""
    await api.start("a")
    assert (await cn_api.join("a")).status_code == 200
