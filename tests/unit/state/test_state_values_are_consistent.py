"""Records and intents refuse field combinations that would file an agent under the wrong key."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.state import AgentRecord, Intent, MemoryStateStore

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]


@pytest.mark.parametrize(
    ("key", "project"),
    [("other/lobby", "prod"), ("prod/", "prod"), ("prod", "prod"), ("a/b/c", "a/b"), ("/x", "")],
)
def test_a_record_key_must_be_its_project_and_a_name(
    make_record: RecordFactory, key: str, project: str
) -> None:
    """A record whose key is not ``project/name`` is refused."""
    with pytest.raises(ValueError, match="must be"):
        make_record(key=key, project=project)


def test_a_record_generation_is_not_negative(make_record: RecordFactory) -> None:
    """Generations count up from zero; a negative one is a bug upstream."""
    with pytest.raises(ValueError, match="generation"):
        make_record(generation=-1)


def test_an_intent_key_must_be_its_project_and_a_name(make_intent: IntentFactory) -> None:
    """An intent is keyed like the record it will become."""
    with pytest.raises(ValueError, match="must be"):
        make_intent(key="staging/lobby")


def test_an_intent_needs_an_id(make_intent: IntentFactory) -> None:
    """An intent without an id could never be resolved."""
    with pytest.raises(ValueError, match="id"):
        make_intent("")


def test_a_memory_store_can_pin_its_identity() -> None:
    """Tests may fix the lineage and secret key to make fingerprints reproducible."""
    store = MemoryStateStore(lineage="lineage-1", secret_key=b"k" * 32)
    assert (store.snapshot().lineage, store.secret_key()) == ("lineage-1", b"k" * 32)
