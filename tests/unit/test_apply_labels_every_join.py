"""Every join carries labels naming its manifest entry, generation and fleet; yours merge in."""

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
    fleet = {"reconciler_fleet": world.snapshot().lineage}
    assert labels == {
        "ch-a": {
            "team": "support",
            "reconciler_key": "demo/a",
            "reconciler_generation": "1",
            **fleet,
        },
        "ch-b": {"reconciler_key": "demo/b", "reconciler_generation": "1", **fleet},
    }
    assert (await world.plan()).is_empty


async def test_two_fleets_on_one_app_id_label_their_joins_apart(tmp_path: Path) -> None:
    """Two states (two lineages) on one emulator: each join names the fleet that made it."""
    first = World(tmp_path / "first")
    second = World(tmp_path / "second")
    second.transport = first.transport  # one App ID, one emulator
    write_fleet(first.fleet, {"a": agent("ch-1")})
    write_fleet(second.fleet, {"b": agent("ch-2")})
    assert (await first.apply()).code == 0
    assert (await second.apply()).code == 0
    fleets = {
        a["channel"]: a["properties"]["labels"]["reconciler_fleet"] for a in await first.live()
    }
    assert fleets == {"ch-1": first.snapshot().lineage, "ch-2": second.snapshot().lineage}
    assert fleets["ch-1"] != fleets["ch-2"]
