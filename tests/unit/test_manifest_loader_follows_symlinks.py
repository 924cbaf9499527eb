"""The loader never comes back with a smaller fleet than its files: symlinked directories and
files are followed, a directory reached twice (a loop) is an error, and replacing a team's
directory by a symlink to the same files plans nothing, least of all a delete."""

from __future__ import annotations

from pathlib import Path

from apply_harness import World, agent, split_into_teams, write_fleet

from reconciler.manifest import load


def _world(tmp_path: Path) -> World:
    agents = {f"a{i}": agent(f"ch-a{i}") for i in range(4)}
    agents.update({f"b{i}": agent(f"ch-b{i}") for i in range(3)})
    write_fleet(tmp_path / "fleet", agents)
    split_into_teams(tmp_path / "fleet", team_b={"b0", "b1", "b2"})
    return World(tmp_path)


async def test_a_team_directory_replaced_by_a_symlink_plans_nothing(tmp_path: Path) -> None:
    """Seven agents applied; team-b moved elsewhere and linked back: still seven, no change."""
    world = _world(tmp_path)
    assert (await world.apply()).code == 0
    shared = tmp_path / "shared"
    shared.mkdir()
    (world.fleet / "team-b").rename(shared / "team-b")
    (world.fleet / "team-b").symlink_to(shared / "team-b", target_is_directory=True)
    loaded = load.load_fleet(world.fleet)
    assert loaded.fleet is not None, loaded.diagnostics
    assert len(loaded.fleet.agents) == 7
    assert (await world.plan()).is_empty
    assert len(await world.live()) == 7


def test_a_symlinked_manifest_file_is_read(tmp_path: Path) -> None:
    """A manifest file that is a symlink counts like any other."""
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    (tmp_path / "elsewhere.yaml").write_text((tmp_path / "fleet" / "fleet.yaml").read_text())
    (tmp_path / "fleet" / "fleet.yaml").unlink()
    (tmp_path / "fleet" / "fleet.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    loaded = load.load_fleet(tmp_path / "fleet")
    assert loaded.fleet is not None
    assert sorted(loaded.fleet.agents) == ["demo/a"]


def test_a_symlink_loop_is_an_error_not_a_hang(tmp_path: Path) -> None:
    """A link back to a parent directory: one error naming it, and no fleet."""
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    (tmp_path / "fleet" / "team").mkdir()
    (tmp_path / "fleet" / "team" / "loop").symlink_to(tmp_path / "fleet", target_is_directory=True)
    loaded = load.load_fleet(tmp_path / "fleet")
    assert loaded.fleet is None
    [error] = loaded.errors
    assert str(error).startswith(f"{tmp_path / 'fleet' / 'team' / 'loop'}: is the directory ")


def test_a_dangling_symlinked_manifest_is_an_error(tmp_path: Path) -> None:
    """A manifest link whose target is gone is an error, never a fleet without its agents."""
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    (tmp_path / "fleet" / "team-b.yaml").symlink_to(tmp_path / "gone.yaml")
    loaded = load.load_fleet(tmp_path / "fleet")
    assert loaded.fleet is None
    [error] = loaded.errors
    assert "team-b.yaml: cannot be read: No such file or directory" in str(error)


def test_a_manifest_with_an_upper_case_suffix_is_warned_about(tmp_path: Path) -> None:
    """``team-b.YAML`` is not loaded, and the load says so instead of a quietly smaller fleet."""
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    (tmp_path / "fleet" / "team-b.YAML").write_text("kind: Agent\n")
    loaded = load.load_fleet(tmp_path / "fleet")
    assert [str(w) for w in loaded.warnings] == [
        f"{tmp_path / 'fleet' / 'team-b.YAML'}: is not read: manifests end in .yaml or .yml, "
        "in lower case"
    ]
