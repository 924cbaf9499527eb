"""Renames declared with ``Moved`` against the emulator: the records change key, the agents stay,
and a state lost after the rename still finds them under their old names."""

from __future__ import annotations

from typing import Any

import yaml
from apply_e2e_harness import harness

from reconciler.plan import Action

agent = harness.agent
MOVED = {
    "apiVersion": "reconciler/v1",
    "kind": "Moved",
    "metadata": {"name": "renames"},
    "spec": {"moved": [{"from": "demo/a", "to": "prod/alpha"}, {"from": "demo", "to": "prod"}]},
}


def _rename(world: Any) -> None:
    """Project demo becomes prod, agent a becomes alpha, and a Moved document says so."""
    path = world.fleet / "fleet.yaml"
    documents = list(yaml.safe_load_all(path.read_text()))
    for document in documents:
        if document["kind"] == "Project":
            document["metadata"]["name"] = "prod"
        else:
            document["metadata"]["project"] = "prod"
            if document["metadata"]["name"] == "a":
                document["metadata"]["name"] = "alpha"
    path.write_text(yaml.safe_dump_all([*documents, MOVED], sort_keys=False))


async def _ids(world: Any) -> dict[str, str]:
    live = await world.live()
    channels = [a["channel"] for a in live]
    assert len(channels) == len(set(channels)), f"two agents in one channel: {sorted(channels)}"
    return {a["channel"]: a["agent_id"] for a in live}


async def test_a_renamed_project_and_agent_keep_their_agents_even_after_a_lost_state(
    tmp_path: Any,
) -> None:
    world = harness.World(tmp_path)
    harness.write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b", uid="0")})
    assert (await world.apply()).code == 0
    before = await _ids(world)

    _rename(world)
    planned = await world.plan()
    assert [(c.action, c.key, c.moved_from) for c in planned.changes] == [
        (Action.MOVE, "prod/alpha", "demo/a"),
        (Action.MOVE, "prod/b", "demo/b"),
    ]
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert await _ids(world) == before
    assert sorted(world.records()) == ["prod/alpha", "prod/b"]
    assert (await world.plan()).is_empty

    world.state_path.unlink()
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert await _ids(world) == before
    assert sorted(world.records()) == ["prod/alpha", "prod/b"]
    await world.assert_converged()
