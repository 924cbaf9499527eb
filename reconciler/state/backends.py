"""Open or read the state that ``--state`` names: an SQLite file, or a PostgreSQL schema.

The commands pass the location through untouched; only here is it told apart, so every command
works on either backend. Writers (``apply``, ``run``) open the state exclusively: the SQLite file
under its OS lock, the PostgreSQL state under a fenced lease. Readers (``plan``, ``status``, the
operator commands) take neither. The PostgreSQL driver is imported only when a shared state is
named, so commands on a file never pay for loading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, overload

from reconciler.state import sqlite
from reconciler.state.location import PostgresLocation, StateTarget, is_postgres, parse_location
from reconciler.state.store import StateSnapshot, StateStore

DEFAULT_LEASE_TTL: Final = 15.0
"""Seconds a shared state's lease outlives its holder's last renewal: how long a dead leader
keeps the others waiting."""


@overload
def open_state(where: Path | None = None) -> sqlite.SqliteStateStore: ...


@overload
def open_state(
    where: StateTarget | PostgresLocation | None = None, *, lease_ttl: float = DEFAULT_LEASE_TTL
) -> StateStore: ...


def open_state(
    where: StateTarget | PostgresLocation | None = None, *, lease_ttl: float = DEFAULT_LEASE_TTL
) -> StateStore:
    """Hold the state exclusively until ``close``, creating it if new (default: the SQLite file
    ``.reconciler/state.db``).

    Raises ``StateLockedError`` at once, naming the holder, when another reconciler holds it;
    ``lease_ttl`` is how long a PostgreSQL lease outlives its holder's last renewal.
    """
    location = _located(where)
    if isinstance(location, PostgresLocation):
        from reconciler.state import postgres

        return postgres.open_postgres(location, lease_ttl=lease_ttl)
    return sqlite.open_state(location)


def read_state(where: StateTarget | PostgresLocation | None = None) -> tuple[StateSnapshot, bytes]:
    """The state as of its last commit and its fingerprint key, read without lock or lease.

    An absent state reads as empty and is not created; one that needs a migration is opened
    the exclusive way once, which migrates it.
    """
    location = _located(where)
    if not isinstance(location, PostgresLocation):
        return sqlite.read_state(location)
    from reconciler.state import postgres

    read = postgres.read_postgres(location)
    if read is not None:
        return read
    with open_state(location) as store:
        return store.snapshot(), store.secret_key()


def anchor_path(where: StateTarget | None) -> Path:
    """What files kept beside the state (the git checkout) are placed by: the state file, or the
    default state file when none is named or the state is a PostgreSQL URL, which has no file."""
    if where is None or is_postgres(where):
        return sqlite.DEFAULT_STATE_PATH
    return Path(where)


def _located(where: StateTarget | PostgresLocation | None) -> Path | PostgresLocation:
    if where is None:
        return sqlite.DEFAULT_STATE_PATH
    return where if isinstance(where, PostgresLocation) else parse_location(where)
