"""What wakes the daemon's worker: manifest changes, a jittered resync, a renewal deadline, a retry.

Every trigger only calls ``wake`` (which sets the worker's one wake-up event): it carries no
payload, so a burst of triggers coalesces into one pass (style principle 1); signals too:
SIGHUP wakes, SIGTERM and SIGINT set the stop event (``stop_on_signals``). Each trigger is a
coroutine that runs until the stop event is set. ``Backoff`` is the plain sequence of delays a
failing pass retries along, and ``renewal_deadline`` says when the next token wants renewing.

Nothing here runs a pass, plans or reads the state; timing waits on the injected ``Clock``
(except the file watcher's debounce and apscheduler's own timer).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Collection, Coroutine, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any, Final

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from reconciler import plan
from reconciler.clock import Clock
from reconciler.daemon import watch
from reconciler.manifest import load
from reconciler.manifest.desired import DesiredFleet
from reconciler.state import AgentRecord

Wake = Callable[[], None]
DEFAULT_BACKOFF: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# A manifest save is often several events (write, rename, chmod); group them into one wake-up.
DEFAULT_DEBOUNCE_MS: Final = 200
RESYNC_JITTER_FRACTION: Final = 0.1
# The planner renews only once the due instant has passed, so the alarm rings just after it.
RENEWAL_MARGIN_SECONDS: Final = 1.0

_log = structlog.get_logger(__name__)


async def first_of(*waits: Coroutine[Any, Any, object]) -> None:
    """Wait until the first of ``waits`` finishes, then cancel the others."""
    tasks = [asyncio.create_task(wait) for wait in waits]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if not task.cancelled():
            task.result()


async def watch_manifests(
    path: Path, wake: Wake, *, stop: asyncio.Event, debounce_ms: int = DEFAULT_DEBOUNCE_MS
) -> None:
    """Wake on every debounced batch of changes to manifest files under ``path``.

    The directory is watched rather than a single file, because editors save by writing a new
    file and renaming it over the old one, which a watch on the file itself would lose.
    """
    watched = _watched(path)
    if watched is None:
        _log.warning("watch_unavailable", path=str(path), reason="no such directory")
        return
    _log.info("watch_started", path=str(watched.directory))
    async for _ in watch.batches(watched, stop=stop, debounce_ms=debounce_ms):
        _log.debug("wakeup", source="manifests")
        wake()


def _watched(path: Path) -> watch.Watched | None:
    """What to watch for ``path``: its whole tree, or the directory a single manifest file is
    in, made absolute (as both watchers report changes). None if there is no such directory."""
    root = path.absolute()
    if root.is_dir():
        return watch.Watched(root, recursive=True, relevant=_manifest_under(root))
    if root.parent.is_dir():
        return watch.Watched(root.parent, recursive=False, relevant=lambda target: target == root)
    return None


def _manifest_under(root: Path) -> Callable[[Path], bool]:
    def manifest(target: Path) -> bool:
        return target.suffix.lower() in load.SUFFIXES and root in target.parents

    return manifest


async def resync_every(
    interval: float,
    wake: Wake,
    *,
    stop: asyncio.Event,
    jitter_fraction: float = RESYNC_JITTER_FRACTION,
) -> None:
    """Wake every ``interval`` seconds plus up to ``jitter_fraction`` of it, so replicas spread out.

    The periodic pass is what heals agents that stopped by themselves and catches any change the
    watcher missed.
    """
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
    scheduler.add_job(
        wake,
        IntervalTrigger(seconds=interval, jitter=interval * jitter_fraction, timezone=UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)


class Alarm:
    """One deadline (Unix seconds) at a time; wakes the worker once when it passes.

    ``set_at`` moves or clears it whenever a pass learns a new deadline; ``run`` is the task
    that waits for it. ``source`` names it in the wake-up's log event.
    """

    def __init__(self, wake: Wake, *, clock: Clock, source: str = "renewal") -> None:
        self._wake = wake
        self._clock = clock
        self._source = source
        self._deadline: float | None = None
        self._moved = asyncio.Event()

    @property
    def deadline(self) -> float | None:
        return self._deadline

    def set_at(self, deadline: float | None) -> None:
        if deadline != self._deadline:
            self._deadline = deadline
            self._moved.set()

    async def run(self, *, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._moved.clear()
            deadline = self._deadline
            if deadline is None:
                await first_of(self._moved.wait(), stop.wait())
                continue
            delay = deadline - self._clock.now()
            if delay > 0:
                await first_of(self._clock.sleep(delay), self._moved.wait(), stop.wait())
                if self._moved.is_set() or stop.is_set() or self._clock.now() < deadline:
                    continue
            self._deadline = None
            _log.debug("wakeup", source=self._source)
            self._wake()


class Backoff:
    """The delays a failing pass waits before its retry: the sequence, then its last, repeated.

    ``reset`` after a success starts over from the first delay.
    """

    def __init__(self, delays: Iterable[float] = DEFAULT_BACKOFF) -> None:
        self._delays = tuple(delays)
        if not self._delays or min(self._delays) < 0:
            raise ValueError("backoff needs at least one delay, none negative")
        self._failures = 0

    def next_delay(self) -> float:
        """The delay after one more failure."""
        delay = self._delays[min(self._failures, len(self._delays) - 1)]
        self._failures += 1
        return delay

    def reset(self) -> None:
        self._failures = 0


def renewal_deadline(
    fleet: DesiredFleet,
    records: Mapping[str, AgentRecord],
    *,
    live: Collection[str],
    policy: plan.PlanPolicy,
    now: float,
) -> float | None:
    """When the next minted token of a live agent (by id) wants renewing, by the planner's rule.

    That is just after ``plan.renewal_due_at``, since the planner renews only once that instant
    has passed. Deadlines past are left out: a token that a successful pass did not renew is one
    the planner does not want renewed (or cannot renew), and waking for it again would only spin.
    """
    deadlines = []
    for key, record in records.items():
        agent = fleet.agents.get(key)
        project = fleet.projects.get(record.project)
        if agent is None or project is None or record.agent_id not in live:
            continue
        due = plan.renewal_due_at(
            agent, project=project, expires_at=record.token_expires_at, policy=policy
        )
        if due is None:
            continue
        deadline = due + RENEWAL_MARGIN_SECONDS
        if deadline > now:
            deadlines.append(deadline)
    return min(deadlines, default=None)


@contextmanager
def stop_on_signals(stop: asyncio.Event, *, wake: Wake) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``; SIGHUP wakes a pass. Handlers go when the block ends."""
    loop = asyncio.get_running_loop()

    def stopping(signum: signal.Signals) -> None:
        _log.info("stop_requested", signal=signum.name)
        stop.set()

    def hangup() -> None:
        _log.info("wakeup", source="SIGHUP")
        wake()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping, signum)
    loop.add_signal_handler(signal.SIGHUP, hangup)
    try:
        yield
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
