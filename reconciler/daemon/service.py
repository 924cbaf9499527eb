"""``reconciler run`` as a process: the HTTP endpoints for its whole life, and terms of leadership.

A daemon acts only while it holds the state exclusively. On an SQLite file that is the OS lock,
taken at start or never: a second daemon exits 1 naming the holder. On a shared PostgreSQL state
several replicas may run: each waits as a standby (serving ``/healthz``, ``reconciler_leader 0``)
until the lease is free, then leads (``reconciler_leader 1``) with a fresh ``Daemon`` for the
term. A leader whose lease was taken over (it was paused or cut off past the TTL) ends its term
without acting further and stands by again. The lease TTL bounds how long a dead leader keeps
the others waiting. SIGTERM ends the term in force (after the action in flight) or the wait,
releases the state and exits 0; running agents are left running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import structlog

from reconciler.apply.steps import ApplySettings
from reconciler.clock import SystemClock
from reconciler.daemon import health, triggers
from reconciler.daemon.controller import Daemon, DaemonSettings, pass_runner, stop_on_signals
from reconciler.daemon.metrics import Metrics
from reconciler.errors import StateError, StateLockedError
from reconciler.state import (
    DEFAULT_LEASE_TTL,
    PostgresLocation,
    StateStore,
    StateTarget,
    open_state,
    parse_location,
)

_POLLS_PER_TTL: Final = 6
"""A standby asks for the lease this many times per TTL, so it takes over soon after expiry."""

_log = structlog.get_logger(__name__)


@dataclass
class _Replica:
    """What the endpoints ask about: the term in force, if any, and whether the state answers."""

    leading: Daemon | None = None
    reachable: bool = True

    def ready(self) -> bool:
        """A leader is ready after a recent good pass; a standby while it can reach the state."""
        return self.leading.ready() if self.leading is not None else self.reachable

    def wake(self) -> None:
        if self.leading is not None:
            self.leading.wake()


async def run_daemon(
    settings: DaemonSettings,
    *,
    state_path: StateTarget | None,
    listen: health.Address | None,
    api_url: str | None,
    environ: Mapping[str, str],
    apply_settings: ApplySettings | None = None,
    lease_ttl: float = DEFAULT_LEASE_TTL,
) -> int:
    """Serve, lead whenever the state is ours, pass until SIGTERM; exit code 0.

    On an SQLite state a second daemon fails at once with ``StateLockedError`` naming the
    holder; a busy ``--listen`` port fails before the first pass.
    """
    location = None if state_path is None else parse_location(state_path)
    shared = location if isinstance(location, PostgresLocation) else None
    first = None if shared is not None else open_state(location)
    metrics = Metrics()
    replica = _Replica()
    stop = asyncio.Event()
    try:
        sock = None if listen is None else health.bind(listen)
    except BaseException:
        if first is not None:
            first.close()
        raise
    try:
        with stop_on_signals(stop, wake=replica.wake):
            async with asyncio.TaskGroup() as group:
                if sock is not None:
                    app = health.create_app(ready=replica.ready, metrics=metrics)
                    group.create_task(health.serve(app, sock, stop=stop))
                    _log.info("http_listening", url=health.url_of(sock))
                terms = _Terms(
                    settings,
                    metrics=metrics,
                    replica=replica,
                    stop=stop,
                    environ=environ,
                    api_url=api_url,
                    apply_settings=apply_settings or ApplySettings(),
                )
                await terms.run(first=first, shared=shared, lease_ttl=lease_ttl)
                stop.set()
    finally:
        if sock is not None:
            sock.close()
    _log.info("daemon_stopped")
    return 0


class _Terms:
    """Lead for as long as the state is ours; on a shared state, stand by between terms."""

    def __init__(
        self,
        settings: DaemonSettings,
        *,
        metrics: Metrics,
        replica: _Replica,
        stop: asyncio.Event,
        environ: Mapping[str, str],
        api_url: str | None,
        apply_settings: ApplySettings,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._replica = replica
        self._stop = stop
        self._environ = environ
        self._api_url = api_url
        self._apply_settings = apply_settings
        self._clock = SystemClock()

    async def run(
        self, *, first: StateStore | None, shared: PostgresLocation | None, lease_ttl: float
    ) -> None:
        store = first
        while not self._stop.is_set():
            if store is None:
                assert shared is not None  # only a shared state is waited for
                store = await self._await_lease(shared, lease_ttl=lease_ttl)
                if store is None:
                    return
            try:
                deposed = await self._lead(store)
            finally:
                await asyncio.to_thread(store.close)
            store = None
            if not deposed or shared is None:
                return
            _log.warning("standing_by", reason="lease taken over")

    async def _lead(self, store: StateStore) -> bool:
        """One term: a fresh daemon on ``store`` until stop or deposition; True if deposed."""
        if self._stop.is_set():
            return False
        runner = pass_runner(
            self._settings.manifests,
            store=store,
            environ=self._environ,
            api_url=self._api_url,
            clock=self._clock,
            settings=self._apply_settings,
            on_request=self._metrics.on_request,
        )
        the_daemon = Daemon(self._settings, runner=runner, clock=self._clock, metrics=self._metrics)
        term = asyncio.Event()
        self._replica.leading = the_daemon
        self._metrics.leader.set(1)
        _log.info("leading", state=repr(store))
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_follow(self._stop, into=term))
                await the_daemon.run(stop=term)
                term.set()
        finally:
            self._replica.leading = None
            self._metrics.leader.set(0)
        return the_daemon.deposed

    async def _await_lease(self, where: PostgresLocation, *, lease_ttl: float) -> StateStore | None:
        """Ask for the lease until it is ours (the store) or stop is asked for (None)."""
        holder = None
        while not self._stop.is_set():
            try:
                store = await asyncio.to_thread(open_state, where, lease_ttl=lease_ttl)
            except StateLockedError as exc:
                self._replica.reachable = True
                if str(exc) != holder:
                    holder = str(exc)
                    _log.info("standby", held_by=holder)
            except StateError as exc:
                self._replica.reachable = False
                _log.warning("lease_poll_failed", error=str(exc))
            else:
                self._replica.reachable = True
                if self._stop.is_set():
                    await asyncio.to_thread(store.close)
                    return None
                return store
            await triggers.first_of(
                self._clock.sleep(lease_ttl / _POLLS_PER_TTL), self._stop.wait()
            )
        return None


async def _follow(stop: asyncio.Event, *, into: asyncio.Event) -> None:
    """Set ``into`` when ``stop`` is set, or return when ``into`` is set by itself."""
    await triggers.first_of(stop.wait(), into.wait())
    into.set()
