"""Both state backends keep one contract: atomic mutations, one serial step each, copies out."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable

import pytest

from reconciler.errors import StateError
from reconciler.state import AgentRecord, Intent, IntentAction, MemoryStateStore, StateStore

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]


def test_new_state_is_empty_with_an_identity(store: StateStore) -> None:
    """A new state has serial 0, no records or intents, a UUID lineage and a 32-byte key."""
    snapshot = store.snapshot()
    assert snapshot.serial == 0
    assert dict(snapshot.records) == {}
    assert snapshot.intents == ()
    assert str(uuid.UUID(snapshot.lineage)) == snapshot.lineage
    assert len(store.secret_key()) == 32


def test_put_record_round_trips_and_bumps_serial(
    store: StateStore, make_record: RecordFactory
) -> None:
    """A put record comes back equal, and the serial moves by exactly one."""
    record = make_record()
    store.put_record(record)
    snapshot = store.snapshot()
    assert snapshot.records == {"prod/lobby": record}
    assert snapshot.serial == 1


def test_put_record_replaces_the_record_under_its_key(
    store: StateStore, make_record: RecordFactory
) -> None:
    """Putting the same key again replaces the record; nothing accumulates."""
    store.put_record(make_record())
    newer = make_record(generation=2, remote_name="rc-prod-lobby-g2", agent_id=None)
    store.put_record(newer)
    assert store.snapshot().records == {"prod/lobby": newer}


def test_put_records_is_one_serial_step_in_key_order(
    store: StateStore, make_record: RecordFactory
) -> None:
    """A batch is one transaction, and snapshots list records by key whatever the put order."""
    store.put_records([make_record("zeta"), make_record("alpha"), make_record("mid")])
    snapshot = store.snapshot()
    assert snapshot.serial == 1
    assert list(snapshot.records) == ["prod/alpha", "prod/mid", "prod/zeta"]


def test_delete_record_forgets_it(store: StateStore, make_record: RecordFactory) -> None:
    """A deleted record is gone, and the delete is its own serial step."""
    store.put_record(make_record())
    store.delete_record("prod/lobby")
    snapshot = store.snapshot()
    assert dict(snapshot.records) == {}
    assert snapshot.serial == 2


def test_deleting_a_missing_record_changes_nothing(store: StateStore) -> None:
    """Deleting an absent key means a stale caller: it raises and the serial stays."""
    with pytest.raises(StateError, match=r"no record 'prod/ghost' in state"):
        store.delete_record("prod/ghost")
    assert store.snapshot().serial == 0


def test_intents_are_listed_in_the_order_recorded(
    store: StateStore, make_intent: IntentFactory
) -> None:
    """Pending intents come back whole and in the order they were committed."""
    second = make_intent("i-b", name="zeta", action=IntentAction.LEAVE, agent_id="agent-zeta")
    first = make_intent("i-a", name="alpha")
    store.record_intent(second)
    store.record_intent(first)
    snapshot = store.snapshot()
    assert snapshot.intents == (second, first)
    assert snapshot.serial == 2


def test_a_duplicate_intent_id_is_refused(store: StateStore, make_intent: IntentFactory) -> None:
    """Reusing a pending intent's id raises and leaves the first intent alone."""
    store.record_intent(make_intent("i-1"))
    with pytest.raises(StateError, match=r"intent 'i-1' is already pending"):
        store.record_intent(make_intent("i-1", name="other"))
    snapshot = store.snapshot()
    assert [intent.key for intent in snapshot.intents] == ["prod/lobby"]
    assert snapshot.serial == 1


def test_resolving_a_join_swaps_the_intent_for_the_record(
    store: StateStore, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    """A resolved join removes the intent and stores the record in one serial step."""
    store.record_intent(make_intent("i-1"))
    record = make_record()
    store.resolve_intent("i-1", put=record)
    snapshot = store.snapshot()
    assert snapshot.intents == ()
    assert snapshot.records == {"prod/lobby": record}
    assert snapshot.serial == 2


def test_resolving_a_leave_swaps_the_intent_for_the_deletion(
    store: StateStore, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    """A resolved leave removes the intent and the record together."""
    store.put_record(make_record())
    store.record_intent(make_intent("i-1", action=IntentAction.LEAVE, agent_id="agent-lobby"))
    store.resolve_intent("i-1", delete_key="prod/lobby")
    snapshot = store.snapshot()
    assert (dict(snapshot.records), snapshot.intents, snapshot.serial) == ({}, (), 3)


def test_resolving_without_an_outcome_only_drops_the_intent(
    store: StateStore, make_intent: IntentFactory
) -> None:
    """An intent that turned out to have done nothing is simply removed."""
    store.record_intent(make_intent("i-1"))
    store.resolve_intent("i-1")
    snapshot = store.snapshot()
    assert (snapshot.intents, snapshot.serial) == ((), 2)


def test_resolving_an_unknown_intent_applies_nothing(
    store: StateStore, make_record: RecordFactory
) -> None:
    """Resolving an intent that is not pending raises and does not store the outcome."""
    with pytest.raises(StateError, match=r"no pending intent 'i-9' in state"):
        store.resolve_intent("i-9", put=make_record())
    snapshot = store.snapshot()
    assert (dict(snapshot.records), snapshot.serial) == ({}, 0)


def test_a_failed_resolution_keeps_the_intent_pending(
    store: StateStore, make_intent: IntentFactory
) -> None:
    """If the outcome cannot apply, the intent stays, so nothing is half done."""
    intent = make_intent("i-1", action=IntentAction.LEAVE, agent_id="agent-lobby")
    store.record_intent(intent)
    with pytest.raises(StateError, match="no record"):
        store.resolve_intent("i-1", delete_key="prod/lobby")
    snapshot = store.snapshot()
    assert (snapshot.intents, snapshot.serial) == ((intent,), 1)


def test_an_intent_resolves_to_a_put_or_a_delete_not_both(
    store: StateStore, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    """Asking for both outcomes at once is a caller bug, refused before anything changes."""
    store.record_intent(make_intent("i-1"))
    with pytest.raises(ValueError, match="not both"):
        store.resolve_intent("i-1", put=make_record(), delete_key="prod/lobby")
    assert store.snapshot().serial == 1


def test_the_state_holds_copies_not_the_callers_objects(
    store: StateStore, make_record: RecordFactory
) -> None:
    """Mutating the properties given to, or read from, the store never changes the state."""
    properties = {"llm": {"params": {"model": "a"}}}
    store.put_record(make_record(applied_properties=properties))
    properties["llm"]["params"]["model"] = "changed-by-caller"
    read = store.snapshot().records["prod/lobby"].applied_properties
    read["llm"]["params"]["model"] = "changed-by-reader"
    again = store.snapshot().records["prod/lobby"].applied_properties
    assert again == {"llm": {"params": {"model": "a"}}}


@pytest.mark.parametrize("bad", [{"when": math.nan}, {"obj": object()}])
def test_properties_that_are_not_json_are_refused(
    store: StateStore, make_record: RecordFactory, bad: dict[str, object]
) -> None:
    """Only JSON can be stored, and a refused batch stores none of its records."""
    with pytest.raises((TypeError, ValueError)):
        store.put_records([make_record("good"), make_record("bad", applied_properties=bad)])
    assert (dict(store.snapshot().records), store.snapshot().serial) == ({}, 0)


def test_lineage_and_key_stay_fixed_as_the_state_changes(
    store: StateStore, make_record: RecordFactory
) -> None:
    """The serial moves with every commit; the lineage and the secret key never do."""
    before, key = store.snapshot(), store.secret_key()
    store.put_record(make_record())
    store.delete_record("prod/lobby")
    after = store.snapshot()
    assert (after.lineage, store.secret_key()) == (before.lineage, key)
    assert after.serial == before.serial + 2


def test_a_closed_store_refuses_every_call(store: StateStore, make_record: RecordFactory) -> None:
    """After close, reads and writes raise instead of acting without the lock; close repeats."""
    store.close()
    store.close()
    with pytest.raises(StateError, match="closed"):
        store.snapshot()
    with pytest.raises(StateError, match="closed"):
        store.put_record(make_record())
    with pytest.raises(StateError, match="closed"):
        store.secret_key()


def test_ten_thousand_records_round_trip_in_one_batch(
    store: StateStore, make_record: RecordFactory
) -> None:
    """A fleet-sized batch is stored and read back whole."""
    records = [make_record(f"agent-{index:05d}") for index in range(10_000)]
    store.put_records(records)
    snapshot = store.snapshot()
    assert list(snapshot.records.values()) == records
    assert snapshot.serial == 1


def test_restore_makes_the_state_a_copy_of_a_snapshot(
    store: StateStore, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    """What ``state migrate`` relies on: every row, the generations, lineage, serial and key
    come out as they went in, and what the state held before is gone."""
    store.put_record(make_record("old"))
    source = MemoryStateStore(lineage=str(uuid.uuid4()), secret_key=b"k" * 32)
    source.put_records([make_record("lobby"), make_record("hall", generation=3)])
    source.record_intent(make_intent("i-2", name="desk"))
    source.record_intent(make_intent("i-1", name="kiosk"))
    source.delete_record("prod/hall")
    copied = source.snapshot()
    store.restore(copied, secret_key=source.secret_key())
    assert store.snapshot() == copied
    assert store.secret_key() == b"k" * 32
    assert store.snapshot().generations["prod/hall"] == 3  # outlives its record
