"""The lease that lets exactly one reconciler act on a shared state, with a fencing epoch.

A lock held by a process dies with it; a lease held over the network must expire instead, and
then a holder that was only paused (or cut off) may come back believing it still acts. So the
lease row carries a monotonic ``epoch``: taking the lease bumps it, and every write of records and
intents first renews the lease *on the epoch it holds*, in the same transaction, holding the row
lock until commit. A holder whose lease was taken over finds a higher epoch, writes nothing and
raises ``StateLeaseLostError``. Times are the server's (``clock_timestamp()``), so the holders'
clocks never need to agree. This module knows the lease row only, not records or intents.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import structlog
from psycopg import sql
from psycopg.rows import TupleRow

from reconciler.errors import StateError, StateLeaseLostError, StateLockedError

_log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class HeldLease:
    """A lease this process took: its random holder id and the epoch every write is fenced on."""

    holder: str
    epoch: int
    ttl: float


def create_statements(schema: str) -> tuple[sql.Composed, ...]:
    """The lease row of a new state: epoch 0, held by nobody, long expired."""
    table = sql.Identifier(schema, "lease")
    return (
        sql.SQL(
            """CREATE TABLE {} (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                epoch bigint NOT NULL,
                holder text,
                pid integer,
                host text,
                since timestamptz,
                expires_at timestamptz NOT NULL
            )"""
        ).format(table),
        sql.SQL("INSERT INTO {} (epoch, expires_at) VALUES (0, '-infinity')").format(table),
    )


def acquire(cursor: psycopg.Cursor[TupleRow], *, schema: str, ttl: float) -> HeldLease:
    """Take the lease in the caller's transaction, or raise ``StateLockedError`` naming its holder.

    A lease whose holder released it or let it expire is free; taking it bumps the epoch, so
    whoever held it before can no longer write.
    """
    table = sql.Identifier(schema, "lease")
    cursor.execute(
        sql.SQL(
            "SELECT holder, pid, host, since, expires_at > clock_timestamp() FROM {} FOR UPDATE"
        ).format(table)
    )
    row = cursor.fetchone()
    if row is None:
        raise StateError("the state has no lease row; it is damaged")
    holder, pid, host, since, live = row
    if holder is not None and live:
        raise StateLockedError(pid=pid, host=host, since=since.isoformat(timespec="seconds"))
    me = uuid.uuid4().hex
    cursor.execute(
        sql.SQL(
            "UPDATE {} SET epoch = epoch + 1, holder = %s, pid = %s, host = %s, "
            "since = clock_timestamp(), expires_at = clock_timestamp() + make_interval(secs => %s) "
            "RETURNING epoch"
        ).format(table),
        (me, os.getpid(), socket.gethostname(), ttl),
    )
    (epoch,) = cursor.fetchone() or (None,)
    _log.info("state_lease_acquired", epoch=epoch, ttl_s=ttl)
    return HeldLease(holder=me, epoch=epoch, ttl=ttl)


def fence(cursor: psycopg.Cursor[TupleRow], *, schema: str, held: HeldLease, state: str) -> None:
    """Renew the lease on the epoch ``held``, locking its row until the caller's commit.

    Raises ``StateLeaseLostError`` when another holder took it over: the caller must roll back.
    """
    table = sql.Identifier(schema, "lease")
    cursor.execute(
        sql.SQL(
            "UPDATE {} SET expires_at = clock_timestamp() + make_interval(secs => %s) "
            "WHERE epoch = %s AND holder = %s"
        ).format(table),
        (held.ttl, held.epoch, held.holder),
    )
    if cursor.rowcount == 1:
        return
    cursor.execute(sql.SQL("SELECT epoch, holder FROM {}").format(table))
    current, holder = cursor.fetchone() or (None, None)
    raise StateLeaseLostError(
        state=state, epoch=held.epoch, current=None if holder is None else current
    )


def release(cursor: psycopg.Cursor[TupleRow], *, schema: str, held: HeldLease) -> None:
    """Give the lease up at once (the epoch stays), if it is still ours."""
    cursor.execute(
        sql.SQL(
            "UPDATE {} SET holder = NULL, pid = NULL, host = NULL, since = NULL, "
            "expires_at = '-infinity' WHERE epoch = %s AND holder = %s"
        ).format(sql.Identifier(schema, "lease")),
        (held.epoch, held.holder),
    )
    if cursor.rowcount == 1:
        _log.info("state_lease_released", epoch=held.epoch)


class Heartbeat:
    """Renews a held lease every third of its TTL from a thread of its own.

    A thread, not a task: a pass that blocks the event loop for a while must not cost the lease.
    A failed renewal (the server unreachable) is retried at the next beat; a lost lease stops
    the beat, and the fenced writes refuse from then on anyway.
    """

    def __init__(self, *, renew: Callable[[], None], ttl: float) -> None:
        self._renew = renew
        self._interval = ttl / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and wait for a renewal in flight to end."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._renew()
            except StateLeaseLostError as exc:
                _log.error("state_lease_lost", error=str(exc))
                return
            except StateError as exc:
                _log.warning("state_lease_renew_failed", error=str(exc))
