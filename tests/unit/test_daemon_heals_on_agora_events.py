"""Agora's events wake the daemon at once: a signed 102 for an owned agent heals its channel.

The resync is ten minutes, so within the tests' bounds only the event can bring an agent back.
The emulator sends its own signed events to the daemon's real HTTP address; the daemon's passes
run in-process against that emulator.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apply_harness import World, agent, write_fleet
from daemon_harness import ManualClock, eventually, finished, real_daemon, running, until

from reconciler import daemon
from reconciler.daemon import health
from reconciler.state import MemoryStateStore

SECRET = "ncs-test-secret-24680"
RESYNC = 600.0


@dataclass
class Served:
    world: World
    daemon: daemon.Daemon
    url: str

    async def send_events(self, *, secret: str = SECRET) -> None:
        """Point the emulator's Notification Center at the daemon, retries quick and few."""
        target = {"url": self.url, "secret": secret, "retries": 1, "retry_seconds": 0.01}
        await self.world.control("POST", "/webhooks", target)

    async def deliveries(self, event_type: int) -> list[dict[str, Any]]:
        found = (await self.world.control("GET", "/webhooks"))["deliveries"]
        return [d for d in found if d["event_type"] == event_type]

    def counted(self, name: str, **labels: str) -> float:
        return self.daemon.metrics.registry.get_sample_value(name, labels) or 0.0


@asynccontextmanager
async def served(tmp_path: Path, agents: dict[str, dict[str, Any]]) -> AsyncIterator[Served]:
    """A converged daemon serving on a real port, its fleet's project verifying with SECRET."""
    world = World(tmp_path)
    world.environ["AGORA_NCS_SECRET"] = SECRET
    write_fleet(world.fleet, agents, notification_secret="${env:AGORA_NCS_SECRET}")
    the_daemon = real_daemon(
        world, store=MemoryStateStore(), clock=ManualClock(time.time()), interval=RESYNC
    )
    sock = health.bind(health.Address("127.0.0.1", 0))
    try:
        async with running(the_daemon, sock=sock):
            await until(the_daemon.ready)
            await until(lambda: the_daemon.idle)
            url = f"{health.url_of(sock)}/webhooks/agora/demo"
            yield Served(world=world, daemon=the_daemon, url=url)
            await world.control("DELETE", "/webhooks")
    finally:
        sock.close()


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
