"""``state migrate``: SQLite to PostgreSQL (and back) under both locks, refusing to overwrite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import StateError, StateLockedError
from reconciler.reconcile import state_migrate
from reconciler.state import AgentRecord, Intent, open_state, read_state


def _filled(
    path: Path, make_record: Callable[..., AgentRecord], make_intent: Callable[..., Intent]
) -> None:
    with open_state(path) as store:
        store.put_records([make_record("lobby"), make_record("hall", generation=2)])
        store.record_intent(make_intent("i-1", name="desk"))
        store.delete_record("prod/hall")


def test_a_file_moves_to_postgresql_whole_and_back(
    tmp_path: Path,
    postgres_state: str,
    make_record: Callable[..., AgentRecord],
    make_intent: Callable[..., Intent],
) -> None:
    source = tmp_path / "state.db"
    _filled(source, make_record, make_intent)
    done = state_migrate.migrate(str(source), postgres_state, force=False)
    assert (done.records, done.intents, done.generations) == (1, 1, 2)
    assert read_state(postgres_state) == read_state(source)
    assert "1 records, 1 intents in flight, 2 key generations" in done.describe()
    back = tmp_path / "back.db"
    state_migrate.migrate(postgres_state, str(back), force=False)
    assert read_state(back) == read_state(source)


def test_a_target_that_holds_anything_is_refused_unless_forced(
    tmp_path: Path,
    postgres_state: str,
    make_record: Callable[..., AgentRecord],
    make_intent: Callable[..., Intent],
) -> None:
    source = tmp_path / "state.db"
    _filled(source, make_record, make_intent)
    with open_state(postgres_state) as other:
        other.put_record(make_record("elsewhere"))
    before = read_state(postgres_state)
    with pytest.raises(StateError, match=r"already holds 1 records.*pass --force"):
        state_migrate.migrate(str(source), postgres_state, force=False)
    assert read_state(postgres_state) == before
    done = state_migrate.migrate(str(source), postgres_state, force=True)
    assert done.replaced
    assert read_state(postgres_state) == read_state(source)


def test_the_state_itself_and_a_held_source_or_target_are_refused(
    tmp_path: Path, postgres_state: str
) -> None:
    source = tmp_path / "state.db"
    with pytest.raises(StateError, match="is the state being migrated"):
        state_migrate.migrate(str(source), str(tmp_path / "." / "state.db"), force=False)
    with open_state(source), pytest.raises(StateLockedError):
        state_migrate.migrate(str(source), postgres_state, force=False)
    with open_state(postgres_state), pytest.raises(StateLockedError):
        state_migrate.migrate(str(source), postgres_state, force=False)
