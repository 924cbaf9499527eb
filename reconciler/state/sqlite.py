"""The embedded default state: one SQLite file, held under an exclusive lock.

Every mutation is one SQLite transaction with ``synchronous=FULL``, so a crash at any moment
leaves the state as of the last commit, never half of one. The schema carries its version and
grows only by appending to ``MIGRATIONS`` (kept in ``sqlite_migrations``); a file newer than this
code is refused, not guessed at. This module owns storage only: what the records mean lives in
``store``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import structlog

from reconciler.errors import StateError
from reconciler.state import lock, rows
from reconciler.state.sqlite_migrations import MIGRATIONS, migrate, schema_version
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

DEFAULT_STATE_PATH: Final = Path(".reconciler/state.db")

_RECORD_SELECT: Final = f"SELECT {', '.join(rows.RECORD_COLUMNS)} FROM records ORDER BY key"
_RECORD_UPSERT: Final = (
    f"INSERT OR REPLACE INTO records ({', '.join(rows.RECORD_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in rows.RECORD_COLUMNS)})"
)
_INTENT_SELECT: Final = f"SELECT {', '.join(rows.INTENT_COLUMNS)} FROM intents ORDER BY seq"
_INTENT_INSERT: Final = (
    f"INSERT INTO intents ({', '.join(rows.INTENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in rows.INTENT_COLUMNS)})"
)


def open_state(path: Path | None = None) -> SqliteStateStore:
    """Lock and open the state at ``path`` (default ``.reconciler/state.db``), creating it if new.

    Raises ``StateLockedError`` at once if another reconciler holds it, and ``StateError`` naming
    the path if the file is not a usable state.
    """
    path = DEFAULT_STATE_PATH if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create the directory of state {path}: {exc.strerror}") from exc
    real = _one_name(path)
    held = lock.acquire(lock.lock_path_for(real))
    try:
        connection = _connect(real, shown=path)
    except BaseException:
        held.release()
        raise
    return SqliteStateStore(connection=connection, held=held, path=path)


def _one_name(path: Path) -> Path:
    """The file ``path`` resolves to, refused when it has other hard links.

    SQLite keeps a database's WAL beside the name it was opened by, so a file with two names
    has two journals: a crash leaves commits in one that the other never sees, and replaying it
    later corrupts the file. A symlink has no such problem once resolved, so every path to one
    state shares one lock file and one WAL.
    """
    real = path.resolve()
    try:
        links = real.stat().st_nlink
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise StateError(f"cannot read state {path}: {exc.strerror}") from exc
    if links > 1:
        raise StateError(
            f"state {path} has {links} hard links: SQLite keeps its journal beside the name it "
            "is opened by, so each name would have its own and corrupt the state; keep one name "
            "and make the others symlinks"
        )
    return real


def read_state(path: Path | None = None) -> tuple[StateSnapshot, bytes]:
    """The state as of its last commit and its fingerprint key, read without taking the lock.

    For the commands that only read (plan, status, the operator commands), so that they work
    while a daemon or an apply holds the state; SQLite's WAL lets a reader see the last commit
    while a writer works. An absent state reads as empty and is not created; a state that needs
    a migration is opened the locking way once, which migrates it.
    """
    path = DEFAULT_STATE_PATH if path is None else path
    if not path.exists():
        return empty_snapshot(), os.urandom(32)
    try:
        connection = sqlite3.connect(f"{_one_name(path).as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StateError(f"cannot open state {path}: {exc}") from exc
    try:
        with contextlib.closing(connection):
            if schema_version(connection) == len(MIGRATIONS):
                connection.execute("BEGIN")
                return _read_snapshot(connection), _read_secret_key(connection)
    except sqlite3.Error as exc:
        raise StateError(f"state {path} is not a usable reconciler state: {exc}") from exc
    with open_state(path) as store:
        return store.snapshot(), store.secret_key()


def _read_snapshot(connection: sqlite3.Connection) -> StateSnapshot:
    """Everything but the key, read inside the caller's transaction so it is one commit's view."""
    lineage, serial = connection.execute("SELECT lineage, serial FROM state").fetchone()
    records = connection.execute(_RECORD_SELECT).fetchall()
    intents = connection.execute(_INTENT_SELECT).fetchall()
    generations = connection.execute("SELECT key, last FROM generations ORDER BY key")
    return StateSnapshot(
        lineage=lineage,
        serial=serial,
        records=sorted_records(rows.records_from_rows(records)),
        intents=tuple(rows.intent_from_row(row) for row in intents),
        generations=dict(generations.fetchall()),
    )


def _read_secret_key(connection: sqlite3.Connection) -> bytes:
    (key,) = connection.execute("SELECT secret_key FROM state").fetchone()
    return bytes(key)


def _connect(real: Path, *, shown: Path) -> sqlite3.Connection:
    """Open the state file ``real`` (named ``shown`` in messages), checked and migrated."""
    path = shown
    try:
        created = _create_private(real)
        lost_wal = _lost_wal(real)
        connection = sqlite3.connect(real, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StateError(f"cannot open state {path}: {exc}") from exc
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StateError(f"state {path} is corrupt: {'; '.join(problems[:3])}")
        empty = connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)
        if empty and not created:
            _warn_lost(path, "the file exists but holds no state (emptied, or its WAL is gone)")
        elif lost_wal:
            _warn_lost(path, "its WAL is gone after a crash, so it may miss its last commits")
        with _transaction(connection):
            migrate(connection, MIGRATIONS, path=path)
    except sqlite3.Error as exc:
        connection.close()
        raise StateError(f"state {path} is not a usable reconciler state: {exc}") from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _create_private(path: Path) -> bool:
    """Create a new state file readable by its owner only (it holds the fingerprint key);
    False when the file was already there.

    SQLite gives its ``-wal`` and ``-shm`` files the same mode as the database file.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    return True


def _lost_wal(path: Path) -> bool:
    """Whether a crash left the shared-memory index but someone deleted the WAL beside it.

    SQLite removes both when the last connection closes cleanly and leaves both after a crash;
    the lock is held, so no other writer is between them.
    """
    return path.with_name(f"{path.name}-shm").exists() and not (
        path.with_name(f"{path.name}-wal").exists()
    )


def _warn_lost(path: Path, why: str) -> None:
    """Say that the state lost what it held; the plan recovers live agents by their names."""
    structlog.get_logger(__name__).warning(
        "state_lost",
        path=str(path),
        detail=f"state {path}: {why}; agents this fleet started are recovered by their names",
    )


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error so nothing half-done lands."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


class SqliteStateStore(StateStore):
    """The state in one SQLite file, made by ``open_state``; holds its lock until ``close``."""

    def __init__(self, *, connection: sqlite3.Connection, held: lock.StateLock, path: Path) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._held = held
        self._path = path
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteStateStore(path={str(self._path)!r})"

    @property
    def path(self) -> Path:
        """The state file, for messages and for ``--state`` round trips."""
        return self._path

    def snapshot(self) -> StateSnapshot:
        with self._session() as connection, _transaction(connection):
            return _read_snapshot(connection)

    def version(self) -> tuple[str, int]:
        with self._session() as connection:
            lineage, serial = connection.execute("SELECT lineage, serial FROM state").fetchone()
            return str(lineage), int(serial)

    def secret_key(self) -> bytes:
        with self._session() as connection:
            return _read_secret_key(connection)

    def close(self) -> None:
        with self._mutex:
            if self._connection is None:
                return
            connection, self._connection = self._connection, None
            try:
                connection.close()
            finally:
                self._held.release()

    def restore(self, snapshot: StateSnapshot, *, secret_key: bytes) -> None:
        with self._session() as connection, _transaction(connection):
            for table in ("records", "intents", "generations"):
                connection.execute(f"DELETE FROM {table}")
            connection.execute(
                "UPDATE state SET lineage = ?, serial = ?, secret_key = ?",
                (snapshot.lineage, snapshot.serial, secret_key),
            )
            connection.executemany(_RECORD_UPSERT, map(rows.record_row, snapshot.records.values()))
            connection.executemany(_INTENT_INSERT, map(rows.intent_row, snapshot.intents))
            connection.executemany(
                "INSERT INTO generations (key, last) VALUES (?, ?)", snapshot.generations.items()
            )

    def _commit(self, mutation: Mutation) -> None:
        with self._session() as connection, _transaction(connection):
            _write(connection, mutation)

    def commit_group(self, mutations: Sequence[Mutation]) -> list[StateError | None]:
        """All of ``mutations`` in one transaction, so one flush to disk makes them all durable.

        Each runs inside its own savepoint: one that fails is rolled back alone and reported, the
        others commit. An SQLite error (a full disk, say) fails the whole group, which then
        changes nothing.
        """
        failures: list[StateError | None] = []
        with self._session() as connection, _transaction(connection):
            for mutation in mutations:
                connection.execute("SAVEPOINT mutation")
                try:
                    _write(connection, mutation)
                except StateError as exc:
                    connection.execute("ROLLBACK TO mutation")
                    failures.append(exc)
                else:
                    failures.append(None)
                connection.execute("RELEASE mutation")
        return failures

    @contextlib.contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        """The open connection, one caller at a time; SQLite failures become ``StateError``."""
        with self._mutex:
            if self._connection is None:
                raise closed_store()
            try:
                yield self._connection
            except sqlite3.Error as exc:
                raise StateError(f"state {self._path}: {exc}") from exc


def _write(connection: sqlite3.Connection, mutation: Mutation) -> None:
    """Write one mutation and step the serial, inside the caller's transaction."""
    added = None if mutation.add_intent is None else rows.intent_row(mutation.add_intent)
    put = [rows.record_row(record) for record in mutation.put]
    if mutation.remove_intent is not None:
        gone = connection.execute("DELETE FROM intents WHERE id = ?", (mutation.remove_intent,))
        if gone.rowcount != 1:
            raise unknown_intent(mutation.remove_intent)
    if added is not None:
        try:
            connection.execute(_INTENT_INSERT, added)
        except sqlite3.IntegrityError as exc:
            raise duplicate_intent(added[0]) from exc
    connection.executemany(_RECORD_UPSERT, put)
    if mutation.delete is not None:
        gone = connection.execute("DELETE FROM records WHERE key = ?", (mutation.delete,))
        if gone.rowcount != 1:
            raise unknown_record(mutation.delete)
    connection.executemany(
        "INSERT INTO generations (key, last) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET last = MAX(last, excluded.last)",
        used_generations(mutation).items(),
    )
    connection.execute("UPDATE state SET serial = serial + 1")
