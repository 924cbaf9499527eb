"""A state store held in memory, for tests and pure property checks.

It keeps the same rows and rules as the SQLite store (copies in and out, one serial step per
transaction, all-or-nothing mutations) without a file or an OS lock. It must never be used where
state has to survive the process.
"""

from __future__ import annotations

import os
import uuid

from reconciler.state import rows
from reconciler.state.store import (
    Mutation,
    StateSnapshot,
    StateStore,
    closed_store,
    duplicate_intent,
    sorted_records,
    unknown_intent,
    unknown_record,
    used_generations,
)


class MemoryStateStore(StateStore):
    """A fresh, empty state with a new lineage and secret key unless tests pin them."""

    def __init__(self, *, lineage: str | None = None, secret_key: bytes | None = None) -> None:
        self._lineage = lineage or str(uuid.uuid4())
        self._secret_key = secret_key or os.urandom(32)
        self._serial = 0
        self._records: dict[str, rows.Row] = {}
        self._intents: dict[str, rows.Row] = {}
        self._generations: dict[str, int] = {}
        self._closed = False

    def snapshot(self) -> StateSnapshot:
        self._check_open()
        return StateSnapshot(
            lineage=self._lineage,
            serial=self._serial,
            records=sorted_records(rows.records_from_rows(self._records.values())),
            intents=tuple(rows.intent_from_row(row) for row in self._intents.values()),
            generations=dict(sorted(self._generations.items())),
        )

    def secret_key(self) -> bytes:
        self._check_open()
        return self._secret_key

    def close(self) -> None:
        self._closed = True

    def restore(self, snapshot: StateSnapshot, *, secret_key: bytes) -> None:
        self._check_open()
        self._lineage, self._serial, self._secret_key = (
            snapshot.lineage,
            snapshot.serial,
            secret_key,
        )
        self._records = {key: rows.record_row(r) for key, r in snapshot.records.items()}
        self._intents = {intent.id: rows.intent_row(intent) for intent in snapshot.intents}
        self._generations = dict(snapshot.generations)

    def _commit(self, mutation: Mutation) -> None:
        self._check_open()
        removed, added, deleted = mutation.remove_intent, mutation.add_intent, mutation.delete
        if removed is not None and removed not in self._intents:
            raise unknown_intent(removed)
        if added is not None and added.id in self._intents and added.id != removed:
            raise duplicate_intent(added.id)
        added_rows = {} if added is None else {added.id: rows.intent_row(added)}
        put_rows = {record.key: rows.record_row(record) for record in mutation.put}
        if deleted is not None and deleted not in self._records and deleted not in put_rows:
            raise unknown_record(deleted)
        if removed is not None:
            del self._intents[removed]
        self._intents.update(added_rows)
        self._records.update(put_rows)
        if deleted is not None:
            del self._records[deleted]
        for key, generation in used_generations(mutation).items():
            self._generations[key] = max(generation, self._generations.get(key, 0))
        self._serial += 1

    def _check_open(self) -> None:
        if self._closed:
            raise closed_store()
