"""``reactions``: who owns the agent an event is about decides what it does."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from reconciler.agora import events
from reconciler.daemon import reactions
from reconciler.daemon.ncs import Received
from reconciler.state import AgentRecord


def _record(key: str, agent_id: str, generation: int = 1) -> AgentRecord:
    return AgentRecord(
        key=key,
        project="demo",
        remote_name=f"rc-demo--{key.partition('/')[2]}-g{generation}",
        generation=generation,
        agent_id=agent_id,
        channel="ch",
        agent_rtc_uid="1001",
        applied_properties={},
        spec_hash="h",
        token_expires_at=None,
        created_at=0.0,
        updated_at=0.0,
    )


def _left(agent_id: str, notice_id: str = "n") -> Received:
    notice = events.Notice(
        notice_id=notice_id,
        product_id=events.PRODUCT_ID,
        event_type=events.EventType.AGENT_LEFT,
        notify_ms=0,
        payload={"agent_id": agent_id, "status": "FAILED"},
    )
    return Received(project="demo", notice=notice)


class Rig:
    def __init__(self) -> None:
        self.owners = reactions.Owners()
        self.woken = 0
        self.passing = False
        self.between = asyncio.Event()
        self.between.set()
        self.registry = CollectorRegistry()
        self.reactions = reactions.Reactions(
            owners=self.owners,
            wake=self._wake,
            fleet=lambda: None,
            between_passes=self.between.wait,
            passing=lambda: self.passing,
            registry=self.registry,
        )

    def _wake(self) -> None:
        self.woken += 1

    def outcome(self, outcome: str) -> float:
        labels = {"project": "demo", "event": "102", "outcome": outcome}
        return self.registry.get_sample_value("reconciler_agora_events_total", labels) or 0.0


async def test_a_102_wakes_only_for_the_agent_the_state_holds_now() -> None:
    """The current agent wakes; the one a pass replaced is known but not woken for; a stranger
    is counted unowned."""
    rig = Rig()
    rig.owners.update({"demo/a": _record("demo/a", "OLD")})
    rig.owners.update({"demo/a": _record("demo/a", "NEW", generation=2)})
    await rig.reactions.handle(_left("NEW"))
    await rig.reactions.handle(_left("OLD"))
    await rig.reactions.handle(_left("STRANGER"))
    assert rig.woken == 1
    assert (rig.outcome("acted"), rig.outcome("ignored"), rig.outcome("unowned")) == (1, 1, 1)
    former = rig.owners.lookup("demo", "OLD")
    assert former is not None
    assert (former.current, former.record.generation) == (False, 1)
    assert rig.owners.lookup("other", "NEW") is None


async def test_an_unknown_agent_is_judged_after_the_pass_in_flight() -> None:
    """The agent may be the one that pass is joining: its event waits for the pass's records."""
    rig = Rig()
    rig.passing = True
    rig.between.clear()
    handling = asyncio.create_task(rig.reactions.handle(_left("JOINING")))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not handling.done()
    rig.owners.update({"demo/a": _record("demo/a", "JOINING")})
    rig.passing = False
    rig.between.set()
    await asyncio.wait_for(handling, timeout=10)
    assert rig.woken == 1


def test_former_agents_are_remembered_only_so_many() -> None:
    owners = reactions.Owners(remember=2)
    for index in range(4):
        owners.update({"demo/a": _record("demo/a", f"A{index}", generation=index + 1)})
    assert [owners.lookup("demo", f"A{i}") is not None for i in range(4)] == [
        False,
        True,
        True,
        True,
    ]
