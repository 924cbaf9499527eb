"""The daemon's store keeps its last snapshot and reads the state again only when it moved."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.errors import StateError
from reconciler.state import AgentRecord, StateStore
from reconciler.state.kept import KeptSnapshots

RecordFactory = Callable[..., AgentRecord]


def test_a_snapshot_is_kept_until_the_serial_moves(
    store: StateStore, make_record: RecordFactory
) -> None:
    kept = KeptSnapshots(store)
    first = kept.snapshot()
    assert kept.snapshot() is first
    assert kept.version() == store.version() == (first.lineage, first.serial)
    kept.put_record(make_record("lobby"))
    after_own = kept.snapshot()
    assert after_own is not first
    assert after_own == store.snapshot()
    assert set(after_own.records) == {"prod/lobby"}
    assert kept.snapshot() is after_own


def test_a_commit_it_did_not_make_is_seen_too(
    store: StateStore, make_record: RecordFactory
) -> None:
    """A writer beside the daemon (an operator on a shared state) steps the serial as well."""
    kept = KeptSnapshots(store)
    before = kept.snapshot()
    store.put_record(make_record("hall"))
    seen = kept.snapshot()
    assert seen.serial == before.serial + 1
    assert set(seen.records) == {"prod/hall"}


def test_a_failing_write_fails_as_on_the_store_itself(
    store: StateStore, make_record: RecordFactory
) -> None:
    kept = KeptSnapshots(store)
    kept.put_record(make_record("lobby"))
    serial = kept.snapshot().serial
    with pytest.raises(StateError, match="missing"):
        kept.delete_record("prod/missing")
    assert kept.snapshot().serial == serial
