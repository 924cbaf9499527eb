"""The collector settings the entry point applies before a command runs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reconciler import heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_tuning_freezes_start_up_and_collects_the_young_generation_less_often() -> None:
    built_at_start_up = [object()]
    heap.tune_collector()
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    # Frozen: in no generation that a collection scans.
    assert not any(found is built_at_start_up for found in gc.get_objects())


def test_the_cli_entry_point_tunes_the_collector_before_the_command_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(heap, "tune_collector", lambda: seen.append("tuned"))
    monkeypatch.setattr("sys.argv", ["reconciler", "--version"])
    from reconciler.cli import main

    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert seen == ["tuned"]
