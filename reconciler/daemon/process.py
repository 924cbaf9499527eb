"""The daemon's process: wire a ``Daemon`` to the real state, clients, source and signals.

``run_daemon`` is ``reconciler run``: it binds the HTTP port and serves the process's
``Endpoints`` for its whole life, and leads in terms (``replicas``): on a file, one term holding
the state's lock until SIGTERM; on a shared PostgreSQL state, a term whenever it holds the lease,
standing by between terms. ``pass_runner`` is the production
``Runner``: ``apply_pass.run_pass`` over the term's ``KeptClients``, the same clients pass after
pass while a project's recipe holds.

It only assembles and runs: when to pass and what to make of a pass is ``controller``'s; it must
not plan, apply or speak HTTP to Agora itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import structlog

from reconciler.apply.steps import ApplySettings
from reconciler.clock import Clock, SystemClock
from reconciler.daemon import health, replicas, sourcing, triggers
from reconciler.daemon.controller import Choose, Daemon, DaemonSettings, Runner
from reconciler.daemon.endpoints import Endpoints
from reconciler.daemon.metrics import Metrics
from reconciler.manifest.desired import DesiredFleet
from reconciler.notify import Notifier, Target
from reconciler.reconcile import apply_pass
from reconciler.reconcile.apply_pass import Done
from reconciler.reconcile.clients import KeptClients
from reconciler.source import GitSettings, git_dir
from reconciler.state import (
    DEFAULT_LEASE_TTL,
    PostgresLocation,
    StateStore,
    StateTarget,
    anchor_path,
    open_state,
    parse_location,
)
from reconciler.state.kept import KeptSnapshots

_log = structlog.get_logger(__name__)


def pass_runner(
    *,
    store: StateStore,
    clients: KeptClients,
    environ: Mapping[str, str],
    clock: Clock,
    settings: ApplySettings,
) -> Runner:
    """The production ``Runner``: ``apply_pass.run_pass`` over ``clients``, kept across passes
    (whoever made them closes them: the daemon's ``closing``)."""

    async def run(
        fleet: DesiredFleet,
        *,
        choose: Choose,
        stopping: Callable[[], bool],
        revision: str | None,
        expiring: frozenset[str] = frozenset(),
    ) -> Done:
        with_revision = dataclasses.replace(settings, git_revision=revision)
        return await apply_pass.run_pass(
            fleet,
            store=store,
            apis=await clients.for_pass(fleet.projects),
            environ=environ,
            clock=clock,
            settings=with_revision,
            choose=lambda made: choose(made.plan),
            stopping=stopping,
            settle=True,
            expiring=expiring,
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
    git_root: Path | None = None,
) -> int:
    """``reconciler run``: serve for the process's life, lead whenever the state is ours, pass
    until SIGTERM; exit code 0.

    With ``git``, the manifests come from that repository, cloned into ``git_root`` (default
    ``git/`` beside the state file, or ``.reconciler/git`` for a PostgreSQL state), and
    ``RECONCILER_GIT_WEBHOOK_SECRET`` (when set) opens the push webhooks; ``notify`` are the
    targets told of failures, recoveries, flapping, quota, refusals and revisions. On an SQLite
    state a second daemon fails at ``open_state`` with ``StateLockedError``, which names the
    holder; on a PostgreSQL state it stands by (``replicas``). A busy ``--listen`` port fails
    before the first pass.
    """
    clock = SystemClock()
    location = None if state_path is None else parse_location(state_path)
    shared = location if isinstance(location, PostgresLocation) else None
    root = git_root or git_dir(anchor_path(state_path))
    source, hooks = sourcing.git_source(git, root=root, environ=environ)
    endpoints = Endpoints(
        metrics=Metrics(),
        environ=environ,
        hooks=hooks,
        notifier=Notifier(notify) if notify else None,
    )

    def new_term(store: StateStore) -> Daemon:
        # A term's clients serve its passes, and close when the term ends (stop, lease lost).
        clients = KeptClients(
            environ=environ, api_url=api_url, clock=clock, on_request=endpoints.metrics.on_request
        )
        runner = pass_runner(
            # A term's daemon is the state's only writer while it leads: its passes keep the last
            # snapshot and read the whole state again only when the serial moved.
            store=KeptSnapshots(store),
            clients=clients,
            environ=environ,
            clock=clock,
            settings=apply_settings or ApplySettings(),
        )
        return Daemon(
            settings,
            runner=runner,
            clock=clock,
            environ=environ,
            source=source,
            endpoints=endpoints,
            closing=clients.aclose,
        )

    first = None if shared is not None else open_state(location)
    try:
        sock = None if listen is None else health.bind(listen)
    except BaseException:
        if first is not None:
            first.close()
        raise
    stop = asyncio.Event()
    terms = replicas.Terms(endpoints=endpoints, new_term=new_term, stop=stop, clock=clock)
    try:
        with triggers.stop_on_signals(stop, wake=endpoints.wake):
            async with asyncio.TaskGroup() as group:
                group.create_task(endpoints.run(sock, stop=stop))
                await terms.run(first=first, shared=shared, lease_ttl=lease_ttl)
                stop.set()
    finally:
        if sock is not None:
            sock.close()
    _log.info("daemon_stopped")
    return 0
