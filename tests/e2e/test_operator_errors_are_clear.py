"""Each refusal of an operator command is its own error, raised before any needless call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from apply_e2e_harness import harness
from operator_harness import Recorder, agent_id, converged, workspace

from reconciler import operate
from reconciler.agora import wire

MLLM: dict[str, Any] = {
    "mllm": {
        "enable": True,
        "vendor": "openai",
        "api_key": "${env:OPENAI_API_KEY}",
        "params": {"model": "gpt-4o-realtime-preview"},
    }
}


@pytest.fixture
async def world(tmp_path: Path) -> Any:
    world = harness.World(tmp_path)
    await converged(
        world,
        {
            "lobby": harness.agent("lobby"),
            "desk": harness.agent("desk", uid="1002"),
            "realtime": harness.agent("realtime", uid="1003", properties=MLLM),
        },
    )
    return world


def _silent(world: Any) -> tuple[Recorder, operate.Workspace]:
    recorder = Recorder(world.transport)
    return recorder, workspace(world, transport=recorder)


async def test_an_unknown_name_suggests_the_closest_keys(world: Any) -> None:
    """A typo is refused before any call, with the key that was probably meant."""
    recorder, ws = _silent(world)
    with pytest.raises(operate.UnknownAgentError) as caught:
        await operate.speak(ws, "lobyy", "Hello")
    assert caught.value.suggestions == ("demo/lobby",)
    assert str(caught.value) == (
        "no agent 'lobyy' in the manifests or the state; did you mean demo/lobby?"
    )
    assert recorder.sent == []


async def test_a_name_that_is_nowhere_close_gets_no_suggestion(world: Any) -> None:
    """Nothing similar: no suggestion rather than a random one."""
    with pytest.raises(operate.UnknownAgentError) as caught:
        await operate.history(workspace(world), "zzz-unrelated")
    assert caught.value.suggestions == ()


async def test_a_short_name_two_projects_use_is_ambiguous(world: Any) -> None:
    """``lobby`` in projects demo and east: the error lists both keys; the full key works."""
    other = [
        {
            "apiVersion": "reconciler/v1",
            "kind": "Project",
            "metadata": {"name": "east"},
            "spec": {
                "appId": "${env:AGORA_APP_ID}",
                "customerId": "${env:AGORA_CUSTOMER_ID}",
                "customerSecret": "${env:AGORA_CUSTOMER_SECRET}",
            },
        },
        {
            "apiVersion": "reconciler/v1",
            "kind": "Agent",
            "metadata": {"name": "lobby", "project": "east"},
            "spec": harness.agent("east-lobby"),
        },
    ]
    (world.fleet / "east.yaml").write_text(yaml.safe_dump_all(other, sort_keys=False))
    recorder, ws = _silent(world)
    with pytest.raises(operate.AmbiguousAgentError) as caught:
        await operate.interrupt(ws, "lobby")
    assert caught.value.keys == ("demo/lobby", "east/lobby")
    assert recorder.sent == []
    done = await operate.interrupt(ws, "demo/lobby")
    assert done.key == "demo/lobby"


async def test_an_agent_never_started_is_not_running(tmp_path: Path) -> None:
    """A manifest entry apply never ran for has no agent: say so, and call nothing."""
    world = harness.World(tmp_path)
    harness.write_fleet(world.fleet, {"lobby": harness.agent("lobby")})
    recorder, ws = _silent(world)
    with pytest.raises(operate.AgentNotRunningError) as caught:
        await operate.history(ws, "lobby")
    assert caught.value.status is None
    assert "run `reconciler apply`" in str(caught.value)
    assert recorder.sent == []
    assert not world.state_path.exists()


async def test_a_failed_agent_is_not_spoken_to(world: Any) -> None:
    """Query finds the agent FAILED: the error names the status and speak is never sent."""
    failed = agent_id(world, "demo/desk")
    await world.control("POST", f"/agents/{failed}/fail", {"message": "LLM crashed"})
    recorder, ws = _silent(world)
    with pytest.raises(operate.AgentNotRunningError) as caught:
        await operate.speak(ws, "desk", "Hello")
    assert (caught.value.status, caught.value.agent_id) == ("FAILED", failed)
    assert str(caught.value) == f"demo/desk is not running: its agent {failed} is FAILED"
    assert recorder.calls("/speak") == []


async def test_an_agent_that_stops_before_the_call_is_reported_gone(world: Any) -> None:
    """A 404 to the command itself (it stopped after query) is the same clear error."""
    await world.fault(endpoint="think", status=404, reason="TaskNotFound", count=1)
    with pytest.raises(operate.AgentNotRunningError) as caught:
        await operate.think(workspace(world), "lobby", "Hello")
    assert caught.value.status == "GONE"
    assert "is gone" in str(caught.value)


async def test_speak_text_over_512_bytes_is_refused_before_any_call(world: Any) -> None:
    """The limit is in UTF-8 bytes: 257 two-byte characters are too many, 512 ASCII ones fit."""
    recorder, ws = _silent(world)
    with pytest.raises(operate.TextTooLongError) as caught:
        await operate.speak(ws, "lobby", "é" * 257)
    assert (caught.value.size, caught.value.limit) == (514, wire.SPEAK_TEXT_MAX_BYTES)
    assert recorder.sent == []
    done = await operate.speak(ws, "lobby", "a" * 512)
    assert done.key == "demo/lobby"


async def test_an_mllm_agent_is_not_asked_to_speak_but_can_think(world: Any) -> None:
    """Agora's speak does not support mllm: refused from the state's record, no call made."""
    recorder, ws = _silent(world)
    with pytest.raises(operate.SpeakNotSupportedError) as caught:
        await operate.speak(ws, "realtime", "Hello")
    assert caught.value.key == "demo/realtime"
    assert recorder.sent == []
    done = await operate.think(ws, "realtime", "Hello")
    assert done.key == "demo/realtime"
