"""The client drives one agent through all ten endpoints of the emulated API."""

from __future__ import annotations

import pytest
from client_contract_harness import EmulatorControl, join_request

from reconciler import errors
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient


async def test_an_agent_lives_and_stops_through_every_endpoint(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """join → query → list → update → speak → think → interrupt → history → leave → turns."""
    joined = await api.join(join_request("lobby-g1"))
    agent_id = joined.agent_id
    assert joined.status == "RUNNING"

    queried = await api.query(agent_id)
    assert (queried.name, queried.status) == ("lobby-g1", "RUNNING")

    listed = await api.list_all(states=list(wire.NON_TERMINAL_CODES), from_time=0)
    assert [item.agent_id for item in listed] == [agent_id]

    update = wire.UpdateRequest.model_validate({"properties": {"llm": {"params": {"model": "m2"}}}})
    assert (await api.update(agent_id, update)).status == "RUNNING"

    spoken = await api.speak(agent_id, wire.SpeakRequest(text="Welcome!"))
    thought = await api.think(agent_id, wire.ThinkRequest(text="Offer help"))
    interrupted = await api.interrupt(agent_id)
    assert {spoken.channel, thought.channel, interrupted.channel} == {"lobby"}

    history = await api.history(agent_id)
    assert history.status == "RUNNING"
    assert any("Offer help" in entry.content for entry in history.contents)

    await api.leave(agent_id)
    assert (await api.query(agent_id)).status == "STOPPING"
    await emulator.advance_clock(5)
    stopped = await api.query(agent_id)
    assert stopped.status == "STOPPED"
    assert stopped.stop_ts is not None

    turns = await api.turns(agent_id, wire.TurnsQuery(page_index=1, page_size=10))
    assert turns.agent_id == agent_id

    (record,) = await emulator.agents()
    assert record["properties"]["llm"]["params"] == {"model": "m2"}
    assert record["status"] == "STOPPED"


async def test_a_stopped_agent_has_no_history_and_cannot_be_left_again(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """After stop, history and a second leave answer 404, which the client raises as NotFound."""
    agent_id = (await api.join(join_request("lobby-g1"))).agent_id
    await api.leave(agent_id)
    await emulator.advance_clock(5)
    with pytest.raises(errors.NotFoundError):
        await api.history(agent_id)
    with pytest.raises(errors.NotFoundError):
        await api.leave(agent_id)
