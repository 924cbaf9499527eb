"""Commands that only read get the last committed state without the lock a writer holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from reconciler.state import AgentRecord, open_state, read_state
from reconciler.state.sqlite import MIGRATIONS

RecordFactory = Callable[..., AgentRecord]


def test_an_absent_state_reads_as_empty_and_is_not_created(tmp_path: Path) -> None:
    """Reading never creates the state file."""
    path = tmp_path / "state.db"
    snapshot, key = read_state(path)
    assert (snapshot.serial, dict(snapshot.records), snapshot.intents) == (0, {}, ())
    assert len(key) == 32
    assert not path.exists()


def test_a_reader_sees_the_last_commit_while_a_writer_holds_the_lock(
    state_target: str, make_record: RecordFactory
) -> None:
    """A daemon holding the state (its lock or its lease) does not lock out status, plan or
    speak."""
    with open_state(state_target) as writer:
        writer.put_record(make_record("lobby"))
        snapshot, key = read_state(state_target)
        assert list(snapshot.records) == ["prod/lobby"]
        assert snapshot.serial == writer.snapshot().serial
        assert key == writer.secret_key()


def test_a_state_of_an_older_schema_is_migrated_once(tmp_path: Path) -> None:
    """A state written by an older reconciler is brought up to date, then read."""
    path = tmp_path / "state.db"
    with open_state(path):
        pass
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM schema_version WHERE version = ?", (len(MIGRATIONS),))
        connection.execute("DROP TABLE generations")
        connection.execute("ALTER TABLE intents DROP COLUMN generation")
    snapshot, _ = read_state(path)
    assert snapshot.generations == {}
