"""The SQLite state is the same state after close and open: identity, serial, records, intents."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.state import DEFAULT_STATE_PATH, AgentRecord, Intent, open_state

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]


def test_reopening_keeps_everything(
    tmp_path: Path, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    """Lineage, serial, secret key, records and pending intents all survive a reopen."""
    path = tmp_path / "state.db"
    with open_state(path) as store:
        store.put_records([make_record("a"), make_record("b")])
        store.record_intent(make_intent("i-1", name="c"))
        before, key = store.snapshot(), store.secret_key()
    with open_state(path) as store:
        assert store.snapshot() == before
        assert store.secret_key() == key


def test_the_default_path_is_created_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a path the state lives at ``.reconciler/state.db``, its directory made on demand."""
    monkeypatch.chdir(tmp_path)
    with open_state() as store:
        assert store.path == DEFAULT_STATE_PATH
    assert (tmp_path / ".reconciler" / "state.db").is_file()


def test_each_new_state_gets_its_own_lineage_and_key(tmp_path: Path) -> None:
    """Two state files are two lineages, so a plan for one never applies to the other."""
    with open_state(tmp_path / "one.db") as one, open_state(tmp_path / "two.db") as two:
        assert one.snapshot().lineage != two.snapshot().lineage
        assert one.secret_key() != two.secret_key()


def test_the_store_repr_never_shows_the_secret_key(tmp_path: Path) -> None:
    """Printing the store (in a log or a traceback) names the file, not the key."""
    with open_state(tmp_path / "state.db") as store:
        shown = repr(store)
        key = store.secret_key()
    assert "state.db" in shown
    assert key.hex() not in shown
    assert repr(key) not in shown


def test_a_new_state_file_is_private_to_its_owner(tmp_path: Path) -> None:
    """The file holds the fingerprint key, so only its owner may read it."""
    path = tmp_path / "state.db"
    open_state(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
