"""On a terminal apply acts only after a literal "yes"; without one it needs --auto-approve."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from apply_harness import World, agent, write_fleet

from reconciler import plan, reconcile
from reconciler.reconcile import planfile


class _Terminal(io.StringIO):
    """Typed answers, from what looks like a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "joined"), [("yes\n", 0, 1), ("y\n", 1, 0), ("", 1, 0)])
async def test_only_yes_approves(tmp_path: Path, answer: str, code: int, joined: int) -> None:
    """ "yes" applies; "y" or end of input cancels, and nothing is joined."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    ran = await world.apply(auto_approve=False, stdin=_Terminal(answer))
    assert ran.code == code
    assert "Only 'yes' will be accepted" in ran.stdout
    assert len(await world.live()) == joined


async def test_no_terminal_and_no_auto_approve_refuses(tmp_path: Path) -> None:
    """Piped input is never taken as an answer."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    ran = await world.apply(auto_approve=False, stdin=io.StringIO("yes\n"))
    assert ran.code == 1
    assert "pass --auto-approve" in ran.stderr
    assert await world.live() == []


async def test_an_empty_plan_asks_nothing(tmp_path: Path) -> None:
    """Nothing to change: no question, exit 0."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    assert (await world.apply()).code == 0
    ran = await world.apply(auto_approve=False, stdin=io.StringIO())
    assert ran.code == 0
    assert "No changes." in ran.stdout
    assert "Only 'yes'" not in ran.stdout


async def test_a_saved_plan_applies_without_asking(tmp_path: Path) -> None:
    """A plan saved by ``plan --out`` was approved when it was made, as Terraform's is."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    outcome = await reconcile.plan_pass(
        world.fleet,
        state_path=world.state_path,
        api_url=world.base_url,
        environ=world.environ,
        limits=plan.SafetyLimits(),
        transport=world.transport,
        clock=world.clock.now,
    )
    assert isinstance(outcome, reconcile.Planned)
    saved = tmp_path / "plan.json"
    planfile.write_planfile(saved, outcome.planfile)
    ran = await world.apply(auto_approve=False, target=saved, stdin=io.StringIO())
    assert ran.code == 0, ran.stderr
    assert "Only 'yes'" not in ran.stdout
    assert len(await world.live()) == 1
