"""The PostgreSQL state: named by a URL, one schema per fleet, readable without the lease."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from reconciler.errors import StateError, StateLockedError
from reconciler.state import (
    AgentRecord,
    Intent,
    PostgresLocation,
    open_state,
    parse_location,
    read_state,
)
from reconciler.state import postgres as backend
from reconciler.state.postgres import PostgresStateStore

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]


def _schema_of(url: str) -> str:
    location = parse_location(url)
    assert isinstance(location, PostgresLocation)
    return location.schema


def test_a_url_selects_postgresql_and_anything_else_is_a_file() -> None:
    """``postgresql://`` and ``postgres://`` are the shared backend; other text is a path."""
    assert parse_location("state.db") == Path("state.db")
    assert parse_location(Path("postgresql-notes.db")) == Path("postgresql-notes.db")
    for scheme in ("postgresql", "postgres", "PostgreSQL"):
        location = parse_location(f"{scheme}://ops@db.internal/fleets")
        assert isinstance(location, PostgresLocation)
        assert location.schema == "reconciler"


def test_the_schema_parameter_is_kept_from_libpq_and_checked() -> None:
    """``schema=`` names the fleet's schema; the other parameters go on to the driver."""
    location = parse_location("postgresql://ops@db/fleets?sslmode=require&schema=team_a")
    assert isinstance(location, PostgresLocation)
    assert (location.schema, location.conninfo) == (
        "team_a",
        "postgresql://ops@db/fleets?sslmode=require",
    )
    with pytest.raises(StateError, match="schema 'Team-A' must be lower-case"):
        parse_location("postgresql://ops@db/fleets?schema=Team-A")
    with pytest.raises(StateError, match="at most once"):
        parse_location("postgresql://ops@db/fleets?schema=a&schema=b")


def test_a_password_is_never_shown() -> None:
    """The URL's password, in the user part or a parameter, is masked in every rendering."""
    for url in (
        "postgresql://ops:hunter2@db:5432/fleets?schema=a",
        "postgresql://ops@db/fleets?password=hunter2&schema=a",
    ):
        location = parse_location(url)
        assert isinstance(location, PostgresLocation)
        for shown in (str(location), repr(location), location.shown):
            assert "hunter2" not in shown
            assert "***" in shown or "conninfo" not in shown
        assert "hunter2" in location.conninfo


def test_a_wrong_password_is_one_error_without_the_password(postgres_url: str) -> None:
    """A state the server refuses is a StateError naming the masked URL."""
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    url = f"postgresql://nobody:hunter2@127.0.0.1:{port}/postgres?schema=a"
    with pytest.raises(StateError) as caught:
        open_state(url)
    assert "nobody:***@127.0.0.1" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_an_unreachable_server_fails_fast_with_a_clear_error() -> None:
    """Nothing listens on the port: the error names the state, not a traceback."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(StateError, match=rf"state postgresql://ops@127.0.0.1:{port}/db: "):
        read_state(f"postgresql://ops@127.0.0.1:{port}/db")


def test_two_schemas_in_one_database_are_two_states(
    postgres_state: str, make_record: RecordFactory
) -> None:
    """Fleets sharing a database never see each other's records, lineage or key."""
    other = postgres_state.rsplit("=", 1)[0] + "=" + _schema_of(postgres_state) + "_other"
    with open_state(postgres_state) as one, open_state(other) as two:
        one.put_record(make_record("lobby"))
        assert dict(two.snapshot().records) == {}
        assert one.snapshot().lineage != two.snapshot().lineage
        assert one.secret_key() != two.secret_key()


def test_reopening_keeps_everything(
    postgres_state: str, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    """Lineage, serial, secret key, records, intents and generations survive a reopen."""
    with open_state(postgres_state) as store:
        store.put_records([make_record("a"), make_record("b", generation=4)])
        store.record_intent(make_intent("i-1", name="c", generation=2))
        before, key = store.snapshot(), store.secret_key()
    with open_state(postgres_state) as store:
        assert store.snapshot() == before
        assert store.secret_key() == key
        assert store.snapshot().generations == {"prod/a": 1, "prod/b": 4, "prod/c": 2}


def test_an_absent_state_reads_as_empty_and_is_not_created(postgres_state: str) -> None:
    """Reading a schema that does not exist creates nothing."""
    snapshot, key = read_state(postgres_state)
    assert (snapshot.serial, dict(snapshot.records), snapshot.lineage) == (0, {}, "")
    assert len(key) == 32
    url = postgres_state.split("?", 1)[0]
    with psycopg.connect(url) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (_schema_of(postgres_state),)
        ).fetchone()
    assert found is None


def test_a_second_writer_is_told_who_holds_the_lease(postgres_state: str) -> None:
    """Like the SQLite lock: a second open fails at once, naming pid, host and start time."""
    with open_state(postgres_state) as first:
        assert isinstance(first, PostgresStateStore)
        with pytest.raises(StateLockedError) as caught:
            open_state(postgres_state)
        assert (caught.value.pid, caught.value.host) == (os.getpid(), socket.gethostname())
    open_state(postgres_state).close()


def test_a_newer_schema_is_refused(postgres_state: str) -> None:
    """A state migrated by a newer reconciler is not guessed at."""
    open_state(postgres_state).close()
    schema = _schema_of(postgres_state)
    with psycopg.connect(postgres_state.split("?", 1)[0]) as connection:
        connection.execute(f"INSERT INTO {schema}.schema_version (version) VALUES (99)")
    with pytest.raises(StateError, match=r"schema version 99, newer than .* upgrade reconciler"):
        open_state(postgres_state)
    with pytest.raises(StateError, match="schema version 99"):
        read_state(postgres_state)


def test_a_foreign_schema_is_refused(postgres_state: str) -> None:
    """A schema some other program uses is not turned into a state."""
    schema = _schema_of(postgres_state)
    with psycopg.connect(postgres_state.split("?", 1)[0]) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(f"CREATE TABLE {schema}.photos (id integer)")
    with pytest.raises(StateError, match="not a reconciler state"):
        open_state(postgres_state)


def test_every_migration_is_recorded(postgres_state: str) -> None:
    """A new state is at the latest version, each version recorded once."""
    open_state(postgres_state).close()
    schema = _schema_of(postgres_state)
    with psycopg.connect(postgres_state.split("?", 1)[0]) as connection:
        versions = connection.execute(
            f"SELECT version FROM {schema}.schema_version ORDER BY version"
        ).fetchall()
    assert [version for (version,) in versions] == list(range(1, len(backend.MIGRATIONS) + 1))


def test_the_store_repr_never_shows_the_password_or_key(postgres_state: str) -> None:
    """Printing the store names the state, not its secrets."""
    with open_state(postgres_state) as store:
        shown, key = repr(store), store.secret_key()
    assert _schema_of(postgres_state) in shown
    assert key.hex() not in shown


def test_a_role_without_create_on_the_database_uses_a_schema_made_for_it(
    postgres_state: str,
) -> None:
    """An administrator may make the schema and grant it; the state then needs nothing more."""
    schema = _schema_of(postgres_state)
    role = f"r_{schema}"
    admin_url, query = postgres_state.split("?", 1)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"CREATE ROLE {role} LOGIN")
        connection.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {role}")
    as_role = admin_url.replace("//reconciler@", f"//{role}@") + "?" + query
    with open_state(as_role) as store:
        assert store.snapshot().serial == 0
    elsewhere = as_role.replace(f"schema={schema}", f"schema={schema}_x")
    with pytest.raises(StateError, match="permission denied for database"):
        open_state(elsewhere)


def test_a_state_without_its_identity_row_is_refused(postgres_state: str) -> None:
    """A state whose lineage, serial and key were deleted is not reopened with an empty key."""
    open_state(postgres_state).close()
    schema = _schema_of(postgres_state)
    with psycopg.connect(postgres_state.split("?", 1)[0]) as connection:
        connection.execute(f"DELETE FROM {schema}.state")
    with pytest.raises(StateError, match="is corrupt"):
        open_state(postgres_state)
