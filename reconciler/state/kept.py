"""A store that keeps its last snapshot between passes, for the daemon.

The daemon holds the state for its whole life (the lock, or the lease), so between two of its
passes the state only moves when it commits, or when a writer it cannot see does (an operator
on a shared state, a reconciler that took the lease over). Every commit steps the serial,
whoever makes it, so asking the backend for lineage and serial (one row) tells whether the last
snapshot still holds; only then is the whole state read again. An idle pass over 10,000 records
reads one row instead of all of them.

Unlike a backend's own snapshots, the kept one is handed out again and again: its records'
properties are typed read-only, and the daemon's pass never changes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import StateError
from reconciler.state.store import Mutation, StateSnapshot, StateStore


class KeptSnapshots(StateStore):
    """``inner`` with ``snapshot`` read again only when the state's lineage or serial moved."""

    def __init__(self, inner: StateStore) -> None:
        self._inner = inner
        self._kept: StateSnapshot | None = None

    def __repr__(self) -> str:
        return f"KeptSnapshots({self._inner!r})"

    def snapshot(self) -> StateSnapshot:
        kept = self._kept
        if kept is not None and self._inner.version() == (kept.lineage, kept.serial):
            return kept
        self._kept = self._inner.snapshot()
        return self._kept

    def version(self) -> tuple[str, int]:
        return self._inner.version()

    def secret_key(self) -> bytes:
        return self._inner.secret_key()

    def close(self) -> None:
        self._inner.close()

    def check_held(self) -> None:
        self._inner.check_held()

    def restore(self, snapshot: StateSnapshot, *, secret_key: bytes) -> None:
        self._kept = None
        self._inner.restore(snapshot, secret_key=secret_key)

    def _commit(self, mutation: Mutation) -> None:
        (failure,) = self._inner.commit_group([mutation])
        if failure is not None:
            raise failure

    def commit_group(self, mutations: Sequence[Mutation]) -> list[StateError | None]:
        return self._inner.commit_group(mutations)
