"""Every join carries labels naming its manifest entry and generation; the user's merge in."""

from __future__ import annotations

from pathlib import Path

from apply_harness import World, agent, write_fleet


async def test_joins_are_labelled_with_key_and_generation_over_declared_labels(
    tmp_path: Path,
) -> None:
    """Ours win a clash (they are how events find the entry); every other declared label stays."""
    world = World(tmp_path)
    declared = {"team": "support", "reconciler_key": "mine"}
    write_fleet(
        world.fleet,
        {"a": agent("ch-a", properties={"labels": declared}), "b": agent("ch-b")},
    )
    assert (await world.apply()).code == 0
    labels = {a["channel"]: a["properties"]["labels"] for a in await world.live()}
    assert labels == {
        "ch-a": {"team": "support", "reconciler_key": "demo/a", "reconciler_generation": "1"},
        "ch-b": {"reconciler_key": "demo/b", "reconciler_generation": "1"},
    }
    assert (await world.plan()).is_empty
