"""Apply archives an agent's history before a delete or a replace makes it leave, as asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from apply_e2e_harness import harness
from operator_harness import agent_id, converged, workspace
from structlog.testing import capture_logs

from reconciler import operate
from reconciler.manifest import load


def _lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_a_deleted_agent_leaves_its_history_behind(tmp_path: Path) -> None:
    """Its manifest entry is gone, so the directory comes from the record; the leave still runs."""
    archive_dir = tmp_path / "transcripts"
    world = harness.World(tmp_path)
    keep = {"hall": harness.agent("hall"), "desk": harness.agent("desk")}
    lobby = harness.agent("lobby", archiveHistory=str(archive_dir))
    await converged(world, {**keep, "lobby": lobby})
    await operate.speak(workspace(world), "lobby", "Goodbye, everyone!")
    gone = agent_id(world, "demo/lobby")
    await converged(world, keep)
    saved = archive_dir / "demo" / "lobby" / f"g1-{gone}.jsonl"
    assert _lines(saved) == [{"role": "assistant", "content": "Goodbye, everyone!"}]
    assert gone not in {a["agent_id"] for a in await world.live()}
    assert "demo/lobby" not in world.records()
    assert not (archive_dir / "demo" / "hall").exists()


async def test_a_replaced_agent_archives_the_generation_that_leaves(tmp_path: Path) -> None:
    """A channel move replaces the agent: generation 1's history is saved, generation 2 runs."""
    archive_dir = tmp_path / "transcripts"
    world = harness.World(tmp_path)
    keep = {"hall": harness.agent("hall"), "desk": harness.agent("desk")}
    await converged(
        world, {**keep, "lobby": harness.agent("lobby", archiveHistory=str(archive_dir))}
    )
    await operate.think(workspace(world), "lobby", "Is the lobby open?")
    first = agent_id(world, "demo/lobby")
    moved = harness.agent("lobby-2", archiveHistory=str(archive_dir))
    await converged(world, {**keep, "lobby": moved})
    assert _lines(archive_dir / "demo" / "lobby" / f"g1-{first}.jsonl") == [
        {"role": "user", "content": "[think API injected] Is the lobby open?"}
    ]
    record = world.records()["demo/lobby"]
    assert (record.generation, record.channel) == (2, "lobby-2")
    await world.assert_converged()


async def test_a_failed_archive_does_not_block_the_leave(tmp_path: Path) -> None:
    """The history endpoint fails: a warning is logged and the delete completes anyway."""
    world = harness.World(tmp_path)
    keep = {"hall": harness.agent("hall"), "desk": harness.agent("desk")}
    lobby = harness.agent("lobby", archiveHistory=str(tmp_path / "transcripts"))
    await converged(world, {**keep, "lobby": lobby})
    await world.fault(endpoint="history", status=400, reason="InvalidRequest")
    with capture_logs() as logs:
        await converged(world, keep)
    (event,) = [e for e in logs if e["event"] == "history_not_archived"]
    assert (event["key"], event["stage"]) == ("demo/lobby", "fetch")
    assert "demo/lobby" not in world.records()
    assert not (tmp_path / "transcripts").exists()
    await world.assert_converged()


async def test_without_archive_history_nothing_is_fetched(tmp_path: Path) -> None:
    """No ``archiveHistory``: a delete makes no history call at all."""
    world = harness.World(tmp_path)
    keep = {"hall": harness.agent("hall"), "desk": harness.agent("desk")}
    await converged(world, {**keep, "lobby": harness.agent("lobby")})
    await converged(world, keep)
    assert "history" not in await world.control("GET", "/counters")


def test_a_profile_gives_its_agents_an_archive_directory(tmp_path: Path) -> None:
    """``spec.archiveHistory`` on a Profile applies to its agents; an agent's own wins."""
    harness.write_fleet(
        tmp_path,
        {
            "lobby": {**harness.agent("lobby"), "profile": "voice"},
            "desk": {**harness.agent("desk"), "profile": "voice", "archiveHistory": "own"},
        },
    )
    profile = {
        "apiVersion": "reconciler/v1",
        "kind": "Profile",
        "metadata": {"name": "voice"},
        "spec": {"archiveHistory": "shared"},
    }
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    loaded = load.load_fleet(tmp_path)
    assert loaded.fleet is not None, loaded.diagnostics
    agents = loaded.fleet.agents
    assert (agents["demo/lobby"].archive_history, agents["demo/desk"].archive_history) == (
        "shared",
        "own",
    )
