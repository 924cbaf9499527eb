"""A plan that deletes because manifests went away says so: per project, the agents declared
against the agents owned, and the manifest files git saw deleted since they were applied."""

from __future__ import annotations

import subprocess
from pathlib import Path

from apply_harness import World, agent, split_into_teams, write_fleet

from reconciler import plan, reconcile


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


async def _notes(world: World) -> tuple[str, ...]:
    outcome = await reconcile.plan_pass(
        world.fleet,
        state_path=world.state_path,
        api_url=world.base_url,
        environ=world.environ,
        limits=plan.SafetyLimits(allow_mass_delete=True),
        transport=world.transport,
    )
    assert isinstance(outcome, reconcile.Planned)
    return outcome.notes


async def test_a_deleted_team_file_is_named_in_the_plan(tmp_path: Path) -> None:
    """Seven agents applied from a commit; team-b's file removed: the note counts and names it."""
    world = World(tmp_path)
    agents = {f"a{i}": agent(f"ch-a{i}") for i in range(4)}
    agents.update({f"b{i}": agent(f"ch-b{i}") for i in range(3)})
    write_fleet(world.fleet, agents)
    split_into_teams(world.fleet, team_b={"b0", "b1", "b2"})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "fleet")
    _git(tmp_path, "commit", "-q", "-m", "fleet")
    revision = _git(tmp_path, "rev-parse", "HEAD")
    assert (await world.apply()).code == 0
    assert await _notes(world) == ()
    _git(tmp_path, "rm", "-q", "fleet/team-b/agents.yaml")
    [note] = await _notes(world)
    assert note == (
        "project demo: the manifests declare 4 agents, the state owns 7 (-3); 3 to delete "
        "because no manifest declares them any more; manifest files deleted since "
        f"{revision[:12]}: team-b/agents.yaml"
    )


async def test_outside_git_the_note_still_counts(tmp_path: Path) -> None:
    """No checkout: the counts alone, and no error."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("ch-a"), "b": agent("ch-b")})
    assert (await world.apply()).code == 0
    write_fleet(world.fleet, {"a": agent("ch-a")})
    assert await _notes(world) == (
        "project demo: the manifests declare 1 agents, the state owns 2 (-1); 1 to delete "
        "because no manifest declares them any more",
    )
