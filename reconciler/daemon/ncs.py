"""The Notification Center receiver: ``POST /webhooks/agora/{project}`` on the daemon's address.

Agora resends an event unless it gets a 200 with a JSON body within 10 seconds (API notes §18),
so the request only checks and queues: size (413 past ``MAX_BODY_BYTES``), the project's
``notificationSecret`` (404 when the project has none, 503 while it cannot be resolved), the
signature over the raw body (401, and nothing else happens), JSON (400), then a duplicate
``noticeId`` is acknowledged and dropped and anything new is queued (503 when the queue is full,
so Agora retries later). What an event *does* is ``reactions``' job, on the daemon's own task;
nothing here runs a pass, reads the state or decides anything about agents.

The signature is checked before the body is parsed, so nothing unauthenticated is ever read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from reconciler import logs
from reconciler.agora import events
from reconciler.daemon.metrics import NAMESPACE
from reconciler.errors import ReconcilerError
from reconciler.manifest import secrets
from reconciler.manifest.desired import DesiredFleet

ROUTE: Final = "/webhooks/agora/{project}"
# A 103 carries at most llm.max_history (≤ 1024) entries and a 112 at most 200 turns.
MAX_BODY_BYTES: Final = 1024 * 1024
QUEUE_CAPACITY: Final = 1000
# Agora retries over minutes; this many notice ids cover far more than that at any sane rate.
REMEMBERED_NOTICES: Final = 10_000

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Received:
    """One verified, new event of a project, as queued for ``reactions``."""

    project: str
    notice: events.Notice


# A project's resolved notification secret; None when it has none (or no such project).
SecretOf = Callable[[str], str | None]


class FleetSecrets:
    """``SecretOf`` over the fleet in force, each value registered with the log masking.

    Resolved on every request (an environment lookup or a small file read), so a rotated
    ``${file:...}`` secret counts at once. Raises ``ReconcilerError`` before any fleet loaded,
    or when the reference does not resolve.
    """

    def __init__(
        self, fleet: Callable[[], DesiredFleet | None], *, environ: Mapping[str, str]
    ) -> None:
        self._fleet = fleet
        self._environ = environ

    def __call__(self, project: str) -> str | None:
        fleet = self._fleet()
        if fleet is None:
            raise ReconcilerError("no valid manifests loaded yet")
        spec = fleet.projects.get(project)
        if spec is None or spec.notification_secret is None:
            return None
        try:
            value = secrets.resolve_text(
                spec.notification_secret,
                environ=self._environ,
                base_dir=Path(spec.source.file).parent,
                where=spec.source,
                field="notification_secret",
            )
        except secrets.SecretUnavailableError as exc:
            site = spec.written.get("notification_secret")
            raise exc if site is None else exc.at(*site) from None
        logs.register_secret(value)
        return value


class Inbox:
    """Verifies and queues events; ``get`` hands them to the consumer in arrival order."""

    def __init__(
        self,
        *,
        secret_of: SecretOf,
        registry: CollectorRegistry,
        max_body: int = MAX_BODY_BYTES,
        capacity: int = QUEUE_CAPACITY,
        remember: int = REMEMBERED_NOTICES,
    ) -> None:
        self._secret_of = secret_of
        self._max_body = max_body
        self._remember = remember
        self._queue: asyncio.Queue[Received] = asyncio.Queue(maxsize=capacity)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.requests = Counter(
            "webhook_requests_total",
            "Requests to /webhooks/agora/<project> by answer: accepted, duplicate, or why "
            "refused (signature, too_large, malformed, unknown_project, unavailable, full).",
            ["answer"],
            namespace=NAMESPACE,
            registry=registry,
        )

    def router(self) -> APIRouter:
        """The one route, to include in the daemon's HTTP app."""
        router = APIRouter()

        @router.post(ROUTE)
        async def receive(project: str, request: Request) -> JSONResponse:
            return await self.receive(project, request)

        return router

    async def get(self) -> Received:
        return await self._queue.get()

    @property
    def pending(self) -> int:
        """Events queued and not yet taken."""
        return self._queue.qsize()

    async def receive(self, project: str, request: Request) -> JSONResponse:
        """Check one delivery and queue it; the answer Agora should get."""
        body = await _read_limited(request, limit=self._max_body)
        if body is None:
            return self._refuse("too_large", 413, "body too large")
        try:
            secret = self._secret_of(project)
        except ReconcilerError as exc:
            _log.error("webhook_unavailable", project=project, error=str(exc))
            return self._refuse("unavailable", 503, "notifications unavailable, retry later")
        if secret is None:
            return self._refuse("unknown_project", 404, "no notification secret for project")
        headers = request.headers
        if not events.verify(
            body,
            secret=secret,
            v2=headers.get(events.SIGNATURE_V2_HEADER),
            v1=headers.get(events.SIGNATURE_HEADER),
        ):
            _log.warning("webhook_refused", project=project, why="bad or missing signature")
            return self._refuse("signature", 401, "bad or missing signature")
        try:
            notice = events.Notice.model_validate_json(body)
        except ValidationError:
            return self._refuse("malformed", 400, "body is not a notice")
        seen = (project, notice.notice_id)
        if seen in self._seen:
            self.requests.labels(answer="duplicate").inc()
            return _ok()
        try:
            self._queue.put_nowait(Received(project=project, notice=notice))
        except asyncio.QueueFull:
            return self._refuse("full", 503, "too many events queued, retry later")
        self._seen[seen] = None
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        self.requests.labels(answer="accepted").inc()
        return _ok()

    def _refuse(self, answer: str, status: int, detail: str) -> JSONResponse:
        self.requests.labels(answer=answer).inc()
        return JSONResponse({"detail": detail}, status_code=status)


def _ok() -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _read_limited(request: Request, *, limit: int) -> bytes | None:
    """The raw body, or None once it exceeds ``limit`` bytes (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
