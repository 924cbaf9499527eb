"""Names are single-use: the state remembers each key's highest generation past its record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.state import AgentRecord, Intent, StateStore, open_state

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]


def test_a_deleted_record_keeps_its_generation(
    store: StateStore, make_record: RecordFactory
) -> None:
    """Deleting a key's record does not let a later join start over at generation 1."""
    store.put_record(make_record("lobby", generation=3, remote_name="rc-prod-lobby-g3"))
    store.delete_record("prod/lobby")
    assert store.snapshot().last_generation("prod/lobby") == 3


def test_a_join_intent_uses_its_generation_even_if_it_never_lands(
    store: StateStore, make_intent: IntentFactory
) -> None:
    """A join intent dropped without a record still burns its name's generation."""
    intent = make_intent(name="lobby", generation=5)
    store.record_intent(intent)
    store.resolve_intent(intent.id)
    assert store.snapshot().last_generation("prod/lobby") == 5


def test_the_high_water_mark_never_goes_down(store: StateStore, make_record: RecordFactory) -> None:
    """Putting an older generation back leaves the mark at the highest one seen."""
    store.put_record(make_record("lobby", generation=4))
    store.put_record(make_record("lobby", generation=2))
    assert store.snapshot().last_generation("prod/lobby") == 4
    assert store.snapshot().last_generation("prod/never-joined") == 0


def test_generations_survive_reopening(tmp_path: Path, make_record: RecordFactory) -> None:
    """The marks live in the file, not in the process."""
    path = tmp_path / "state.db"
    with open_state(path) as first:
        first.put_record(make_record("lobby", generation=7))
        first.delete_record("prod/lobby")
    with open_state(path) as second:
        assert second.snapshot().generations == {"prod/lobby": 7}
