"""``archive.save_history``: a JSON-lines file per generation; failures logged, never raised."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from apply_e2e_harness import harness
from operator_harness import agent_id, client, converged, workspace
from structlog.testing import capture_logs

from reconciler import operate
from reconciler.apply import archive


@pytest.fixture
async def world(tmp_path: Path) -> Any:
    world = harness.World(tmp_path)
    await converged(world, {"lobby": harness.agent("lobby")})
    return world


async def test_history_is_saved_as_json_lines_per_generation(world: Any, tmp_path: Path) -> None:
    """``DIR/<project>/<name>/g<generation>-<agent_id>.jsonl``, one entry per line, owner-only."""
    await operate.speak(workspace(world), "lobby", "Welcome!")
    await operate.think(workspace(world), "lobby", "Où est le café ?")
    lobby = agent_id(world, "demo/lobby")
    async with client(world) as api:
        saved = await archive.save_history(
            api, directory=tmp_path / "archive", key="demo/lobby", generation=1, agent_id=lobby
        )
    assert saved == tmp_path / "archive" / "demo" / "lobby" / f"g1-{lobby}.jsonl"
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"role": "assistant", "content": "Welcome!"},
        {"role": "user", "content": "[think API injected] Où est le café ?"},
    ]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


async def test_saving_a_generation_again_replaces_its_file(world: Any, tmp_path: Path) -> None:
    """The later history wins whole; no second file, no leftover temporary file."""
    lobby = agent_id(world, "demo/lobby")
    async with client(world) as api:
        first = await archive.save_history(
            api, directory=tmp_path / "a", key="demo/lobby", generation=1, agent_id=lobby
        )
        await operate.speak(workspace(world), "lobby", "Second")
        second = await archive.save_history(
            api, directory=tmp_path / "a", key="demo/lobby", generation=1, agent_id=lobby
        )
    assert first == second
    assert second is not None
    assert second.read_text() == '{"content": "Second", "role": "assistant"}\n'
    assert len(list(second.parent.iterdir())) == 1


async def test_an_agent_that_is_not_running_is_logged_not_raised(
    world: Any, tmp_path: Path
) -> None:
    """History exists only while the agent runs: a failed agent gives None and a warning."""
    lobby = agent_id(world, "demo/lobby")
    await world.control("POST", f"/agents/{lobby}/fail", {"message": "LLM crashed"})
    async with client(world) as api:
        with capture_logs() as logs:
            saved = await archive.save_history(
                api, directory=tmp_path / "a", key="demo/lobby", generation=1, agent_id=lobby
            )
    assert saved is None
    (event,) = [e for e in logs if e["event"] == "history_not_archived"]
    assert (event["stage"], event["error"], event["key"]) == (
        "fetch",
        "NotFoundError",
        "demo/lobby",
    )
    assert not (tmp_path / "a").exists()


async def test_a_directory_that_cannot_be_written_is_logged_not_raised(
    world: Any, tmp_path: Path
) -> None:
    """A file where the archive directory should be: None and a warning naming the path."""
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory")
    async with client(world) as api:
        with capture_logs() as logs:
            saved = await archive.save_history(
                api,
                directory=blocked,
                key="demo/lobby",
                generation=1,
                agent_id=agent_id(world, "demo/lobby"),
            )
    assert saved is None
    (event,) = [e for e in logs if e["event"] == "history_not_archived"]
    assert event["stage"] == "write"
    assert str(blocked) in event["detail"]


def test_an_agent_id_cannot_escape_the_archive_directory() -> None:
    """The API's id is opaque: anything but letters, digits, ``_`` and ``-`` becomes ``_``."""
    path = archive.archive_path(Path("arc"), key="prod/lobby", generation=2, agent_id="../A/B")
    assert path == Path("arc/prod/lobby/g2-___A_B.jsonl")
