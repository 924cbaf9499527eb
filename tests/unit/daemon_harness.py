"""What the daemon's unit tests share: a clock driven by hand, a scripted runner, a running daemon.

``ManualClock`` never moves by itself: sleepers wait until a test calls ``advance``, which wakes
them in deadline order, so backoff, renewal and readiness are tested on fake time. ``running``
starts a ``Daemon`` as a task and stops it (after its pass in flight) on the way out. ``until``
polls a condition with a generous bound, for what happens on the event loop between awaits.
``real_daemon`` runs real passes against the in-process emulator of an apply ``World``, with the
state in memory (the daemon holds it; the world's state file stays unused).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apply_harness import World

from reconciler import daemon
from reconciler.apply.report import ApplyReport
from reconciler.apply.steps import ApplySettings
from reconciler.daemon.metrics import Metrics, PassResult
from reconciler.errors import ServerError
from reconciler.manifest.desired import DesiredFleet
from reconciler.notify import Notifier
from reconciler.observe.fleet import ObservedFleet
from reconciler.plan import Plan
from reconciler.reconcile.apply_pass import Done, Made
from reconciler.reconcile.clients import KeptClients
from reconciler.source import Source
from reconciler.state import StateStore

START = 1_700_000_000.0
# Only ends a test that has already failed: far above what a 2-core machine under load needs.
UNTIL_BOUND_SECONDS = 60.0


class ManualClock:
    """Unix time that moves only when a test calls ``advance``."""

    def __init__(self, start: float = START) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> Coroutine[Any, Any, None]:
        """Counted from the call, as a real sleep is. Counted from when the sleeping task first
        ran, a sleep begun just before ``advance`` would end ``advance`` seconds too late: the
        daemon's alarm, set at an edge, then missed it."""
        if seconds <= 0:
            return asyncio.sleep(0)
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), woken))
        return _until(woken)

    def deadlines(self) -> list[float]:
        """Seconds from now until each pending sleep ends, soonest first."""
        return sorted(d - self._now for d, _, f in self._sleepers if not f.done())

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper in turn and letting the loop run after each."""
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, woken = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not woken.done():
                woken.set_result(None)
            await settle()
        self._now = target
        await settle()


async def _until(woken: asyncio.Future[None]) -> None:
    await woken


async def settle() -> None:
    """Let every ready task run until it waits on something."""
    for _ in range(50):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``; the bound is far above what it takes, never a timing assertion."""
    async with asyncio.timeout(UNTIL_BOUND_SECONDS):
        # Polling on purpose: the conditions are about state no event announces.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """``until`` for a condition that must ask someone (the emulator) to answer."""
    async with asyncio.timeout(UNTIL_BOUND_SECONDS):
        while not await condition():  # noqa: ASYNC110  (polling the emulator on purpose)
            await asyncio.sleep(0.02)


@dataclass
class ScriptedRunner:
    """A pass that fails ``failures`` times with a 503, then succeeds with ``plan``.

    Every call records the fleet it got and the plan ``choose`` let through; ``gate`` (when set)
    holds each pass until a test opens it.
    """

    plan: Plan = field(default_factory=lambda: Plan(changes=()))
    failures: int = 0
    gate: asyncio.Event | None = None
    fleets: list[DesiredFleet] = field(default_factory=list)
    chosen: list[Plan | None] = field(default_factory=list)
    stopping_seen: list[bool] = field(default_factory=list)
    revisions: list[str | None] = field(default_factory=list)

    async def __call__(
        self,
        fleet: DesiredFleet,
        *,
        choose: daemon.Choose,
        stopping: Callable[[], bool],
        revision: str | None,
        expiring: frozenset[str] = frozenset(),
    ) -> Done:
        self.fleets.append(fleet)
        self.revisions.append(revision)
        if self.gate is not None:
            await self.gate.wait()
        self.stopping_seen.append(stopping())
        if self.failures:
            self.failures -= 1
            raise ServerError(status=503, reason="ServiceUnavailable", endpoint="list")
        self.chosen.append(choose(self.plan))
        observed = ObservedFleet(projects={})
        return Done(
            plan=self.plan,
            observed=observed,
            report=ApplyReport(),
            records={},
            settled=Made(plan=self.plan, observed=observed),
        )

    @property
    def calls(self) -> int:
        return len(self.fleets)


@asynccontextmanager
async def running(
    the_daemon: daemon.Daemon, *, sock: socket.socket | None = None
) -> AsyncIterator[asyncio.Event]:
    """Run ``the_daemon`` for the block (serving HTTP on ``sock`` if given); yields its stop
    event and waits for it to finish."""
    stop = asyncio.Event()
    task = asyncio.create_task(the_daemon.run(stop=stop, sock=sock))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)


def settings(manifests: Path, **overrides: object) -> daemon.DaemonSettings:
    """Daemon settings for tests: a long interval, so apscheduler never fires on its own."""
    values: dict[str, object] = {"manifests": manifests, "interval": 3600.0, **overrides}
    return daemon.DaemonSettings(**values)  # type: ignore[arg-type]


def finished(the_daemon: daemon.Daemon) -> int:
    """How many passes ended so far, whatever their result."""
    registry = the_daemon.metrics.registry
    counts = (
        registry.get_sample_value("reconciler_reconcile_total", {"result": r}) for r in PassResult
    )
    return int(sum(count or 0.0 for count in counts))


async def one_pass(the_daemon: daemon.Daemon) -> None:
    """Wake the daemon and wait until a pass that started after the wake-up has ended."""
    before = finished(the_daemon)
    await until(lambda: the_daemon.idle)
    the_daemon.wake()
    await until(lambda: finished(the_daemon) > before and the_daemon.idle)


def real_daemon(
    world: World,
    *,
    store: StateStore,
    clock: ManualClock,
    source: Source | None = None,
    notifier: Notifier | None = None,
    **overrides: object,
) -> daemon.Daemon:
    """A daemon whose passes are the real ``apply_pass.run_pass`` against ``world``'s emulator
    (reading ``source`` when given, else ``world``'s manifest directory; telling ``notifier``)."""
    metrics = Metrics()
    clients = KeptClients(
        environ=world.environ,
        api_url=world.base_url,
        transport=world.transport,
        on_request=metrics.on_request,
        clock=clock,
    )
    runner = daemon.pass_runner(
        store=store, clients=clients, environ=world.environ, clock=clock, settings=ApplySettings()
    )
    return daemon.Daemon(
        settings(world.fleet, **overrides),
        runner=runner,
        clock=clock,
        metrics=metrics,
        environ=world.environ,
        source=source,
        notifier=notifier,
        closing=clients.aclose,
    )
