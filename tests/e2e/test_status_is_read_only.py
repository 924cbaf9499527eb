"""``status`` against the emulator: it sees drift and strangers, and only ever lists and queries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apply_e2e_harness import harness
from operator_harness import Recorder, converged, workspace

from reconciler import operate
from reconciler.plan.status import Drift


async def test_status_of_a_converged_fleet_is_all_in_sync(tmp_path: Path) -> None:
    """After apply every row is in sync, RUNNING, with the recorded agent and a minted token."""
    world = harness.World(tmp_path)
    await converged(world, {"lobby": harness.agent("lobby"), "desk": harness.agent("desk")})
    found = await operate.fleet_status(workspace(world), clock=world.clock.now)
    records = world.records()
    assert [(row.key, row.drift, row.status) for row in found.rows] == [
        ("demo/desk", Drift.IN_SYNC, "RUNNING"),
        ("demo/lobby", Drift.IN_SYNC, "RUNNING"),
    ]
    for row in found.rows:
        assert row.agent_id == records[row.key].agent_id
        assert row.remote_name == records[row.key].remote_name
        assert row.token_expires_at is not None
        assert row.token_expires_at > found.now
    assert found.others == ()


async def test_status_shows_drift_and_strangers_without_touching_anything(tmp_path: Path) -> None:
    """Edited manifests and a stranger's agent show up; only list and query are sent."""
    world = harness.World(tmp_path)
    await converged(world, {"lobby": harness.agent("lobby"), "desk": harness.agent("desk")})
    await world.control("POST", "/agents", {"agents": [{"name": "bot-x", "channel": "hall"}]})
    llm = {**harness.profile()["llm"], "params": {"model": "gpt-4o"}}
    edited = harness.agent("desk", properties={"llm": llm})
    harness.write_fleet(world.fleet, {"lobby": harness.agent("lobby", uid="1009"), "desk": edited})
    before = await world.agents()
    serial = world.snapshot().serial
    recorder = Recorder(world.transport)
    found = await operate.fleet_status(workspace(world, transport=recorder), clock=world.clock.now)
    assert {row.key: row.drift for row in found.rows} == {
        "demo/desk": Drift.TO_UPDATE,
        "demo/lobby": Drift.TO_REPLACE,
    }
    assert [(o.name, o.kind.value) for o in found.others] == [("bot-x", "unmanaged")]
    assert {method for method, _, _ in recorder.sent} == {"GET"}
    assert await world.agents() == before
    assert world.snapshot().serial == serial


async def test_status_without_a_state_file_does_not_create_one(tmp_path: Path) -> None:
    """No state yet: every desired agent is missing, and the state file is still absent."""
    world = harness.World(tmp_path)
    harness.write_fleet(world.fleet, {"lobby": harness.agent("lobby")})
    found: Any = await operate.fleet_status(workspace(world), clock=world.clock.now)
    assert [(row.key, row.drift, row.agent_id) for row in found.rows] == [
        ("demo/lobby", Drift.MISSING, None)
    ]
    assert not world.state_path.exists()
