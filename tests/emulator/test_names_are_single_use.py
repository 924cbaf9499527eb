"""An agent name is held while its agent lives (409 TaskConflict), and forever in strict mode."""

from __future__ import annotations

from reconciler.agora.wire import Endpoint


async def test_live_name_conflicts_with_exact_error_body(api):
    """A second join under a live agent's name gets 409 with exactly detail and reason."""
    await api.start("concierge")
    response = await api.join("concierge", channel="other", uid="1002")
    assert response.status_code == 409
    assert set(response.json()) == {"detail", "reason"}
    assert response.json()["reason"] == "TaskConflict"


async def test_name_is_free_again_once_its_agent_stopped(api):
    """By default a name held by a STOPPED agent can be joined again."""
    agent_id = await api.start("concierge")
    await api.call(Endpoint.LEAVE, agent_id)
    assert (await api.join("concierge")).status_code == 409
    await api.advance(1)
    assert (await api.join("concierge")).status_code == 200


async def test_strict_mode_never_frees_a_name(api):
    """With strict_names a name stays taken after its agent stopped."""
    await api.configure(strict_names=True)
    agent_id = await api.start("concierge")
    await api.call(Endpoint.LEAVE, agent_id)
    await api.advance(3600)
    assert await api.status(agent_id) == "STOPPED"
    assert (await api.join("concierge")).status_code == 409


async def test_conflict_body_can_carry_the_holders_id(api):
    """With conflict_body_includes_agent_id the 409 names the agent that holds the name."""
    await api.configure(conflict_body_includes_agent_id=True)
    agent_id = await api.start("concierge")
    body = (await api.join("concierge", channel="other", uid="7")).json()
    assert body["agent_id"] == agent_id
    assert body["reason"] == "TaskConflict"


async def test_agent_ids_are_32_uppercase_alphanumerics_and_unique(api):
    """Every join hands out a fresh id of 32 characters from A-Z and 0-9."""
    ids = [await api.start(f"agent-{n}", channel=f"room-{n}") for n in range(10)]
    assert len(set(ids)) == 10
    assert all(len(i) == 32 and i.isalnum() and i == i.upper() for i in ids)
