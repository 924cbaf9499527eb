"""``reconciler run``: the long-lived controller that keeps the fleet converged (design §7).

One worker runs whole passes, one at a time, whenever its wake-up event is set: at start, by a
manifest change, by the jittered resync, by the next token-renewal deadline, by SIGHUP, or by its
own retry after a failure (along ``Backoff``'s delays, reset by a success). Triggers carry no
payload, so bursts coalesce. Each pass loads the manifests; a load with errors is logged and the
last good fleet stays in force, so a broken edit never deletes anything. Between planning and
applying, ``FlapGuard`` holds back agents that keep being recreated and the safety rules refuse
mass deletes.

``Daemon.run`` holds the worker and the triggers in one ``TaskGroup``: one failing task stops
the rest, and the stop event (SIGTERM, SIGINT) lets the worker finish the action in flight and
start no other. A ``Daemon`` lives for one term of holding the state (``service`` runs the
process, its HTTP endpoints and its terms); a pass that finds the state's lease taken over ends
the term at once.

It decides when to pass and what to make of the outcome; it must not plan, apply or speak HTTP to
Agora itself: ``apply_pass.run_pass`` is the pass, the same one ``reconciler apply`` runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import signal
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

import structlog

from reconciler import plan
from reconciler.agora.client import RequestHook, Transport
from reconciler.apply.report import Outcome
from reconciler.apply.steps import ApplySettings
from reconciler.clock import Clock
from reconciler.daemon import flap, triggers
from reconciler.daemon.metrics import Metrics, PassResult
from reconciler.errors import ReconcilerError, StateLeaseLostError
from reconciler.manifest import load
from reconciler.manifest.desired import DesiredFleet
from reconciler.reconcile import apply_pass, connect
from reconciler.reconcile.apply_pass import Done
from reconciler.state import StateStore

# A pass that succeeded within this many intervals keeps the daemon ready.
READY_INTERVALS: Final = 3
_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

_log = structlog.get_logger(__name__)


def parse_duration(text: str) -> float:
    """Seconds from ``30s``, ``2m``, ``1h``, ``500ms`` or a bare number of seconds."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"expected a positive duration such as 30s, 2m or 1h, got {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


@dataclass(frozen=True)
class DaemonSettings:
    """How the daemon paces itself; the flags of ``reconciler run`` beyond where things are."""

    manifests: Path
    interval: float = 30.0
    backoff: tuple[float, ...] = triggers.DEFAULT_BACKOFF
    flap: flap.FlapPolicy = field(default_factory=flap.FlapPolicy)
    debounce_ms: int = triggers.DEFAULT_DEBOUNCE_MS
    limits: plan.SafetyLimits = field(default_factory=plan.SafetyLimits)


Choose = Callable[[plan.Plan], plan.Plan | None]


class Runner(Protocol):
    """Runs one pass with ``fleet``: resolve intents, observe, plan, ``choose``, apply.

    ``choose`` gets the plan as made and returns the plan to apply, or None to apply nothing;
    ``stopping`` turning true means start no further change.
    """

    async def __call__(
        self, fleet: DesiredFleet, *, choose: Choose, stopping: Callable[[], bool]
    ) -> Done: ...


class Daemon:
    """The worker, its triggers and what it remembers between passes."""

    def __init__(
        self,
        settings: DaemonSettings,
        *,
        runner: Runner,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self._runner = runner
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._wakeup.set()
        self._stop = asyncio.Event()
        self._backoff = triggers.Backoff(settings.backoff)
        self._flap = flap.FlapGuard(settings.flap)
        self._alarm = triggers.Alarm(self.wake, clock=clock)
        self._fleet: DesiredFleet | None = None
        self._digest: str | None = None
        self._last_success: float | None = None
        self._refusals: tuple[str, ...] = ()
        self._passing = False
        self.deposed = False
        """Set when another reconciler took the state's lease over: this one stopped acting."""

    def wake(self) -> None:
        """Ask for a pass; several asks before it starts make one pass."""
        self._wakeup.set()

    def ready(self) -> bool:
        """Whether a pass succeeded within the last ``READY_INTERVALS`` intervals."""
        if self._last_success is None:
            return False
        return self._clock.now() - self._last_success <= READY_INTERVALS * self.settings.interval

    @property
    def idle(self) -> bool:
        """No pass is running, and none has been asked for."""
        return not self._passing and not self._wakeup.is_set()

    @property
    def renewal_deadline(self) -> float | None:
        """When the renewal alarm wakes the next pass, if any token wants renewing."""
        return self._alarm.deadline

    async def run(self, *, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (after the pass in flight), or until a task fails; a lost
        lease sets ``stop`` itself."""
        self._stop = stop
        wake = self.wake
        _log.info("daemon_started", manifests=str(self.settings.manifests))
        async with asyncio.TaskGroup() as group:
            group.create_task(self._work())
            group.create_task(
                triggers.watch_manifests(
                    self.settings.manifests, wake, stop=stop, debounce_ms=self.settings.debounce_ms
                )
            )
            group.create_task(triggers.resync_every(self.settings.interval, wake, stop=stop))
            group.create_task(self._alarm.run(stop=stop))

    async def _work(self) -> None:
        while True:
            await triggers.first_of(self._wakeup.wait(), self._stop.wait())
            if self._stop.is_set():
                return
            self._wakeup.clear()
            self._passing = True
            try:
                ok = await self._pass()
            finally:
                self._passing = False
            if ok:
                self._backoff.reset()
                continue
            delay = self._backoff.next_delay()
            _log.info("retry_scheduled", delay_s=delay)
            await triggers.first_of(self._clock.sleep(delay), self._stop.wait())
            self._wakeup.set()

    async def _pass(self) -> bool:
        """One pass; False when it failed and should be retried after a backoff."""
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(pass_id=uuid.uuid4().hex[:12]):
            _log.info("pass_started")
            fleet = self._load()
            if fleet is None:
                # Retrying cannot fix a file; the watcher wakes us when it changes.
                self._finish(PassResult.INVALID, started=started)
                return True
            self._refusals = ()
            try:
                ran = await self._runner(fleet, choose=self._choose, stopping=self._stop.is_set)
            except StateLeaseLostError as exc:
                # Another reconciler acts on this state now; acting on would fight it.
                _log.error("lease_lost", error=str(exc))
                self.deposed = True
                self._stop.set()
                self._finish(PassResult.ERROR, started=started)
                return True
            except ReconcilerError as exc:
                _log.error("pass_failed", error=str(exc), error_type=type(exc).__name__)
                self._finish(PassResult.ERROR, started=started)
                return False
            self._take_in(fleet, ran)
            ok = ran.report.ok and not self._refusals
            self._finish(PassResult.SUCCESS if ok else PassResult.ERROR, started=started, ran=ran)
            return ok

    def _load(self) -> DesiredFleet | None:
        """The manifests if they are valid, else the last good fleet (None before the first)."""
        loaded = load.load_fleet(self.settings.manifests)
        fresh = loaded.digest != self._digest
        self._digest = loaded.digest
        if loaded.fleet is None:
            self.metrics.manifests_valid.set(0)
            if fresh:
                _log.error(
                    "manifests_invalid",
                    errors=len(loaded.errors),
                    diagnostics=[str(d) for d in loaded.diagnostics],
                    using="last good fleet" if self._fleet is not None else "nothing",
                )
            return self._fleet
        self.metrics.manifests_valid.set(1)
        if fresh:
            warnings = [str(d) for d in loaded.warnings]
            _log.info("manifests_loaded", agents=len(loaded.fleet.agents), warnings=warnings)
        self._fleet = loaded.fleet
        return loaded.fleet

    def _choose(self, made: plan.Plan) -> plan.Plan | None:
        """Hold back flapping recreations, then let the safety rules refuse what remains."""
        now = self._clock.now()
        filtered = self._flap.filter(made, now=now)
        for held in filtered.held:
            _log.warning(
                "recreate_held",
                key=held.key,
                retry_in_s=round(held.until - now, 1),
                strikes=held.strikes,
                recreates=held.recreates,
            )
        self.metrics.flapping_agents.set(len(self._flap.holding(now=now)))
        for change in filtered.plan.changes:
            _log.info(
                "change_planned", key=change.key, action=change.action.value, why=change.reason
            )
        self._refusals = plan.safety_problems(filtered.plan, limits=self.settings.limits)
        if self._refusals:
            _log.error("plan_refused", refusals=list(self._refusals))
            return None
        return filtered.plan

    def _take_in(self, fleet: DesiredFleet, ran: Done) -> None:
        """Feed the metrics, the flap memory and the renewal alarm from a pass's outcome."""
        now = self._clock.now()
        report = ran.report
        self._flap.record(report.results, now=now)
        self.metrics.flapping_agents.set(len(self._flap.holding(now=now)))
        self.metrics.applied((*report.leftovers, *report.results))
        settled = ran.settled
        live = [
            agent
            for project in settled.observed.projects.values()
            for agent in project.live.values()
        ]
        self.metrics.observed(
            desired=len(fleet.agents),
            live_statuses=[agent.status for agent in live],
            drift=len({change.key for change in settled.plan.changes}),
        )
        # An unsettled pass observed before it applied: agents it joined or updated are live too.
        done = {r.agent_id for r in report.results if r.outcome is Outcome.DONE and r.agent_id}
        self._alarm.set_at(
            triggers.renewal_deadline(
                fleet,
                ran.records,
                live={agent.agent_id for agent in live} | done,
                policy=plan.PlanPolicy(),
                now=now,
            )
        )

    def _finish(self, result: PassResult, *, started: float, ran: Done | None = None) -> None:
        seconds = time.perf_counter() - started
        now = self._clock.now()
        if result is PassResult.SUCCESS:
            self._last_success = now
        self.metrics.pass_finished(result=result, seconds=seconds, finished_at=now)
        fields: dict[str, object] = {"result": result.value, "duration_s": round(seconds, 3)}
        if ran is not None:
            fields.update(
                changes=len(ran.report.results),
                failed=len(ran.report.unfinished),
                leftovers=len(ran.report.leftovers),
            )
        _log.info("pass_finished", **fields)


@contextmanager
def stop_on_signals(stop: asyncio.Event, *, wake: Callable[[], None]) -> Iterator[None]:
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


def pass_runner(
    manifests: Path,
    *,
    store: StateStore,
    environ: Mapping[str, str],
    api_url: str | None,
    clock: Clock,
    settings: ApplySettings,
    on_request: RequestHook | None = None,
    transport: Transport | None = None,
) -> Runner:
    """The production ``Runner``: ``apply_pass.run_pass`` over fresh clients for each pass."""

    async def run(fleet: DesiredFleet, *, choose: Choose, stopping: Callable[[], bool]) -> Done:
        # git runs in a thread: a pass must not hold the event loop (and the health server) up.
        git_revision = await asyncio.to_thread(apply_pass.git_revision, manifests)
        revision = dataclasses.replace(settings, git_revision=git_revision)
        async with connect.open_clients(
            fleet.projects,
            environ=environ,
            api_url=api_url,
            transport=transport,
            clock=clock,
            on_request=on_request,
        ) as apis:
            return await apply_pass.run_pass(
                fleet,
                store=store,
                apis=apis,
                environ=environ,
                clock=clock,
                settings=revision,
                choose=lambda made: choose(made.plan),
                stopping=stopping,
                settle=True,
            )

    return run
