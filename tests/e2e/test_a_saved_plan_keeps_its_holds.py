"""A plan that held changes back is saved; applying it runs what it says, under no new limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply_e2e_harness import harness, save_plan

from reconciler.emulator import EmulatorConfig, running_server
from reconciler.reconcile.planfile import load_planfile

agent = harness.agent
THREE = {name: agent(f"room-{name}") for name in ("a", "b", "c")}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Any]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        yield harness.World(tmp_path, base_url=url)


async def _channels(world: Any) -> list[str]:
    return sorted(a["channel"] for a in await world.live())


async def test_a_held_plan_is_saved_and_applies_only_what_it_lets_run(world: Any) -> None:
    """The saved plan holds the mass delete: applied with --allow-mass-delete, it still does
    not delete, and creates the new agent."""
    harness.write_fleet(world.fleet, THREE)
    assert (await world.apply()).code == 0
    harness.write_fleet(world.fleet, {"a": THREE["a"], "d": agent("room-d")})
    saved = world.fleet.parent / "plan.json"
    code, stderr = await save_plan(world, saved, allow_mass_delete=False)
    assert code == 3
    assert "2 of 3 owned agents of project demo would be deleted" in stderr
    held = load_planfile(saved).plan.held
    assert sorted(f"{h.rule}: {h.change.action} {h.change.key}" for h in held) == [
        "mass-delete: delete demo/b",
        "mass-delete: delete demo/c",
    ]
    ran = await world.apply(target=saved, allow_mass_delete=True)
    assert ran.code == 3, ran.stdout + ran.stderr
    assert "Held back by a safety rule" in ran.stdout
    assert await _channels(world) == ["room-a", "room-b", "room-c", "room-d"]


async def test_a_plan_made_with_a_flag_applies_without_it(world: Any) -> None:
    """What the saved plan lets run runs: the deletes it was allowed are not held again."""
    harness.write_fleet(world.fleet, THREE)
    assert (await world.apply()).code == 0
    harness.write_fleet(world.fleet, {"a": THREE["a"]})
    saved = world.fleet.parent / "plan.json"
    code, _ = await save_plan(world, saved, allow_mass_delete=True)
    assert code == 0
    ran = await world.apply(target=saved)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert await _channels(world) == ["room-a"]
