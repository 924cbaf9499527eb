"""What a ``reconciler run`` process keeps for its whole life, whether it leads or stands by.

The HTTP app (``/healthz``, ``/readyz``, ``/leaderz``, ``/metrics``, the Notification Center
inbox and the push webhooks), the inbox and its consumer, the notifier, the metrics registry and
the memory of which agents are ours live here, once per process. The part that acts (a
``controller.Daemon``, one per term of holding the state) attaches itself as the ``Leader`` and
detaches when its term ends; a process on a shared state may lead several terms or none.

While nobody leads, nothing here acts:

- ``/readyz`` answers 200 while the state can be reached (a standby is ready to take over, and
  must not block a rolling update); ``/leaderz`` answers 503, so a load balancer whose health
  check is ``/leaderz`` sends webhooks to the leader only (Vault's active/standby health check).
- A Notification Center event gets 503 and is not queued: Agora resends on anything but a 200
  (three times, growing intervals), and a resend may reach the leader; a 200 would drop a
  transcript (event 103) that only the leader can archive.
- A signed push gets 202 with status ``standby`` and wakes nothing: GitHub never resends a failed
  delivery and GitLab disables a hook that keeps failing, and nothing is lost, since the leader
  fetches on its ``--git-interval`` and a new leader fetches before its first pass.

Nothing here plans, applies, reads the state or decides what an event means (``reactions`` does).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Mapping
from typing import Protocol

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from reconciler.daemon import health, last_errors, ncs, reactions, webhooks
from reconciler.daemon.metrics import Metrics
from reconciler.manifest.desired import DesiredFleet
from reconciler.notify import Notifier

_log = structlog.get_logger(__name__)


class Leader(Protocol):
    """The term in force, as the process-wide parts see it."""

    @property
    def fleet(self) -> DesiredFleet | None: ...

    @property
    def passing(self) -> bool: ...

    def between_passes(self) -> Awaitable[object]: ...

    def wake(self) -> None: ...

    def fetch_soon(self) -> None: ...

    def ready(self) -> bool: ...

    def problem(self) -> str | None: ...


class Endpoints:
    """The process's HTTP face, inbox, reactions and notifier; ``leading`` is the term in force."""

    def __init__(
        self,
        *,
        metrics: Metrics,
        environ: Mapping[str, str],
        hooks: webhooks.PushWebhooks | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.metrics = metrics
        self.notifier = notifier
        self._hooks = hooks
        self.leading: Leader | None = None
        self.reachable = True
        """Whether a standby last reached the state (what ``/readyz`` says while nobody leads)."""
        self.owners = reactions.Owners()
        self.inbox = ncs.Inbox(
            secret_of=ncs.FleetSecrets(lambda: self.fleet, environ=environ),
            registry=metrics.registry,
        )
        self.reactions = reactions.Reactions(
            owners=self.owners,
            wake=self.wake,
            fleet=lambda: self.fleet,
            between_passes=self._between_passes,
            passing=lambda: self.leading is not None and self.leading.passing,
            registry=metrics.registry,
        )

    @property
    def fleet(self) -> DesiredFleet | None:
        """The leader's fleet in force; None while nobody leads."""
        return None if self.leading is None else self.leading.fleet

    def wake(self) -> None:
        """Ask the leader for a pass (SIGHUP, an event); nothing while nobody leads."""
        if self.leading is not None:
            self.leading.wake()

    def ready(self) -> bool:
        """A leader after a recent good pass; a standby while it reaches the state."""
        return self.leading.ready() if self.leading is not None else self.reachable

    def _problem(self) -> str | None:
        return None if self.leading is None else self.leading.problem()

    async def _between_passes(self) -> None:
        if self.leading is not None:
            await self.leading.between_passes()

    def _on_push(self) -> bool:
        if self.leading is None:
            return False
        self.leading.fetch_soon()
        return True

    def app(self) -> FastAPI:
        """Every route the process serves, for its whole life."""
        app = health.create_app(ready=self.ready, metrics=self.metrics, problem=self._problem)
        app.include_router(self._router())
        app.include_router(last_errors.router(self.reactions.last_errors))
        if self._hooks is not None:
            app.include_router(webhooks.router(self._hooks, on_push=self._on_push))
        return app

    def _router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/leaderz")
        async def leaderz() -> JSONResponse:
            leading = self.leading is not None
            return JSONResponse({"leader": leading}, status_code=200 if leading else 503)

        @router.post(ncs.ROUTE)
        async def receive(project: str, request: Request) -> JSONResponse:
            if self.leading is None:
                self.inbox.requests.labels(answer="standby").inc()
                return JSONResponse(
                    {"detail": "this replica stands by; the leading one takes events"},
                    status_code=503,
                )
            return await self.inbox.receive(project, request)

        return router

    async def run(self, sock: socket.socket | None, *, stop: asyncio.Event) -> None:
        """Serve on ``sock`` (if any), take in events and deliver notifications until ``stop``."""
        async with asyncio.TaskGroup() as group:
            if self.notifier is not None:
                group.create_task(self.notifier.run(stop=stop))
            group.create_task(self.reactions.consume(self.inbox, stop=stop))
            if sock is not None:
                group.create_task(health.serve(self.app(), sock, stop=stop))
                _log.info("http_listening", url=health.url_of(sock))
