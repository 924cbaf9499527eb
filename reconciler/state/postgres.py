"""The shared state: one schema of a PostgreSQL database, acted on under a fenced lease.

Pull-request plans, apply on merge and the daemon replicas of one fleet reach one truth here;
several fleets share a database, each in a schema of its own (``?schema=NAME``). Every record and
intent is a row, every mutation one transaction that first renews the writer's lease on its
epoch (``lease.fence``), so a deposed writer changes nothing. Readers take no lease: a
repeatable-read transaction is one commit's view. The schema carries its version and grows only
by appending to ``MIGRATIONS``, under an advisory lock so two first opens cannot race. Connections
come from a small pool that replaces broken ones, so a long-lived daemon outlives a server
restart. This module owns storage only: what the records mean lives in ``store``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Final

import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.rows import TupleRow

from reconciler.errors import StateError
from reconciler.state import lease, rows
from reconciler.state.location import PostgresLocation
from reconciler.state.store import (
    Mutation,
    StateSnapshot,
    StateStore,
    closed_store,
    duplicate_intent,
    empty_snapshot,
    sorted_records,
    unknown_intent,
    unknown_record,
    used_generations,
)

Cursor = psycopg.Cursor[TupleRow]

_CONNECT_TIMEOUT_SECONDS: Final = 10
_READ_ONLY: Final = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
"""The first statement of a read: one commit's view of every table."""


def _schema_v1(schema: str) -> tuple[sql.Composed, ...]:
    """Tables as in the SQLite store (generations included), plus the lease row."""
    statements = (
        """CREATE TABLE {s}.state (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            lineage text NOT NULL,
            serial bigint NOT NULL,
            secret_key bytea NOT NULL
        )""",
        """CREATE TABLE {s}.records (
            key text PRIMARY KEY,
            project text NOT NULL,
            remote_name text NOT NULL,
            generation integer NOT NULL,
            agent_id text,
            channel text NOT NULL,
            agent_rtc_uid text NOT NULL,
            applied_properties jsonb NOT NULL,
            spec_hash text NOT NULL,
            token_expires_at double precision,
            created_at double precision NOT NULL,
            updated_at double precision NOT NULL,
            git_revision text,
            status_hint text
        )""",
        """CREATE TABLE {s}.intents (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL UNIQUE,
            key text NOT NULL,
            project text NOT NULL,
            action text NOT NULL CHECK (action IN ('join', 'leave')),
            remote_name text NOT NULL,
            agent_id text,
            channel text NOT NULL,
            created_at double precision NOT NULL,
            payload jsonb NOT NULL,
            generation integer
        )""",
        "CREATE TABLE {s}.generations (key text PRIMARY KEY, last integer NOT NULL)",
    )
    return (*(_sql(schema, text) for text in statements), *lease.create_statements(schema))


MIGRATIONS: tuple[Callable[[str], tuple[sql.Composed, ...]], ...] = (_schema_v1,)
"""Migration N is ``MIGRATIONS[N - 1](schema)``, run in one transaction with its version row.
Never edit a released entry; append a new one."""

_JSON_COLUMNS: Final = frozenset({"applied_properties", "payload"})


def _sql(schema: str, template: str) -> sql.Composed:
    """``template`` with ``{s}`` naming the state's schema, quoted as an identifier."""
    return sql.SQL(template).format(s=sql.Identifier(schema))


def _select(schema: str, table: str, columns: tuple[str, ...], order: str) -> sql.Composed:
    """JSON columns come back as text, which ``rows`` decodes like the SQLite store's."""
    shown = ", ".join(f"{c}::text" if c in _JSON_COLUMNS else c for c in columns)
    return _sql(schema, f"SELECT {shown} FROM {{s}}.{table} ORDER BY {order}")


def _insert(schema: str, table: str, columns: tuple[str, ...]) -> str:
    values = ", ".join("%s::jsonb" if c in _JSON_COLUMNS else "%s" for c in columns)
    return f"INSERT INTO {{s}}.{table} ({', '.join(columns)}) VALUES ({values})"


class _Statements:
    """Every statement of one schema, composed once."""

    def __init__(self, schema: str) -> None:
        self.records = _select(schema, "records", rows.RECORD_COLUMNS, "key")
        self.intents = _select(schema, "intents", rows.INTENT_COLUMNS, "seq")
        self.generations = _sql(schema, "SELECT key, last FROM {s}.generations")
        self.state = _sql(schema, "SELECT lineage, serial FROM {s}.state")
        self.secret_key = _sql(schema, "SELECT secret_key FROM {s}.state")
        self.add_intent = _sql(schema, _insert(schema, "intents", rows.INTENT_COLUMNS))
        self.remove_intent = _sql(schema, "DELETE FROM {s}.intents WHERE id = %s")
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in rows.RECORD_COLUMNS[1:])
        self.put_record = _sql(
            schema,
            f"{_insert(schema, 'records', rows.RECORD_COLUMNS)} "
            f"ON CONFLICT (key) DO UPDATE SET {updates}",
        )
        self.delete_record = _sql(schema, "DELETE FROM {s}.records WHERE key = %s")
        self.use_generation = _sql(
            schema,
            "INSERT INTO {s}.generations (key, last) VALUES (%s, %s) ON CONFLICT (key) "
            "DO UPDATE SET last = GREATEST({s}.generations.last, EXCLUDED.last)",
        )
        self.bump_serial = _sql(schema, "UPDATE {s}.state SET serial = serial + 1")
        self.clear = _sql(schema, "TRUNCATE {s}.records, {s}.intents, {s}.generations")
        self.identity = _sql(
            schema, "UPDATE {s}.state SET lineage = %s, serial = %s, secret_key = %s"
        )


def open_postgres(where: PostgresLocation, *, lease_ttl: float) -> PostgresStateStore:
    """Connect, migrate, take the lease and open the pool; ``StateLockedError`` if it is held.

    A state that does not exist yet is created, schema and all, with a new lineage and key.
    """
    with _errors(where), _connect(where) as connection:
        with connection.transaction(), connection.cursor() as cursor:
            _migrate(cursor, where=where)
        with connection.transaction(), connection.cursor() as cursor:
            held = lease.acquire(cursor, schema=where.schema, ttl=lease_ttl)
            cursor.execute(_Statements(where.schema).secret_key)
            (secret_key,) = cursor.fetchone() or (b"",)
    if len(secret_key) != 32:
        raise StateError(f"state {where} is corrupt: its lineage, serial and key are missing")
    store = PostgresStateStore(where=where, held=held, secret_key=bytes(secret_key))
    try:
        store.start()
    except BaseException:
        store.close()
        raise
    return store


def read_postgres(where: PostgresLocation) -> tuple[StateSnapshot, bytes] | None:
    """The last committed state and its key without the lease; None when it must migrate first.

    A state that does not exist yet reads as empty and is not created.
    """
    with _errors(where), _connect(where) as connection, connection.cursor() as cursor:
        cursor.execute(_READ_ONLY)
        version = _schema_version(cursor, schema=where.schema)
        if version == 0:
            return empty_snapshot(), os.urandom(32)
        if version != len(MIGRATIONS):
            return None
        statements = _Statements(where.schema)
        snapshot = _read_snapshot(cursor, statements)
        cursor.execute(statements.secret_key)
        (secret_key,) = cursor.fetchone() or (b"",)
        return snapshot, bytes(secret_key)


@contextlib.contextmanager
def _errors(where: PostgresLocation) -> Iterator[None]:
    """Driver failures become one ``StateError`` naming the (masked) state."""
    try:
        yield
    except psycopg.Error as exc:
        raise StateError(f"state {where}: {_first_line(exc)}") from exc
    except psycopg_pool.PoolTimeout as exc:
        raise StateError(f"state {where}: no connection to the server: {exc}") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _connect_kwargs(where: PostgresLocation) -> dict[str, Any]:
    """Fail in seconds, not minutes, when the server is unreachable, unless the URL says."""
    given = psycopg.conninfo.conninfo_to_dict(where.conninfo)
    kwargs: dict[str, Any] = {"application_name": given.get("application_name", "reconciler")}
    if "connect_timeout" not in given:
        kwargs["connect_timeout"] = _CONNECT_TIMEOUT_SECONDS
    return kwargs


def _connect(where: PostgresLocation) -> psycopg.Connection[TupleRow]:
    return psycopg.connect(where.conninfo, **_connect_kwargs(where))


def _schema_version(cursor: Cursor, *, schema: str) -> int:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.schema_version",))
    if not (cursor.fetchone() or (False,))[0]:
        return 0
    cursor.execute(_sql(schema, "SELECT COALESCE(MAX(version), 0) FROM {s}.schema_version"))
    return int((cursor.fetchone() or (0,))[0])


def _migrate(cursor: Cursor, *, where: PostgresLocation) -> None:
    """Bring the schema to ``len(MIGRATIONS)``; a new state gets its lineage and secret key."""
    schema = where.schema
    cursor.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"reconciler:{schema}",)
    )
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s",
        (schema,),
    )
    tables = int((cursor.fetchone() or (0,))[0])
    current = _schema_version(cursor, schema=schema)
    if tables and not current:
        raise StateError(
            f"state {where}: schema {schema!r} holds tables but is not a reconciler state"
        )
    if current > len(MIGRATIONS):
        raise StateError(
            f"state {where} has schema version {current}, newer than the {len(MIGRATIONS)} "
            "this reconciler knows; upgrade reconciler to use it"
        )
    if current == len(MIGRATIONS):
        return
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cursor.fetchone() is None:
        # Only when missing: a schema an administrator made (and granted) needs no CREATE on
        # the database, which CREATE SCHEMA IF NOT EXISTS would still ask for.
        cursor.execute(_sql(schema, "CREATE SCHEMA {s}"))
    cursor.execute(
        _sql(
            schema,
            "CREATE TABLE IF NOT EXISTS {s}.schema_version "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
    )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        for statement in MIGRATIONS[version - 1](schema):
            cursor.execute(statement)
        cursor.execute(
            _sql(schema, "INSERT INTO {s}.schema_version (version) VALUES (%s)"), (version,)
        )
    if current == 0:
        cursor.execute(
            _sql(schema, "INSERT INTO {s}.state (lineage, serial, secret_key) VALUES (%s, 0, %s)"),
            (str(uuid.uuid4()), os.urandom(32)),
        )


def _read_snapshot(cursor: Cursor, statements: _Statements) -> StateSnapshot:
    """Everything but the key, read inside the caller's repeatable-read transaction."""
    cursor.execute(statements.state)
    lineage, serial = cursor.fetchone() or ("", 0)
    cursor.execute(statements.records)
    records = cursor.fetchall()
    cursor.execute(statements.intents)
    intents = cursor.fetchall()
    cursor.execute(statements.generations)
    generations: dict[str, int] = dict(sorted(cursor.fetchall()))
    return StateSnapshot(
        lineage=lineage,
        serial=serial,
        records=sorted_records(rows.records_from_rows(records)),
        intents=tuple(rows.intent_from_row(row) for row in intents),
        generations=generations,
    )


class PostgresStateStore(StateStore):
    """A PostgreSQL state held under a lease, made by ``open_postgres``; ``close`` releases it."""

    def __init__(
        self, *, where: PostgresLocation, held: lease.HeldLease, secret_key: bytes
    ) -> None:
        self._where = where
        self._held = held
        self._secret_key = secret_key
        self._statements = _Statements(where.schema)
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[TupleRow]] | None = (
            psycopg_pool.ConnectionPool(
                where.conninfo,
                min_size=1,
                max_size=2,
                open=False,
                kwargs=_connect_kwargs(where),
                check=psycopg_pool.ConnectionPool.check_connection,
                name="reconciler-state",
                timeout=_CONNECT_TIMEOUT_SECONDS,
            )
        )
        self._heartbeat = lease.Heartbeat(renew=self._renew, ttl=held.ttl)

    def __repr__(self) -> str:
        return f"PostgresStateStore(state={self._where.shown!r}, epoch={self._held.epoch})"

    @property
    def location(self) -> PostgresLocation:
        """Where the state lives, for messages and for ``--state`` round trips."""
        return self._where

    @property
    def epoch(self) -> int:
        """The fencing epoch of the lease this store holds."""
        return self._held.epoch

    def start(self) -> None:
        """Open the pool and start renewing the lease."""
        with _errors(self._where):
            assert self._pool is not None
            self._pool.open(wait=True, timeout=_CONNECT_TIMEOUT_SECONDS)
        self._heartbeat.start()

    def snapshot(self) -> StateSnapshot:
        with self._session() as cursor:
            cursor.execute(_READ_ONLY)
            return _read_snapshot(cursor, self._statements)

    def version(self) -> tuple[str, int]:
        with self._session() as cursor:
            cursor.execute(self._statements.state)
            lineage, serial = cursor.fetchone() or ("", 0)
            return str(lineage), int(serial)

    def secret_key(self) -> bytes:
        if self._pool is None:
            raise closed_store()
        return self._secret_key

    def close(self) -> None:
        if self._pool is None:
            return
        self._heartbeat.stop()
        pool, self._pool = self._pool, None
        try:
            with _errors(self._where), pool.connection() as connection, connection.cursor() as cur:
                lease.release(cur, schema=self._where.schema, held=self._held)
        except StateError:
            pass  # an unreachable server lets the lease expire on its own
        finally:
            pool.close()

    def check_held(self) -> None:
        self._renew()

    def restore(self, snapshot: StateSnapshot, *, secret_key: bytes) -> None:
        done = self._statements
        with self._session() as cursor:
            lease.fence(cursor, schema=self._where.schema, held=self._held, state=self._where.shown)
            cursor.execute(done.clear)
            cursor.execute(done.identity, (snapshot.lineage, snapshot.serial, secret_key))
            cursor.executemany(done.put_record, map(rows.record_row, snapshot.records.values()))
            cursor.executemany(done.add_intent, map(rows.intent_row, snapshot.intents))
            cursor.executemany(done.use_generation, snapshot.generations.items())
        self._secret_key = secret_key

    def _renew(self) -> None:
        with self._session() as cursor:
            lease.fence(cursor, schema=self._where.schema, held=self._held, state=self._where.shown)

    def _commit(self, mutation: Mutation) -> None:
        statements = self._statements
        added = None if mutation.add_intent is None else rows.intent_row(mutation.add_intent)
        put = [rows.record_row(record) for record in mutation.put]
        with self._session() as cursor:
            lease.fence(cursor, schema=self._where.schema, held=self._held, state=self._where.shown)
            if mutation.remove_intent is not None:
                cursor.execute(statements.remove_intent, (mutation.remove_intent,))
                if cursor.rowcount != 1:
                    raise unknown_intent(mutation.remove_intent)
            if added is not None:
                try:
                    cursor.execute(statements.add_intent, added)
                except psycopg.errors.UniqueViolation as exc:
                    raise duplicate_intent(added[0]) from exc
            if put:
                cursor.executemany(statements.put_record, put)
            if mutation.delete is not None:
                cursor.execute(statements.delete_record, (mutation.delete,))
                if cursor.rowcount != 1:
                    raise unknown_record(mutation.delete)
            used = list(used_generations(mutation).items())
            if used:
                cursor.executemany(statements.use_generation, used)
            cursor.execute(statements.bump_serial)

    @contextlib.contextmanager
    def _session(self) -> Iterator[Cursor]:
        """A pooled connection in one transaction, committed on success and rolled back on any
        error; driver failures become ``StateError``."""
        pool = self._pool
        if pool is None:
            raise closed_store()
        with _errors(self._where), pool.connection() as connection, connection.cursor() as cursor:
            yield cursor
