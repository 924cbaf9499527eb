"""The SQLite state's schema: its migrations in order, and the step that brings a file up to date.

A file's version is the highest row of its ``schema_version`` table; migration N is
``MIGRATIONS[N - 1]``. Entries are only ever appended. This module knows tables, not records: it
does not read or write agents or intents (``sqlite`` does), and it opens no file and no
transaction of its own, so a migration lands or not with the caller's commit.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from reconciler.errors import StateError

_SCHEMA_V1: Final = (
    """CREATE TABLE state (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        lineage TEXT NOT NULL,
        serial INTEGER NOT NULL,
        secret_key BLOB NOT NULL
    )""",
    """CREATE TABLE records (
        key TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        remote_name TEXT NOT NULL,
        generation INTEGER NOT NULL,
        agent_id TEXT,
        channel TEXT NOT NULL,
        agent_rtc_uid TEXT NOT NULL,
        applied_properties TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        token_expires_at REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        git_revision TEXT,
        status_hint TEXT
    )""",
    """CREATE TABLE intents (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        key TEXT NOT NULL,
        project TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('join', 'leave')),
        remote_name TEXT NOT NULL,
        agent_id TEXT,
        channel TEXT NOT NULL,
        created_at REAL NOT NULL,
        payload TEXT NOT NULL
    )""",
)

_GENERATIONS_V2: Final = (
    "ALTER TABLE intents ADD COLUMN generation INTEGER",
    "CREATE TABLE generations (key TEXT PRIMARY KEY, last INTEGER NOT NULL)",
    "INSERT INTO generations (key, last) SELECT key, generation FROM records",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_SCHEMA_V1, _GENERATIONS_V2)
"""Migration N is ``MIGRATIONS[N - 1]``: statements run in one transaction with its version row.
Never edit a released entry; append a new one."""

VERSION_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)"
)


def schema_version(connection: sqlite3.Connection) -> int:
    """The version the open file is at; 0 for a file with no ``schema_version`` table yet."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "schema_version" not in tables:
        return 0
    (version,) = connection.execute(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version"
    ).fetchone()
    return int(version)


def migrate(
    connection: sqlite3.Connection, migrations: Sequence[tuple[str, ...]], *, path: Path
) -> None:
    """Bring the schema to ``len(migrations)`` inside the caller's transaction; a new state gets
    its identity.

    The caller passes the list it knows (normally ``MIGRATIONS``), so the version it checks a
    file against and the steps it runs are the same list.
    """
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if tables and "schema_version" not in tables:
        raise StateError(f"{path} is an SQLite file but not a reconciler state")
    connection.execute(VERSION_TABLE)
    current = schema_version(connection)
    if current > len(migrations):
        raise StateError(
            f"state {path} has schema version {current}, newer than the {len(migrations)} "
            "this reconciler knows; upgrade reconciler to use it"
        )
    for version in range(current + 1, len(migrations) + 1):
        for statement in migrations[version - 1]:
            connection.execute(statement)
        connection.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (version, datetime.now(UTC).isoformat(timespec="seconds")),
        )
    if current == 0:
        connection.execute(
            "INSERT INTO state (singleton, lineage, serial, secret_key) VALUES (1, ?, 0, ?)",
            (str(uuid.uuid4()), os.urandom(32)),
        )
    if connection.execute("SELECT COUNT(*) FROM state").fetchone() != (1,):
        raise StateError(f"state {path} is corrupt: its lineage and serial are missing")
