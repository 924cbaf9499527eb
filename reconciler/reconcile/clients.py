"""The daemon's Agora clients, kept from one pass to the next while what they are made of holds.

A one-shot command opens a client per project and closes it on the way out (``connect``). The
daemon passes every few seconds for as long as it runs: clients opened afresh each pass would
build new connection pools each time, so every pass would pay new TCP and TLS handshakes, and 50
projects would build 50 × ``pools.SHARDS`` pools per pass. ``KeptClients.for_pass`` hands a project
back the client it had last pass while its name, base URL, resolved identity and credentials, and
bounds are unchanged. The credentials are resolved again each pass, since a file or a variable they
come from may have been rotated; they are compared by a digest keyed with a random key of this
process, so no secret is kept outside the client itself, and the digest says nothing even if shown.
A project whose recipe changed gets a new client, and its old one is closed; a project that left
the fleet has its client closed; ``aclose`` closes every one when the daemon stops. The transport,
the request hook and the clock are the daemon's own and fixed for the life of a ``KeptClients``.

What a client learns within one pass is forgotten before the next: the API's clock is checked
afresh on each pass's first answer, as a new client would. It must not call the API itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from reconciler.agora.client import AgoraClient, RequestHook, RetryPolicy, Transport
from reconciler.clock import Clock
from reconciler.manifest.desired import ProjectSpec
from reconciler.reconcile import connect
from reconciler.reconcile.bounds import Bounds

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Recipe:
    """What one project's client is made of; its credentials only as a keyed digest."""

    base_url: str
    app_id: str
    credentials: str
    bounds: Bounds

    def changed(self, other: Recipe) -> list[str]:
        """The names of the parts that differ from ``other``'s (what a rebuild's event says)."""
        return [
            part.name
            for part in dataclasses.fields(self)
            if getattr(self, part.name) != getattr(other, part.name)
        ]


@dataclass(frozen=True)
class _Kept:
    recipe: Recipe
    client: AgoraClient


class KeptClients:
    """One client per project of the fleet in force, kept across passes; an async context
    manager that closes every client on the way out."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str],
        api_url: str | None,
        transport: Transport | None = None,
        on_request: RequestHook | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._environ = environ
        self._api_url = api_url
        self._transport = transport
        self._on_request = on_request
        self._retry = None if clock is None else RetryPolicy(sleep=clock.sleep)
        self._key = secrets.token_bytes(32)
        self._kept: dict[str, _Kept] = {}

    def __repr__(self) -> str:
        return f"KeptClients(projects={sorted(self._kept)!r})"

    async def __aenter__(self) -> KeptClients:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _recipe(self, project: ProjectSpec) -> tuple[Recipe, connect.Credentials]:
        """The project's recipe now, and the credentials it was resolved from (references are
        resolved and their secrets registered for masking, as a fresh client's are)."""
        credentials = connect.resolve_credentials(project, environ=self._environ)
        digest = hashlib.blake2b(
            json.dumps([credentials.customer_id, credentials.customer_secret]).encode(),
            key=self._key,
            digest_size=16,
        )
        recipe = Recipe(
            base_url=connect.base_url(project, api_url=self._api_url),
            app_id=credentials.app_id,
            credentials=digest.hexdigest(),
            bounds=Bounds.from_environ(self._environ),
        )
        return recipe, credentials

    async def for_pass(self, projects: Mapping[str, ProjectSpec]) -> dict[str, AgoraClient]:
        """A client per project for the pass about to run: kept ones whose recipe holds, new ones
        for the rest; clients of projects no longer in ``projects`` are closed.

        A project whose references cannot be resolved raises (``SecretUnavailableError``) as
        ``connect.open_clients`` does; the clients kept so far stay for the next pass.
        """
        for name in sorted(self._kept.keys() - projects.keys()):
            await self._close(name, reason="left the fleet")
        clients: dict[str, AgoraClient] = {}
        for name, project in sorted(projects.items()):
            recipe, credentials = self._recipe(project)
            kept = self._kept.get(name)
            if kept is not None and kept.recipe == recipe:
                kept.client.forget_api_clock()
                clients[name] = kept.client
                continue
            if kept is not None:
                await self._close(name, reason="changed", changed=recipe.changed(kept.recipe))
            client = connect.build_client(
                project,
                credentials,
                base_url=recipe.base_url,
                bounds=recipe.bounds,
                transport=self._transport,
                on_request=self._on_request,
                retry=self._retry,
            )
            self._kept[name] = _Kept(recipe, client)
            _log.info("api_client_opened", project=name, base_url=recipe.base_url)
            clients[name] = client
        return clients

    async def aclose(self) -> None:
        """Close every kept client (the daemon is stopping, or its term has ended)."""
        async with contextlib.AsyncExitStack() as stack:
            for name in sorted(self._kept):
                stack.push_async_callback(self._close, name, reason="stopping")

    async def _close(self, name: str, *, reason: str, changed: list[str] | None = None) -> None:
        kept = self._kept.pop(name)
        try:
            await kept.client.aclose()
        finally:
            extra = {} if changed is None else {"changed": changed}
            _log.info("api_client_closed", project=name, reason=reason, **extra)
