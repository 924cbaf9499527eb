"""Priorities under the quota and the cost of a plan, end to end against the emulator."""

from __future__ import annotations

from pathlib import Path

from apply_harness import World, agent, write_fleet

from reconciler.render import render_json, render_markdown


def _fleet(count: int, **spec: object) -> dict[str, dict[str, object]]:
    return {f"a{i:02d}": agent(f"ch-{i:02d}", priority=i, **spec) for i in range(count)}


async def test_25_desired_on_a_20_quota_run_the_20_highest_and_5_wait(tmp_path: Path) -> None:
    """The 20 highest priorities join, the 5 lowest are reported waiting; exit 3 says so."""
    world = World(tmp_path)
    write_fleet(world.fleet, _fleet(25), quota=20)
    ran = await world.apply()
    assert ran.code == 3, ran.stderr
    assert "5 agent(s) wait for quota" in ran.stderr
    assert "Waiting for quota" in ran.stdout
    live = {a["name"].split("--")[1].split("-g")[0] for a in await world.live()}
    assert live == {f"a{i:02d}" for i in range(5, 25)}
    again = await world.plan()
    assert again.is_empty
    assert [w.key for w in again.waiting] == [f"demo/a{i:02d}" for i in range(5)]


async def test_a_freed_place_goes_to_the_highest_waiting_priority(tmp_path: Path) -> None:
    """Removing a running agent frees its place: the highest-priority waiting agent joins."""
    world = World(tmp_path)
    write_fleet(world.fleet, _fleet(4), quota=3)
    assert (await world.apply()).code == 3
    fleet = _fleet(4)
    del fleet["a03"]
    write_fleet(world.fleet, fleet, quota=3)
    ran = await world.apply()
    assert ran.code == 0, ran.stderr
    assert len(await world.live()) == 3
    await world.assert_converged()


async def test_the_pr_comment_of_a_change_adding_4_agents_shows_the_cost(tmp_path: Path) -> None:
    """Four agents more at USD 0.10 a minute: +4 running, +USD 24.00 an hour, +17,280 a month."""
    world = World(tmp_path)
    write_fleet(world.fleet, {f"a{i}": agent(f"ch-{i}") for i in range(2)})
    assert (await world.apply()).code == 0
    write_fleet(world.fleet, {f"a{i}": agent(f"ch-{i}") for i in range(6)})
    planned = await world.plan()
    (comment,) = render_markdown(planned)
    assert "2 -&gt; 6 running agents (+4)" in comment
    assert "USD 12.00 -&gt; 36.00 per hour (+24.00)" in comment
    assert "USD 8,640.00 -&gt; 25,920.00 per 30 days (+17,280.00)" in comment
    assert '"running_after": 6' in render_json(planned)
