"""A daemon whose shared state was taken over by another reconciler stops acting and says so."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from apply_harness import agent, write_fleet
from daemon_harness import ManualClock, settings
from structlog.testing import capture_logs

from reconciler import daemon
from reconciler.errors import StateLeaseLostError
from reconciler.manifest.desired import DesiredFleet
from reconciler.reconcile.apply_pass import Done


class _Deposed:
    """A pass that finds the lease gone at its first write, as a paused daemon would."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(
        self,
        fleet: DesiredFleet,
        *,
        choose: daemon.Choose,
        stopping: Callable[[], bool],
        revision: str | None = None,
        expiring: frozenset[str] = frozenset(),
    ) -> Done:
        self.calls += 1
        raise StateLeaseLostError(state="postgresql://ops@db/fleets", epoch=3, current=4)


async def test_a_lost_lease_ends_the_daemon_without_a_retry(tmp_path: Path) -> None:
    """No backoff and no second pass: the daemon stops by itself, marked deposed, and logs why."""
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    runner = _Deposed()
    clock = ManualClock()
    the_daemon = daemon.Daemon(settings(tmp_path / "fleet"), runner=runner, clock=clock)
    with capture_logs() as logs:
        await asyncio.wait_for(the_daemon.run(stop=asyncio.Event()), timeout=10)
    assert runner.calls == 1
    assert the_daemon.deposed
    assert clock.deadlines() == []
    lost = [entry for entry in logs if entry["event"] == "lease_lost"]
    assert len(lost) == 1
    assert "held epoch 3 and epoch 4 holds it now" in lost[0]["error"]
