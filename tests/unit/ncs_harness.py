"""A daemon serving HTTP on a real port, its project verifying Agora events with ``SECRET``.

``served`` writes the fleet, runs the daemon (passes in-process against the world's emulator, a
ten-minute resync so that nothing but an event wakes it within the tests' bounds) and yields a
``Served`` that points the emulator's Notification Center at it and reads the counters.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apply_harness import World, write_fleet
from daemon_harness import ManualClock, real_daemon, running, until

from reconciler import daemon
from reconciler.agora import wire
from reconciler.agora.auth import BasicAuth
from reconciler.agora.client import AgoraClient
from reconciler.daemon import health
from reconciler.emulator import DEMO_APP_ID, DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET
from reconciler.state import MemoryStateStore

SECRET = "ncs-test-secret-24680"
SECRET_REFERENCE = "${env:AGORA_NCS_SECRET}"
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

    def rewrite(self, agents: dict[str, dict[str, Any]]) -> None:
        """Save new manifests (the watcher wakes a pass), the project still verifying events."""
        write_fleet(self.world.fleet, agents, notification_secret=SECRET_REFERENCE)

    async def speak(self, agent_id: str, text: str) -> None:
        """Say something through the API, so the agent has a history."""
        client = AgoraClient(
            app_id=DEMO_APP_ID,
            auth=BasicAuth(customer_id=DEMO_CUSTOMER_ID, customer_secret=DEMO_CUSTOMER_SECRET),
            base_url=self.world.base_url,
            transport=self.world.transport,
        )
        try:
            await client.speak(agent_id, wire.SpeakRequest(text=text))
        finally:
            await client.aclose()

    def counted(self, name: str, **labels: str) -> float:
        return self.daemon.metrics.registry.get_sample_value(name, labels) or 0.0


@asynccontextmanager
async def served(tmp_path: Path, agents: dict[str, dict[str, Any]]) -> AsyncIterator[Served]:
    """A converged daemon serving on a real port, its fleet's project verifying with SECRET."""
    world = World(tmp_path)
    world.environ["AGORA_NCS_SECRET"] = SECRET
    write_fleet(world.fleet, agents, notification_secret=SECRET_REFERENCE)
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
