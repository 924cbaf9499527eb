"""A lost, emptied or stale state under a live fleet: apply owns the fleet again by its names.

Against the emulator (in process, over ASGI): the state is deleted, truncated or replaced by an
old copy while the fleet runs, and the next ``apply`` must leave exactly one agent per channel,
owned by the new state, and a plan with no changes — whether the uids are fixed (a second agent
would be refused with 409 forever) or ``"0"`` (a second agent would join beside the first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_e2e_harness import harness

from reconciler import naming
from reconciler.plan import Action

agent = harness.agent


@pytest.fixture
def world(tmp_path: Path) -> Any:
    return harness.World(tmp_path)


def _fleet(uid: str) -> dict[str, Any]:
    return {name: agent(f"room-{name}", uid=uid) for name in ("a", "b", "c")}


def _lose(world: Any, how: str) -> None:
    """Lose the state the way ``how`` says; the lock file beside it stays, as it would."""
    state = world.state_path
    if how == "deleted":
        for path in (
            state,
            state.with_name(state.name + "-wal"),
            state.with_name(state.name + "-shm"),
        ):
            path.unlink(missing_ok=True)
    else:
        state.write_bytes(b"")


async def _apply_ok(world: Any, **options: Any) -> harness.Ran:
    ran = await world.apply(**options)
    assert ran.code == 0, ran.stdout + ran.stderr
    return ran


async def _run_then_lose(world: Any, *, uid: str, how: str = "deleted") -> dict[str, str]:
    """Apply the three-agent fleet, lose its state, and return its agents' ids by channel."""
    harness.write_fleet(world.fleet, _fleet(uid))
    await _apply_ok(world)
    before = await _ids(world)
    _lose(world, how)
    return before


async def _ids(world: Any) -> dict[str, str]:
    """The live agents' ids by channel."""
    return {channel: a["agent_id"] for channel, a in (await _by_channel(world)).items()}


async def _by_channel(world: Any) -> dict[str, dict[str, Any]]:
    live = await world.live()
    channels = [a["channel"] for a in live]
    assert len(channels) == len(set(channels)), f"two agents in one channel: {sorted(channels)}"
    return {a["channel"]: a for a in live}


@pytest.mark.parametrize("uid", ["0", "1001"])
@pytest.mark.parametrize("how", ["deleted", "truncated"])
async def test_a_lost_state_adopts_the_live_fleet(world: Any, uid: str, how: str) -> None:
    """Exactly one agent per channel afterwards, the same ones, and the next plan is empty."""
    before = await _run_then_lose(world, uid=uid, how=how)
    planned = await world.plan()
    assert {c.action for c in planned.changes} == {Action.ADOPT}
    assert all(c.recovered for c in planned.changes)
    await _apply_ok(world)
    assert await _ids(world) == before
    await world.assert_converged()


async def test_the_adopted_agents_get_their_in_place_fields_again(world: Any) -> None:
    """Adopting re-sends what the name cannot vouch for: the prompt, and a fresh token."""
    await _run_then_lose(world, uid="0")
    prompt = [{"role": "system", "content": "You are terse."}]
    llm = {**harness.profile()["llm"], "system_messages": prompt}
    harness.write_fleet(
        world.fleet, {**_fleet("0"), "a": agent("room-a", uid="0", properties={"llm": llm})}
    )
    await _apply_ok(world)
    after = await _by_channel(world)
    assert after["room-a"]["properties"]["llm"]["system_messages"] == prompt
    assert all(r.token_expires_at is not None for r in world.records().values())
    await world.assert_converged()


async def test_a_recovered_agent_whose_spec_changed_is_replaced(world: Any) -> None:
    """A digest that is no longer the manifests' means leave and join the next generation."""
    before = await _run_then_lose(world, uid="1001")
    tts = {"vendor": "elevenlabs", "params": {"key": "${env:AZURE_TTS_KEY}", "voice": "b"}}
    changed = {**_fleet("1001"), "a": agent("room-a", properties={"tts": tts})}
    harness.write_fleet(world.fleet, changed)
    planned = await world.plan()
    assert [(c.action, c.key) for c in planned.changes] == [
        (Action.REPLACE, "demo/a"),
        (Action.ADOPT, "demo/b"),
        (Action.ADOPT, "demo/c"),
    ]
    await _apply_ok(world)
    after = await _by_channel(world)
    assert after["room-a"]["agent_id"] != before["room-a"]
    parsed = naming.parse(after["room-a"]["name"], prefix="rc")
    assert parsed is not None
    assert parsed.generation == 2
    assert after["room-b"]["agent_id"] == before["room-b"]
    await world.assert_converged()


async def test_agents_whose_key_left_the_manifests_stay_untouched(world: Any) -> None:
    """A key no longer in the manifests is not recovered: its agent is reported, never left."""
    before = await _run_then_lose(world, uid="0")
    harness.write_fleet(world.fleet, {k: v for k, v in _fleet("0").items() if k != "c"})
    await _apply_ok(world)
    assert await _ids(world) == before
    again = await world.plan()
    assert again.is_empty
    assert [(r.kind.value, r.agent_id) for r in again.reports] == [
        ("ours-without-record", before["room-c"])
    ]


async def test_a_stale_state_adopts_the_agent_that_replaced_the_one_it_remembers(
    world: Any,
) -> None:
    """An old copy of the state (or one whose WAL is gone) names an agent that has since left."""
    harness.write_fleet(world.fleet, _fleet("1001"))
    await _apply_ok(world)
    old = world.state_path.read_bytes()
    tts = {"vendor": "elevenlabs", "params": {"key": "${env:AZURE_TTS_KEY}", "voice": "b"}}
    harness.write_fleet(
        world.fleet, {**_fleet("1001"), "a": agent("room-a", properties={"tts": tts})}
    )
    await _apply_ok(world)
    replaced = (await _by_channel(world))["room-a"]["agent_id"]
    world.state_path.write_bytes(old)
    planned = await world.plan()
    assert [(c.action, c.key, c.agent_id) for c in planned.changes] == [
        (Action.ADOPT, "demo/a", replaced)
    ]
    await _apply_ok(world)
    assert (await _by_channel(world))["room-a"]["agent_id"] == replaced
    await world.assert_converged()
