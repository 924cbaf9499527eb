"""speak, interrupt, think and history reach the owned agent a manifest name stands for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_e2e_harness import harness
from operator_harness import Recorder, agent_id, client, converged, workspace

from reconciler import operate
from reconciler.agora import wire


@pytest.fixture
async def world(tmp_path: Path) -> Any:
    world = harness.World(tmp_path)
    await converged(
        world, {"lobby": harness.agent("lobby"), "desk": harness.agent("desk", uid="1002")}
    )
    return world


async def test_speak_by_short_name_reaches_the_recorded_agent(world: Any) -> None:
    """``lobby`` means ``demo/lobby``; the text lands in that agent's history."""
    done = await operate.speak(workspace(world), "lobby", "Welcome to the lobby!")
    assert done == operate.Done(
        action="speak", key="demo/lobby", agent_id=agent_id(world, "demo/lobby"), channel="lobby"
    )
    found = await operate.history(workspace(world), "demo/lobby")
    assert found.key == "demo/lobby"
    assert [(e.role, e.content) for e in found.response.contents] == [
        ("assistant", "Welcome to the lobby!")
    ]


async def test_speak_sends_priority_and_interruptable_only_when_given(world: Any) -> None:
    """Defaults are the API's: the body carries ``text`` alone unless options are given."""
    recorder = Recorder(world.transport)
    ws = workspace(world, transport=recorder)
    await operate.speak(ws, "lobby", "One")
    await operate.speak(ws, "lobby", "Two", priority=wire.SpeakPriority.APPEND, interruptable=False)
    assert recorder.calls("/speak") == [
        {"text": "One"},
        {"text": "Two", "priority": "APPEND", "interruptable": False},
    ]


async def test_think_is_taken_as_user_input(world: Any) -> None:
    """A thought shows in history as the user's, marked as injected through the API."""
    done = await operate.think(workspace(world), "desk", "Where is my order?")
    assert done.key == "demo/desk"
    found = await operate.history(workspace(world), "desk")
    assert [(e.role, e.content) for e in found.response.contents] == [
        ("user", "[think API injected] Where is my order?")
    ]


async def test_interrupt_cuts_the_current_turn(world: Any) -> None:
    """After speak, interrupt ends the agent's latest turn as interrupted by the API."""
    await operate.speak(workspace(world), "lobby", "A long announcement")
    done = await operate.interrupt(workspace(world), "lobby")
    assert done.action == "interrupt"
    async with client(world) as api:
        turns = await api.turns(agent_id(world, "demo/lobby"))
    assert turns.turns[-1].end is not None
    assert turns.turns[-1].end.type == "interrupted"


async def test_an_owned_agent_dropped_from_the_manifests_can_still_be_reached(
    world: Any,
) -> None:
    """Until apply deletes it, an owned agent's history can be pulled by its old name."""
    harness.write_fleet(world.fleet, {"lobby": harness.agent("lobby")})
    await operate.speak(workspace(world), "desk", "Closing soon")
    found = await operate.history(workspace(world), "desk")
    assert [e.content for e in found.response.contents] == ["Closing soon"]


async def test_operator_commands_never_join_update_or_leave(world: Any) -> None:
    """Only query and the command's own call reach the API; the state is not written."""
    before = world.snapshot().serial
    recorder = Recorder(world.transport)
    ws = workspace(world, transport=recorder)
    await operate.speak(ws, "lobby", "Hello")
    await operate.think(ws, "lobby", "Hi")
    await operate.interrupt(ws, "lobby")
    await operate.history(ws, "lobby")
    ends = [path.rsplit("/", 1)[-1] for _, path, _ in recorder.sent]
    lobby = agent_id(world, "demo/lobby")
    assert ends == [lobby, "speak", lobby, "think", lobby, "interrupt", lobby, "history"]
    assert world.snapshot().serial == before
