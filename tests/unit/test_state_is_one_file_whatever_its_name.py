"""One state file is one state, whatever path reaches it, and losing what it held is said aloud.

A symlink shares the lock of the file it points to; a file with a second hard link is refused
(SQLite would keep one WAL per name); a state emptied or stripped of its WAL says so when opened,
and the next apply recovers the fleet by name instead of joining beside it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from apply_harness import World, agent, write_fleet
from structlog.testing import capture_logs

from reconciler.errors import StateError, StateLockedError
from reconciler.state import open_state, read_state

_RECONCILER = str(Path(sys.executable).with_name("reconciler"))
_WRITE_THEN_DIE = """
import os, sys
from pathlib import Path
from reconciler.state import AgentRecord, open_state
store = open_state(Path(sys.argv[1]))
store.put_record(AgentRecord(
    key="prod/late", project="prod", remote_name="rc-prod--late-g1", generation=1,
    agent_id="A1", channel="late", agent_rtc_uid="1001", applied_properties={},
    spec_hash="sha256:x", token_expires_at=None, created_at=0.0, updated_at=0.0,
))
os._exit(0)
"""


def _sound(path: Path) -> bool:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_symlink_shares_the_lock_of_the_file_it_points_to(tmp_path: Path) -> None:
    """Two paths, one state: the second opener is told the state is held."""
    real = tmp_path / "real" / "state.db"
    link = tmp_path / "elsewhere" / "state.db"
    with open_state(real):
        link.parent.mkdir()
        link.symlink_to(real)
        with pytest.raises(StateLockedError):
            open_state(link)
    assert not (link.parent / "state.db.lock").exists()
    with open_state(link) as store:
        assert store.snapshot().serial == 0


async def test_two_applies_through_a_hard_link_are_refused_and_the_state_stays_sound(
    tmp_path: Path,
) -> None:
    """Neither name may act while the file has two: the message says why and what to do."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    assert (await world.apply()).code == 0
    link = tmp_path / "copy.db"
    os.link(world.state_path, link)
    env = {**os.environ, **world.environ, "AGORA_API_URL": "http://127.0.0.1:9"}
    ran = await asyncio.to_thread(
        subprocess.run,
        [_RECONCILER, "apply", str(world.fleet), "--state", str(link), "--auto-approve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 1
    assert "2 hard links" in ran.stderr
    assert "symlinks" in ran.stderr
    assert "Traceback" not in ran.stderr
    with pytest.raises(StateError, match="2 hard links"):
        await world.apply()
    with pytest.raises(StateError, match="hard links"):
        read_state(link)
    link.unlink()
    assert _sound(world.state_path)
    assert len(await world.live()) == 1
    await world.assert_converged()


def test_an_emptied_state_file_says_it_lost_its_state(tmp_path: Path) -> None:
    """A 0-byte file opens as a new lineage, with one warning naming the file."""
    path = tmp_path / "state.db"
    path.write_bytes(b"")
    with capture_logs() as logs, open_state(path) as store:
        assert store.snapshot().records == {}
    [event] = [e for e in logs if e["event"] == "state_lost"]
    assert event["log_level"] == "warning"
    assert "holds no state" in event["detail"]
    assert str(path) in event["detail"]


def test_a_new_state_file_opens_quietly(tmp_path: Path) -> None:
    """Creating the state is not losing one."""
    with capture_logs() as logs, open_state(tmp_path / "state.db"):
        pass
    assert [e for e in logs if e["event"] == "state_lost"] == []


def test_a_state_whose_wal_was_deleted_after_a_crash_says_so(tmp_path: Path) -> None:
    """The last checkpoint survives, and the opener is warned it may be behind."""
    path = tmp_path / "state.db"
    with open_state(path):
        pass
    subprocess.run([sys.executable, "-c", _WRITE_THEN_DIE, str(path)], check=True, timeout=60)
    path.with_name("state.db-wal").unlink()
    with capture_logs() as logs, open_state(path) as store:
        assert "prod/late" not in store.snapshot().records
    [event] = [e for e in logs if e["event"] == "state_lost"]
    assert "WAL is gone" in event["detail"]
