"""The ``/cn/`` API root reaches the Chinese-mainland service, whose agents are its own."""

from __future__ import annotations

import pytest
from client_contract_harness import EMULATOR_URL, ClientFactory, EmulatorControl, join_request

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, base_url_for

ALL_STATES = list(wire.StatusCode)


async def test_an_agent_joined_through_the_cn_root_lives_only_there(
    api: AgoraClient, make_client: ClientFactory, emulator: EmulatorControl
) -> None:
    """The CN client sees its agent; the global client neither lists nor finds it."""
    cn_api = make_client(base_url=base_url_for(base_url=EMULATOR_URL, cn=True))
    cn_agent = await cn_api.join(join_request("cn-g1"))

    cn_listed = await cn_api.list_all(states=ALL_STATES, from_time=0)
    assert [item.agent_id for item in cn_listed] == [cn_agent.agent_id]
    assert await api.list_all(states=ALL_STATES, from_time=0) == []
    with pytest.raises(errors.NotFoundError):
        await api.query(cn_agent.agent_id)
    (record,) = await emulator.agents()
    assert (record["region"], record["name"]) == ("cn", "cn-g1")
