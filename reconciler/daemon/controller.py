"""``reconciler run``: the long-lived controller that keeps the fleet converged (design §7).

One worker runs whole passes, one at a time, whenever its wake-up event is set: at start, by a
manifest change, by the jittered resync, by the next token-renewal deadline or schedule edge
(an agent's window opens or closes), by the next edge of a change window, by SIGHUP, by an
Agora Notification Center event about an owned agent (``ncs`` receives, ``reactions`` decides
whether to wake), or by its own retry after a failure (along ``Backoff``'s delays, reset by a
success). Triggers carry no payload, so bursts coalesce. Each pass loads the manifests; a load
with errors is logged and the last good fleet stays in force, so a broken edit never deletes
anything. Between planning and applying, ``FlapGuard`` holds back agents that keep being
recreated and the safety rules hold back what they are about (a mass delete, a protected agent);
the rest of the plan still runs.

``Daemon.run`` holds the worker and the triggers in one ``TaskGroup`` (and, for a daemon that
made its own ``Endpoints``, the HTTP server, the inbox and the notifier): one failing task stops
the rest, and the stop event (SIGTERM, SIGINT) lets the worker finish the
action in flight and start no other, within ``stop_grace``, after which the pass is cancelled.
A pass has a deadline too; one past it has failed, and backs off like any failure. A trigger
during the backoff starts the next pass at once. A pass that finds the state's lease taken over
stops the daemon at once. Running agents are left running. ``process`` wires a daemon to the
real state, clients and signals; on a shared state ``replicas`` runs one ``Daemon`` per term of
leading, all attached to the process's one ``Endpoints``.

It decides when to pass and what to make of the outcome; it must not plan, apply or speak HTTP to
Agora itself: ``apply_pass.run_pass`` is the pass, the same one ``reconciler apply`` runs.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

import structlog

from reconciler import plan
from reconciler.apply.report import Outcome
from reconciler.clock import Clock
from reconciler.daemon import flap, ncs, reactions, sourcing, triggers, webhooks
from reconciler.daemon.alerts import Alerts
from reconciler.daemon.endpoints import Endpoints
from reconciler.daemon.metrics import Metrics, PassResult
from reconciler.errors import ReconcilerError, StateLeaseLostError
from reconciler.manifest.desired import DesiredFleet
from reconciler.notify import Notifier
from reconciler.reconcile.apply_pass import Done
from reconciler.reconcile.bounds import DEFAULT_PASS_DEADLINE
from reconciler.source import LocalSource, Source

# A pass that succeeded within this many intervals keeps the daemon ready.
READY_INTERVALS: Final = 3
DEFAULT_STOP_GRACE: Final = 10.0

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DaemonSettings:
    """How the daemon paces itself; the flags of ``reconciler run`` beyond where things are."""

    manifests: Path
    interval: float = 30.0
    backoff: tuple[float, ...] = triggers.DEFAULT_BACKOFF
    flap: flap.FlapPolicy = field(default_factory=flap.FlapPolicy)
    debounce_ms: int = triggers.DEFAULT_DEBOUNCE_MS
    limits: plan.SafetyLimits = field(default_factory=plan.SafetyLimits)
    # A pass past this is cancelled and counts as failed; its intents are resolved by the next.
    pass_deadline: float = DEFAULT_PASS_DEADLINE
    # After SIGTERM, the pass in flight has this long to finish before it is cancelled.
    stop_grace: float = DEFAULT_STOP_GRACE


Choose = Callable[[plan.Plan], plan.Plan | None]


class Runner(Protocol):
    """Runs one pass with ``fleet``: resolve intents, observe, plan, ``choose``, apply.

    ``choose`` gets the plan as made and returns the plan to apply, or None to apply nothing;
    ``stopping`` turning true means start no further change; ``revision`` is the commit the
    fleet was loaded from, recorded on every record the pass writes; ``expiring`` are the agents
    whose tokens Agora warned are about to expire (event 104), for the pass to renew.
    """

    async def __call__(
        self,
        fleet: DesiredFleet,
        *,
        choose: Choose,
        stopping: Callable[[], bool],
        revision: str | None,
        expiring: frozenset[str],
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
        environ: Mapping[str, str] | None = None,
        source: Source | None = None,
        hooks: webhooks.PushWebhooks | None = None,
        notifier: Notifier | None = None,
        endpoints: Endpoints | None = None,
        closing: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``environ`` is where the projects' notification secrets resolve (default: empty);
        ``closing`` is awaited when ``run`` ends, however it ends (the runner's kept clients).

        Without ``endpoints`` the daemon makes its own (from ``metrics``, ``hooks`` and
        ``notifier``), leads them for good and runs them in ``run``; with them (one term of a
        replica) it uses theirs, and whoever made them attaches, detaches and runs them.
        """
        self.settings = settings
        self._own_endpoints = endpoints is None
        if endpoints is None:
            endpoints = Endpoints(
                metrics=metrics or Metrics(),
                environ=environ or {},
                hooks=hooks,
                notifier=notifier,
            )
            endpoints.leading = self
        self._endpoints = endpoints
        self.metrics = endpoints.metrics
        self._alerts = Alerts(
            None if endpoints.notifier is None else endpoints.notifier.send, clock=clock
        )
        self._manifests = sourcing.Manifests(
            source or LocalSource(settings.manifests), metrics=self.metrics, alerts=self._alerts
        )
        self._runner = runner
        self._closing = closing
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._wakeup.set()
        self._stop = asyncio.Event()
        self._backoff = triggers.Backoff(settings.backoff)
        self._flap = flap.FlapGuard(settings.flap)
        self._alarm = triggers.Alarm(self.wake, clock=clock)
        # A change window's edge: what it held back runs when it closes (or its allow opens).
        self._window_alarm = triggers.Alarm(self.wake, clock=clock, source="change-window")
        self._last_success: float | None = None
        self._passing = False
        self._between_passes = asyncio.Event()
        self._between_passes.set()
        self.deposed = False
        """Set when another reconciler took the state's lease over: this one stopped acting."""

    @property
    def inbox(self) -> ncs.Inbox:
        return self._endpoints.inbox

    @property
    def reactions(self) -> reactions.Reactions:
        return self._endpoints.reactions

    @property
    def fleet(self) -> DesiredFleet | None:
        """The fleet in force (None before the first good load)."""
        return self._manifests.fleet

    @property
    def passing(self) -> bool:
        """A pass is running now."""
        return self._passing

    async def between_passes(self) -> None:
        """Return once no pass is running."""
        await self._between_passes.wait()

    def wake(self) -> None:
        """Ask for a pass; several asks before it starts make one pass."""
        self._wakeup.set()

    def fetch_soon(self) -> None:
        """Ask for a pass that fetches the git source first (the interval's and a push's ask)."""
        self._manifests.want_fetch()
        self._wakeup.set()

    def ready(self) -> bool:
        """Whether a pass succeeded within the last ``READY_INTERVALS`` intervals."""
        if self._last_success is None:
            return False
        return self._clock.now() - self._last_success <= READY_INTERVALS * self.settings.interval

    def problem(self) -> str | None:
        """What is wrong though the daemon may be ready (a commit held back), for ``/readyz``."""
        return self._manifests.problem()

    @property
    def idle(self) -> bool:
        """No pass is running, and none has been asked for."""
        return not self._passing and not self._wakeup.is_set()

    @property
    def renewal_deadline(self) -> float | None:
        """When the alarm wakes the next pass: the next token renewal or schedule edge."""
        return self._alarm.deadline

    async def run(self, *, stop: asyncio.Event, sock: socket.socket | None = None) -> None:
        """Run until ``stop`` is set (after the pass in flight), or until a task fails; a lost
        lease sets ``stop`` itself. ``sock`` is served only by a daemon with its own endpoints."""
        self._stop = stop
        wake = self.wake
        source = self._manifests.source
        record = source.record()
        where = str(self.settings.manifests) if record is None else f"{record.url} {record.ref}"
        _log.info("daemon_started", manifests=where)
        try:
            async with asyncio.TaskGroup() as group:
                worker = group.create_task(self._work())
                group.create_task(self._cancel_after_grace(worker, stop=stop))
                if source.watch is not None:
                    group.create_task(
                        triggers.watch_manifests(
                            source.watch, wake, stop=stop, debounce_ms=self.settings.debounce_ms
                        )
                    )
                if source.fetch_interval is not None:
                    group.create_task(
                        triggers.resync_every(source.fetch_interval, self.fetch_soon, stop=stop)
                    )
                group.create_task(triggers.resync_every(self.settings.interval, wake, stop=stop))
                group.create_task(self._alarm.run(stop=stop))
                group.create_task(self._window_alarm.run(stop=stop))
                if self._own_endpoints:
                    group.create_task(self._endpoints.run(sock, stop=stop))
        finally:
            if self._closing is not None:
                await self._closing()

    async def _cancel_after_grace(self, worker: asyncio.Task[None], *, stop: asyncio.Event) -> None:
        """Once stopping, give the pass in flight ``stop_grace`` seconds, then cancel it.

        A call stuck on a hostile server must not keep the daemon from exiting; a cancelled
        pass is like a killed one, whose intents the next start resolves.
        """
        # The worker ends only after a stop; should it fail first, the group cancels this wait.
        await stop.wait()
        _, pending = await asyncio.wait({worker}, timeout=self.settings.stop_grace)
        if pending:
            _log.warning("pass_cancelled", reason="stop grace", grace_s=self.settings.stop_grace)
            worker.cancel()

    async def _work(self) -> None:
        while True:
            await triggers.first_of(self._wakeup.wait(), self._stop.wait())
            if self._stop.is_set():
                return
            self._wakeup.clear()
            self._passing = True
            self._between_passes.clear()
            try:
                ok = await self._pass()
            finally:
                self._passing = False
                self._between_passes.set()
            if ok:
                self._backoff.reset()
                continue
            delay = self._backoff.next_delay()
            _log.info("retry_scheduled", delay_s=delay)
            # A trigger (a manifest edit, a resync, SIGHUP) cuts the wait: it may be the fix.
            await triggers.first_of(
                self._clock.sleep(delay), self._stop.wait(), self._wakeup.wait()
            )
            self._wakeup.set()

    async def _pass(self) -> bool:
        """One pass; False when it failed and should be retried after a backoff."""
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(pass_id=uuid.uuid4().hex[:12]):
            _log.info("pass_started")
            in_force = await self._manifests.load()
            if in_force is None:
                # Retrying cannot fix a file (the watcher or the next fetch brings a new one);
                # a source that has handed out nothing yet is retried along the backoff.
                waiting = self._manifests.waiting
                self._finish(PassResult.ERROR if waiting else PassResult.INVALID, started=started)
                return not waiting
            fleet = in_force.fleet
            self._alerts.in_force(in_force.revision)
            if in_force.revision is not None:
                # Kept for the worker's later events too: the revision in force until the next.
                structlog.contextvars.bind_contextvars(revision=in_force.revision)
            deadline = asyncio.timeout(self.settings.pass_deadline)
            expiring = self.reactions.expiring.taken()
            try:
                async with deadline:
                    ran = await self._runner(
                        fleet,
                        choose=self._choose,
                        stopping=self._stop.is_set,
                        revision=in_force.revision,
                        expiring=expiring,
                    )
            except TimeoutError:
                if not deadline.expired():
                    raise
                limit = self.settings.pass_deadline
                _log.error("pass_failed", error=f"the pass took longer than {limit:g} s")
                self._finish(PassResult.ERROR, started=started)
                return False
            except StateLeaseLostError as exc:
                # Another reconciler acts on this state now; acting on would fight it.
                _log.error("lease_lost", error=str(exc))
                self.deposed = True
                self._stop.set()
                self._finish(PassResult.ERROR, started=started)
                return True
            except ReconcilerError as exc:
                _log.error("pass_failed", error=str(exc), error_type=type(exc).__name__)
                self._alerts.pass_finished(error=str(exc), ran=None)
                self._finish(PassResult.ERROR, started=started)
                return False
            self._alerts.pass_finished(error=None, ran=ran)
            self._take_in(fleet, ran)
            # Held-back changes are policy, not failure: the resync tries them again.
            ok = ran.report.ok
            if ok:
                self.reactions.expiring.done(expiring)
            self._finish(PassResult.SUCCESS if ok else PassResult.ERROR, started=started, ran=ran)
            return ok

    def _choose(self, made: plan.Plan) -> plan.Plan | None:
        """Hold back flapping recreations, then what the safety rules hold back; the rest runs."""
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
        self._alerts.held(filtered.held)
        for change in filtered.plan.changes:
            _log.info(
                "change_planned", key=change.key, action=change.action.value, why=change.reason
            )
        limits = self.settings.limits
        if self._manifests.fleet is not None:
            limits = plan.for_fleet(limits, self._manifests.fleet)
        gated = plan.hold_back(filtered.plan, limits=limits)
        self.metrics.held(str(kept.rule) for kept in gated.held)
        for kept in gated.held:
            _log.warning(
                "change_held_back",
                key=kept.change.key,
                action=kept.change.action.value,
                rule=str(kept.rule),
                why=kept.reason,
            )
        self._alerts.refused(tuple(f"{kept.change.key}: {kept.reason}" for kept in gated.held))
        return gated

    def _take_in(self, fleet: DesiredFleet, ran: Done) -> None:
        """Feed the metrics, the flap memory and the renewal alarm from a pass's outcome."""
        now = self._clock.now()
        report = ran.report
        self._endpoints.owners.update(ran.records)
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
        renewal = triggers.renewal_deadline(
            fleet,
            ran.records,
            live={agent.agent_id for agent in live} | done,
            policy=plan.PlanPolicy(),
            now=now,
        )
        self._window_alarm.set_at(plan.window_edge(fleet, now=now))
        # The next schedule edge wakes a pass too, so agents join and leave on time.
        edge = plan.next_edge(fleet.agents.values(), now=now)
        self._alarm.set_at(min((d for d in (renewal, edge) if d is not None), default=None))
        self.metrics.cost(ran.settled.plan.costs)

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
