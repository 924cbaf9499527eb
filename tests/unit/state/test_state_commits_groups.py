"""A group of mutations commits each one whole or not at all, and writers share commits."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from reconciler.apply.commits import GroupCommitter
from reconciler.errors import StateError
from reconciler.state import StateStore
from reconciler.state.store import Mutation

if TYPE_CHECKING:
    # Only a type: importing a conftest by name picks whichever was loaded first.
    from conftest import IntentFactory, RecordFactory


def test_a_failing_mutation_fails_alone(
    store: StateStore, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    before = store.snapshot().serial
    failures = store.commit_group(
        [
            Mutation(add_intent=make_intent("i-1", "a")),
            Mutation(remove_intent="nobody", put=(make_record("b"),)),
            Mutation(put=(make_record("c"),)),
        ]
    )
    assert [type(f) for f in failures] == [type(None), StateError, type(None)]
    after = store.snapshot()
    assert after.serial == before + 2
    assert [i.id for i in after.intents] == ["i-1"]
    assert sorted(after.records) == ["prod/c"]  # b's put went with its failed mutation


async def test_concurrent_writers_share_commits(
    store: StateStore, make_record: RecordFactory
) -> None:
    groups: list[int] = []
    commit_group = store.commit_group

    def counting(mutations: list[Mutation]) -> list[StateError | None]:
        groups.append(len(mutations))
        return commit_group(mutations)

    store.commit_group = counting  # type: ignore[method-assign]
    committer = GroupCommitter(store)
    names = [f"agent-{i}" for i in range(20)]
    await asyncio.gather(*(committer.commit(Mutation(put=(make_record(n),))) for n in names))
    assert sum(groups) == 20
    assert len(groups) < 20  # all but the first arrived while a commit was in flight
    assert sorted(store.snapshot().records) == sorted(f"prod/{n}" for n in names)


async def test_each_writer_gets_its_own_failure(
    store: StateStore, make_record: RecordFactory
) -> None:
    committer = GroupCommitter(store)
    ok = committer.commit(Mutation(put=(make_record("a"),)))
    bad = committer.commit(Mutation(delete="prod/none"))
    results = await asyncio.gather(ok, bad, return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], StateError)
    with pytest.raises(StateError):
        store.delete_record("prod/none")
