"""Push webhooks on the daemon's listen address: ``POST /webhooks/github`` and ``/webhooks/gitlab``.

A forge calls them when someone pushes; a push to the source's ref wakes the worker to fetch at
once, instead of waiting for the git interval. A request is trusted only when it proves it knows
``RECONCILER_GIT_WEBHOOK_SECRET``: GitHub's ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body),
GitLab's ``X-Gitlab-Token`` (the secret itself), each compared in constant time. Anything else
gets 401 and wakes nothing. Pushes to other refs and other events (GitHub's ``ping``) are answered
200 and ignored. A push that ``on_push`` cannot act on (a replica standing by) is answered 202 with
status ``standby``: the forge counts it delivered, and the leader fetches on its interval. The
payload is trusted for nothing but its ref: the fetch asks the repository.

These routes are self-contained (one ``APIRouter``) so the daemon's other endpoints stay in
``health``. Nothing here fetches, passes or reads the state; ``on_push`` does the waking.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

SECRET_ENV: Final = "RECONCILER_GIT_WEBHOOK_SECRET"
# GitHub caps payloads at 25 MB; a bigger body is not a push from it.
MAX_BODY_BYTES: Final = 25 * 1024 * 1024
_SIGNATURE_PREFIX: Final = "sha256="

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PushWebhooks:
    """What the routes check: the shared secret, and the full ref whose pushes matter."""

    secret: str = field(repr=False)
    ref: str


def github_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def router(hooks: PushWebhooks, *, on_push: Callable[[], bool]) -> APIRouter:
    """The two webhook routes, answering for ``hooks.ref`` and calling ``on_push`` for it, which
    says whether a fetch was scheduled."""
    routes = APIRouter()

    @routes.post("/webhooks/github")
    async def github(request: Request) -> JSONResponse:
        body = await _body(request)
        signature = request.headers.get("x-hub-signature-256", "")
        expected = github_signature(hooks.secret, body or b"")
        if body is None or not hmac.compare_digest(signature.encode(), expected.encode()):
            return _refused("github", why="bad or missing X-Hub-Signature-256")
        event = request.headers.get("x-github-event", "")
        if event != "push":
            return _ignored("github", why=f"event {event or '(none)'}")
        return _push("github", _payload(body, request.headers), hooks=hooks, on_push=on_push)

    @routes.post("/webhooks/gitlab")
    async def gitlab(request: Request) -> JSONResponse:
        body = await _body(request)
        token = request.headers.get("x-gitlab-token", "")
        if body is None or not hmac.compare_digest(token.encode(), hooks.secret.encode()):
            return _refused("gitlab", why="bad or missing X-Gitlab-Token")
        event = request.headers.get("x-gitlab-event", "")
        if event != "Push Hook":
            return _ignored("gitlab", why=f"event {event or '(none)'}")
        return _push("gitlab", _payload(body, request.headers), hooks=hooks, on_push=on_push)

    return routes


async def _body(request: Request) -> bytes | None:
    """The raw body (what the signature covers), or None when it is too big to be a push."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = await request.body()
    return body if len(body) <= MAX_BODY_BYTES else None


def _payload(body: bytes, headers: Mapping[str, str]) -> Any:
    """The JSON payload: the body, or (GitHub's other content type) its ``payload`` form field."""
    try:
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return json.loads(parse_qs(body.decode())["payload"][0])
        return json.loads(body)
    except (ValueError, KeyError, IndexError):
        return None


def _push(
    forge: str, payload: Any, *, hooks: PushWebhooks, on_push: Callable[[], bool]
) -> JSONResponse:
    ref = payload.get("ref") if isinstance(payload, dict) else None
    if ref != hooks.ref:
        return _ignored(forge, why=f"push to {ref if isinstance(ref, str) else '(no ref)'}")
    after = payload.get("after")
    commit = after if isinstance(after, str) else None
    scheduled = on_push()
    _log.info("webhook_push", forge=forge, ref=ref, commit=commit, standby=not scheduled)
    status = "fetch scheduled" if scheduled else "standby"
    return JSONResponse({"status": status}, status_code=202)


def _refused(forge: str, *, why: str) -> JSONResponse:
    _log.warning("webhook_refused", forge=forge, reason=why)
    return JSONResponse({"error": "unauthorized", "detail": why}, status_code=401)


def _ignored(forge: str, *, why: str) -> JSONResponse:
    _log.info("webhook_ignored", forge=forge, reason=why)
    return JSONResponse({"status": "ignored", "reason": why}, status_code=200)
