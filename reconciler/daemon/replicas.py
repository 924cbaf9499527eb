"""Terms of leading: act only while the state is this process's, stand by while it is not.

On an SQLite file the state is taken at start or never (the OS lock cannot be lost while its
holder lives): one term, for the process's life. On a shared PostgreSQL state several replicas
may run: each stands by (``reconciler_leader 0``) asking for the lease ``POLLS_PER_TTL`` times
per TTL, so it takes over soon after a dead leader's lease expires; it then leads
(``reconciler_leader 1``) with a fresh ``Daemon`` attached to the process's ``Endpoints``. A
leader whose lease was taken over (it was paused or cut off past the TTL) finds out at its next
write, ends its term without acting further, releases the store and stands by again. Stop
(SIGTERM) ends the term in force after the action in flight, or the wait.

It only sequences terms: what a term does is ``controller``'s; what the process serves meanwhile
is ``endpoints``'.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

import structlog

from reconciler.clock import Clock
from reconciler.daemon import triggers
from reconciler.daemon.controller import Daemon
from reconciler.daemon.endpoints import Endpoints
from reconciler.errors import StateError, StateLockedError
from reconciler.state import PostgresLocation, StateStore, open_state

POLLS_PER_TTL: Final = 6
"""A standby asks for the lease this many times per TTL: a takeover lands within TTL + TTL/6 of
the dead leader's last renewal."""

_log = structlog.get_logger(__name__)

# The daemon for one term on the store it holds.
NewTerm = Callable[[StateStore], Daemon]


class Terms:
    """Leads whenever the state is this process's, until ``stop``."""

    def __init__(
        self,
        *,
        endpoints: Endpoints,
        new_term: NewTerm,
        stop: asyncio.Event,
        clock: Clock,
    ) -> None:
        self._endpoints = endpoints
        self._new_term = new_term
        self._stop = stop
        self._clock = clock

    async def run(
        self, *, first: StateStore | None, shared: PostgresLocation | None, lease_ttl: float
    ) -> None:
        """Lead on ``first`` (a file's store, held already), or wait for ``shared``'s lease;
        after a term on a shared state ends by deposition, wait for the lease again."""
        store = first
        while not self._stop.is_set():
            if store is None:
                if shared is None:
                    return
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
        the_daemon = self._new_term(store)
        term = asyncio.Event()
        metrics = self._endpoints.metrics
        self._endpoints.leading = the_daemon
        metrics.leader.set(1)
        _log.info("leading", state=repr(store))
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_follow(self._stop, into=term))
                await the_daemon.run(stop=term)
                term.set()
        finally:
            self._endpoints.leading = None
            metrics.leader.set(0)
        return the_daemon.deposed

    async def _await_lease(self, where: PostgresLocation, *, lease_ttl: float) -> StateStore | None:
        """Ask for the lease until it is ours (the store) or stop is asked for (None)."""
        holder = None
        while not self._stop.is_set():
            try:
                store = await asyncio.to_thread(open_state, where, lease_ttl=lease_ttl)
            except StateLockedError as exc:
                self._endpoints.reachable = True
                if str(exc) != holder:
                    holder = str(exc)
                    _log.info("standby", held_by=holder)
            except StateError as exc:
                self._endpoints.reachable = False
                _log.warning("lease_poll_failed", error=str(exc))
            else:
                self._endpoints.reachable = True
                if not self._stop.is_set():
                    return store
                await asyncio.to_thread(store.close)
                return None
            await triggers.first_of(self._clock.sleep(lease_ttl / POLLS_PER_TTL), self._stop.wait())
        return None


async def _follow(stop: asyncio.Event, *, into: asyncio.Event) -> None:
    """Set ``into`` when ``stop`` is set, or return when ``into`` is set by itself."""
    await triggers.first_of(stop.wait(), into.wait())
    into.set()
