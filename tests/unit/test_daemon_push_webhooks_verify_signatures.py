"""``/webhooks/github`` and ``/webhooks/gitlab``: only a request proving the secret wakes a fetch,
and only a push to the source's ref does."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI

from reconciler.daemon import webhooks

SECRET = "s3cret-for-webhook-tests"
REF = "refs/heads/main"


def _app() -> tuple[FastAPI, list[int]]:
    pushes: list[int] = []
    app = FastAPI()
    hooks = webhooks.PushWebhooks(secret=SECRET, ref=REF)

    def on_push() -> bool:
        pushes.append(1)
        return True

    app.include_router(webhooks.router(hooks, on_push=on_push))
    return app, pushes


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon")


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def _github(
    http: httpx.AsyncClient,
    body: bytes,
    *,
    signature: str | None,
    event: str = "push",
    **headers: str,
) -> httpx.Response:
    sent = {"X-GitHub-Event": event, "Content-Type": "application/json", **headers}
    if signature is not None:
        sent["X-Hub-Signature-256"] = signature
    return await http.post("/webhooks/github", content=body, headers=sent)


async def test_github_push_to_the_ref_with_a_valid_signature_wakes_a_fetch() -> None:
    """202 and one wake-up; the signature is the HMAC-SHA256 of the raw body."""
    app, pushes = _app()
    body = json.dumps({"ref": REF, "after": "abc"}).encode()
    assert webhooks.github_signature(SECRET, body) == _sign(body)
    async with _client(app) as http:
        answer = await _github(http, body, signature=_sign(body))
    assert answer.status_code == 202
    assert pushes == [1]


async def test_bad_missing_or_foreign_signatures_get_401_and_wake_nothing() -> None:
    """A wrong secret, a tampered body, no header, or a bare hex digest are all refused."""
    app, pushes = _app()
    body = json.dumps({"ref": REF}).encode()
    async with _client(app) as http:
        for signature in (_sign(body, "other"), _sign(body + b" "), None, _sign(body)[7:], ""):
            answer = await _github(http, body, signature=signature)
            assert answer.status_code == 401, signature
    assert pushes == []


async def test_other_refs_other_events_and_form_payloads() -> None:
    """Pushes to other refs and pings are 200 and ignored; a form-encoded push counts."""
    app, pushes = _app()
    other = json.dumps({"ref": "refs/heads/feature"}).encode()
    ping = json.dumps({"zen": "Keep it logically awesome."}).encode()
    form = urlencode({"payload": json.dumps({"ref": REF})}).encode()
    async with _client(app) as http:
        ignored = await _github(http, other, signature=_sign(other))
        assert (ignored.status_code, ignored.json()["status"]) == (200, "ignored")
        pinged = await _github(http, ping, signature=_sign(ping), event="ping")
        assert (pinged.status_code, pinged.json()["status"]) == (200, "ignored")
        assert pushes == []
        formed = await _github(
            http,
            form,
            signature=_sign(form),
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert formed.status_code == 202
    assert pushes == [1]


async def test_gitlab_push_needs_the_token() -> None:
    """``X-Gitlab-Token`` must equal the secret; then a push to the ref wakes a fetch."""
    app, pushes = _app()
    body = json.dumps({"object_kind": "push", "ref": REF}).encode()
    async with _client(app) as http:
        for token in ("wrong", None):
            headers = {"X-Gitlab-Event": "Push Hook"}
            if token is not None:
                headers["X-Gitlab-Token"] = token
            refused = await http.post("/webhooks/gitlab", content=body, headers=headers)
            assert refused.status_code == 401
        headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRET}
        accepted = await http.post("/webhooks/gitlab", content=body, headers=headers)
        assert accepted.status_code == 202
    assert pushes == [1]


def test_the_secret_is_not_in_the_settings_repr() -> None:
    """The webhook settings never show their secret."""
    assert SECRET not in repr(webhooks.PushWebhooks(secret=SECRET, ref=REF))
