"""The state file carries its schema version, migrates forward, and refuses what it cannot trust."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import StateError
from reconciler.state import AgentRecord, Intent, open_state, sqlite

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]


def _versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT version FROM schema_version ORDER BY version")
        return [version for (version,) in rows]


def _execute(path: Path, statement: str) -> None:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(statement)
    connection.close()


def test_a_new_state_is_at_the_latest_schema_version(tmp_path: Path) -> None:
    """Creating a state applies every migration and records each version."""
    path = tmp_path / "state.db"
    open_state(path).close()
    assert _versions(path) == list(range(1, len(sqlite.MIGRATIONS) + 1))


def test_an_older_state_is_migrated_and_keeps_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_record: RecordFactory
) -> None:
    """A state written before a new migration gains it on open, with records and identity kept."""
    path = tmp_path / "state.db"
    with open_state(path) as store:
        store.put_record(make_record())
        before = store.snapshot()
    upgrade = ("ALTER TABLE records ADD COLUMN owner_note TEXT",)
    monkeypatch.setattr(sqlite, "MIGRATIONS", (*sqlite.MIGRATIONS, upgrade))
    with open_state(path) as store:
        assert store.snapshot() == before
    assert _versions(path)[-1] == len(sqlite.MIGRATIONS)
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(records)")]
    assert "owner_note" in columns


def test_a_newer_state_is_refused(tmp_path: Path) -> None:
    """A file written by a newer reconciler is not guessed at; the error says to upgrade."""
    path = tmp_path / "state.db"
    open_state(path).close()
    _execute(path, "INSERT INTO schema_version (version, applied_at) VALUES (99, 'later')")
    with pytest.raises(StateError, match=r"schema version 99, newer than .* upgrade reconciler"):
        open_state(path)


def test_garbage_bytes_are_refused_naming_the_file(tmp_path: Path) -> None:
    """A file that is not SQLite at all gives a StateError with its path, not a traceback."""
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database, just some bytes\x00\xff" * 200)
    with pytest.raises(StateError, match=str(path)):
        open_state(path)


def test_a_failed_open_releases_the_lock(tmp_path: Path) -> None:
    """After refusing a corrupt file, the lock is free: a repaired file opens at once."""
    path = tmp_path / "state.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StateError):
        open_state(path)
    path.unlink()
    open_state(path).close()


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    """An SQLite file of some other program is not turned into a state."""
    path = tmp_path / "state.db"
    _execute(path, "CREATE TABLE photos (id INTEGER)")
    with pytest.raises(StateError, match="not a reconciler state"):
        open_state(path)


def test_a_damaged_record_is_reported_by_key(tmp_path: Path, make_record: RecordFactory) -> None:
    """A record whose JSON was damaged names itself instead of yielding half a value."""
    path = tmp_path / "state.db"
    with open_state(path) as store:
        store.put_record(make_record())
    _execute(path, "UPDATE records SET applied_properties = '{\"llm\": ' WHERE key = 'prod/lobby'")
    with open_state(path) as store, pytest.raises(StateError, match="'prod/lobby' is corrupt"):
        store.snapshot()


def test_a_damaged_intent_is_reported_by_id(tmp_path: Path, make_intent: IntentFactory) -> None:
    """An intent whose fields no longer hang together names itself."""
    path = tmp_path / "state.db"
    with open_state(path) as store:
        store.record_intent(make_intent("i-1"))
    _execute(path, "UPDATE intents SET key = 'elsewhere/lobby' WHERE id = 'i-1'")
    with open_state(path) as store, pytest.raises(StateError, match="'i-1' is corrupt"):
        store.snapshot()


MARKER = "do-not-quote-me"


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("applied_properties", f'\'{{"llm": {{"{MARKER}": \'', "applied_properties is not JSON ("),
        ("applied_properties", f"'[\"{MARKER}\", 1, 2]'", "applied_properties is a list, not a"),
        ("generation", f"'{MARKER}'", "generation is a str, expected int"),
        ("token_expires_at", f"'{MARKER}'", "token_expires_at is a str, expected float or int or"),
        ("channel", "X'00ff'", "channel is a bytes, expected str"),
    ],
)
def test_a_damaged_row_names_its_key_and_column_never_its_content(
    tmp_path: Path, make_record: RecordFactory, column: str, value: str, problem: str
) -> None:
    """The message says which record, which column and what is wrong, and quotes nothing."""
    path = tmp_path / "state.db"
    with open_state(path) as store:
        store.put_record(make_record())
    _execute(path, f"UPDATE records SET {column} = {value} WHERE key = 'prod/lobby'")
    with open_state(path) as store, pytest.raises(StateError) as raised:
        store.snapshot()
    message = str(raised.value)
    assert message.startswith("state record 'prod/lobby' is corrupt: ")
    assert problem in message
    assert MARKER not in message
    assert raised.value.__cause__ is None


def test_a_key_holding_a_blob_is_shown_cut_short(
    tmp_path: Path, make_intent: IntentFactory
) -> None:
    """Whatever was written into the key column, the message stays one short line."""
    path = tmp_path / "state.db"
    with open_state(path) as store:
        store.record_intent(make_intent("i-1"))
    blob = "{" + ", ".join(f'"k{i}": "{MARKER}"' for i in range(200)) + "}"
    _execute(path, f"UPDATE intents SET key = '{blob}' WHERE id = 'i-1'")
    with open_state(path) as store, pytest.raises(StateError) as raised:
        store.snapshot()
    assert str(raised.value).startswith("state intent 'i-1' is corrupt: ")
    assert len(str(raised.value)) < 300
