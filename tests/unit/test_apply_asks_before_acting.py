"""On a terminal apply acts only after a literal "yes"; without one it needs --auto-approve."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from apply_harness import World, agent, write_fleet


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
