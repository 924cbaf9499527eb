"""The daemon's process: wire a ``Daemon`` to the real state, clients, source and signals.

``run_daemon`` is ``reconciler run``: it holds the state's lock (or its lease, on PostgreSQL) for
the daemon's whole life and releases it on the way out, binds the HTTP port, and runs the daemon
until SIGTERM; a daemon whose lease was taken over exits 1. ``pass_runner`` is the production
``Runner``: ``apply_pass.run_pass`` over fresh clients for each pass.

It only assembles and runs: when to pass and what to make of a pass is ``controller``'s; it must
not plan, apply or speak HTTP to Agora itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import structlog

from reconciler.agora.client import RequestHook, Transport
from reconciler.apply.steps import ApplySettings
from reconciler.clock import Clock, SystemClock
from reconciler.daemon import health, sourcing, triggers
from reconciler.daemon.controller import Choose, Daemon, DaemonSettings, Runner
from reconciler.daemon.metrics import Metrics
from reconciler.manifest.desired import DesiredFleet
from reconciler.notify import Notifier, Target
from reconciler.reconcile import apply_pass, connect
from reconciler.reconcile.apply_pass import Done
from reconciler.source import GitSettings
from reconciler.state import DEFAULT_LEASE_TTL, StateStore, StateTarget, open_state
from reconciler.state.kept import KeptSnapshots

_log = structlog.get_logger(__name__)


def pass_runner(
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

    async def run(
        fleet: DesiredFleet,
        *,
        choose: Choose,
        stopping: Callable[[], bool],
        revision: str | None,
    ) -> Done:
        with_revision = dataclasses.replace(settings, git_revision=revision)
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
                settings=with_revision,
                choose=lambda made: choose(made.plan),
                stopping=stopping,
                settle=True,
            )

    return run


async def run_daemon(
    settings: DaemonSettings,
    *,
    state_path: StateTarget | None,
    listen: health.Address | None,
    api_url: str | None,
    environ: Mapping[str, str],
    apply_settings: ApplySettings | None = None,
    git: GitSettings | None = None,
    notify: Sequence[Target] = (),
    lease_ttl: float = DEFAULT_LEASE_TTL,
) -> int:
    """``reconciler run``: lock the state for life, serve, pass until SIGTERM; exit code 0 (1 when
    another reconciler took the lease over: a second replica on a shared state is not yet run as a
    standby, it fails at start like a second daemon on a file).

    With ``git``, the manifests come from that repository, cloned into ``git/`` beside the state,
    and ``RECONCILER_GIT_WEBHOOK_SECRET`` (when set) opens the push webhooks; ``notify`` are the
    targets told of failures, recoveries, flapping, quota, refusals and revisions.
    A second daemon on the same state fails at ``open_state`` with ``StateLockedError``, which
    names the holder; a busy ``--listen`` port fails before the first pass.
    """
    clock = SystemClock()
    metrics = Metrics()
    # A git clone lives beside a state file; a shared (PostgreSQL) state keeps it in the default
    # state directory.
    beside = state_path if isinstance(state_path, Path) else None
    source, hooks = sourcing.git_source(git, state_path=beside, environ=environ)
    with open_state(state_path, lease_ttl=lease_ttl) as store:
        sock = None if listen is None else health.bind(listen)
        try:
            runner = pass_runner(
                # The daemon is the state's only writer while it lives: its passes keep the last
                # snapshot and read the whole state again only when the serial moved.
                store=KeptSnapshots(store),
                environ=environ,
                api_url=api_url,
                clock=clock,
                settings=apply_settings or ApplySettings(),
                on_request=metrics.on_request,
            )
            the_daemon = Daemon(
                settings,
                runner=runner,
                clock=clock,
                metrics=metrics,
                environ=environ,
                source=source,
                hooks=hooks,
                notifier=Notifier(notify) if notify else None,
            )
            stop = asyncio.Event()
            with triggers.stop_on_signals(stop, wake=the_daemon.wake):
                await the_daemon.run(stop=stop, sock=sock)
        finally:
            if sock is not None:
                sock.close()
    _log.info("daemon_stopped")
    return 1 if the_daemon.deposed else 0
