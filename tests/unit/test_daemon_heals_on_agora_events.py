"""Agora's events wake the daemon at once: a signed 102 for an owned agent heals its channel.

The resync is ten minutes, so within the tests' bounds only the event can bring an agent back.
The emulator sends its own signed events to the daemon's real HTTP address; the daemon's passes
run in-process against that emulator.
"""

from __future__ import annotations

from pathlib import Path

from apply_harness import World, agent
from daemon_harness import eventually, finished, until
from ncs_harness import served


async def _fail(world: World, channel: str) -> str:
    [live] = [a for a in await world.live() if a["channel"] == channel]
    await world.control("POST", f"/agents/{live['agent_id']}/fail", {"message": "RTC error"})
    return str(live["agent_id"])


async def test_an_owned_agent_that_fails_is_running_again_without_waiting_for_resync(
    tmp_path: Path,
) -> None:
    """Fail → signed 102 → wake → a pass that observes, plans a recreate and joins."""
    async with served(tmp_path, {"a": agent("ch-a")}) as it:
        await it.send_events()
        failed = await _fail(it.world, "ch-a")

        async def healed() -> bool:
            live = [a["agent_id"] for a in await it.world.live() if a["channel"] == "ch-a"]
            return len(live) == 1 and live != [failed]

        await eventually(healed)
    acted = {"project": "demo", "event": "102", "outcome": "acted"}
    assert it.counted("reconciler_agora_events_total", **acted) == 1
    recreated = {"action": "recreate", "outcome": "done"}
    assert it.counted("reconciler_actions_total", **recreated) == 1


async def test_the_same_event_with_a_wrong_signature_gets_401_and_nothing_acts(
    tmp_path: Path,
) -> None:
    """Every delivery is refused; no event is queued, no pass runs, the agent stays failed."""
    async with served(tmp_path, {"a": agent("ch-a")}) as it:
        passes = finished(it.daemon)
        await it.send_events(secret="not-the-notification-secret")
        await _fail(it.world, "ch-a")

        async def refused() -> bool:
            left = await it.deliveries(102)
            return bool(left) and len(left[0]["statuses"]) == 2

        await eventually(refused)
        [left] = await it.deliveries(102)
        assert left["statuses"] == [401, 401]
        assert it.daemon.inbox.pending == 0
        assert it.daemon.idle
        assert finished(it.daemon) == passes
        assert await it.world.live() == []
    assert it.counted("reconciler_webhook_requests_total", answer="accepted") == 0
    assert it.counted("reconciler_webhook_requests_total", answer="signature") >= 2


async def test_events_for_agents_we_do_not_own_are_counted_and_ignored(tmp_path: Path) -> None:
    """A stranger's agent failing is delivered and acknowledged, counted unowned, and wakes no
    pass."""
    async with served(tmp_path, {"a": agent("ch-a")}) as it:
        passes = finished(it.daemon)
        [stranger] = (
            await it.world.control(
                "POST", "/agents", {"agents": [{"name": "someone-else", "channel": "other"}]}
            )
        )["agent_ids"]
        await it.send_events()
        await it.world.control("POST", f"/agents/{stranger}/fail", {"message": "boom"})
        unowned = {"project": "demo", "event": "102", "outcome": "unowned"}
        await until(lambda: it.counted("reconciler_agora_events_total", **unowned) == 1)
        assert it.daemon.idle
        assert finished(it.daemon) == passes


async def test_a_token_expiry_warning_renews_that_agents_token_on_the_next_pass(
    tmp_path: Path,
) -> None:
    """A signed 104 for a fresh token (the planner alone would leave it for hours) wakes a pass
    that renews that agent's token, and only that one; the mark is then cleared."""
    async with served(tmp_path, {"a": agent("ch-a"), "b": agent("ch-b")}) as it:
        await it.send_events()
        [warned] = [a for a in await it.world.live() if a["channel"] == "ch-a"]
        warning = {"event_type": 104, "payload": {"message": "token privilege will expire"}}
        await it.world.control("POST", f"/agents/{warned['agent_id']}/events", warning)
        renewed = {"action": "renew-token", "outcome": "done"}
        await until(lambda: it.counted("reconciler_actions_total", **renewed) == 1)
        await until(lambda: it.daemon.idle)
        assert it.daemon.reactions.expiring.taken() == frozenset()
        updates = (await it.world.control("GET", "/counters"))["update"]
        assert updates == {"200": 1}
        [still] = [a for a in await it.world.live() if a["channel"] == "ch-a"]
        assert still["agent_id"] == warned["agent_id"]
    acted = {"project": "demo", "event": "104", "outcome": "acted"}
    assert it.counted("reconciler_agora_events_total", **acted) == 1
    assert it.counted("reconciler_actions_total", **renewed) == 1
