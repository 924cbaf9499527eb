"""Build the Agora client of each project from its ``ProjectSpec``: secrets, address, auth.

This is where a project's credentials are resolved (and registered for log masking), where its
base URL is chosen (``--api-url`` or ``AGORA_API_URL`` over ``baseUrl`` over ``region``), and where
a pass opens one client per project (``open_clients``), of which the planning path gets only
read-only views (``open_readers``). It must not call the API itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from reconciler import logs
from reconciler.agora import wire
from reconciler.agora.client import (
    AgoraClient,
    BasicAuth,
    RequestHook,
    RetryPolicy,
    Transport,
    base_url_for,
)
from reconciler.clock import Clock
from reconciler.errors import SettingError
from reconciler.manifest import secrets
from reconciler.manifest.desired import ProjectSpec
from reconciler.manifest.fields import Region, check_base_url
from reconciler.observe.fleet import AgentReader
from reconciler.reconcile.bounds import Bounds

API_URL_ENV: Final = "AGORA_API_URL"


@dataclass(frozen=True)
class Credentials:
    """A project's resolved identity and secrets; the repr shows no secret."""

    app_id: str
    customer_id: str
    customer_secret: str = field(repr=False)
    app_certificate: str | None = field(repr=False)


def api_url_override(flag: str | None, *, environ: Mapping[str, str]) -> str | None:
    """The URL that replaces every project's base URL: the flag, else ``AGORA_API_URL``; checked
    as a Project's ``baseUrl`` is, so a URL no request can use fails before any call."""
    url = flag or environ.get(API_URL_ENV) or None
    if url is None:
        return None
    try:
        return check_base_url(url)
    except ValueError as exc:
        setting = "--api-url" if flag else API_URL_ENV
        raise SettingError(f"{setting} {exc}") from None


def base_url(project: ProjectSpec, *, api_url: str | None) -> str:
    """Where a project's API lives: the override, else its ``baseUrl``, else its region's host."""
    cn = project.region is Region.CN
    if api_url is not None:
        return base_url_for(base_url=api_url, cn=cn)
    region = None if project.region is None else str(project.region)
    return base_url_for(region=region, base_url=project.base_url, cn=cn)


def resolve_credentials(project: ProjectSpec, *, environ: Mapping[str, str]) -> Credentials:
    """Resolve a project's references; ``SecretUnavailableError`` names the missing one."""
    base_dir = Path(project.source.file).parent

    def value(text: str, field_name: str) -> str:
        try:
            resolved = secrets.resolve_text(
                text, environ=environ, base_dir=base_dir, where=project.source, field=field_name
            )
        except secrets.SecretUnavailableError as exc:
            if field_name not in project.written:
                raise
            raise exc.at(*project.written[field_name]) from None
        if secrets.is_reference(text) and secrets.is_secret_name(field_name):
            logs.register_secret(resolved)
        return resolved

    certificate = project.app_certificate
    return Credentials(
        app_id=value(project.app_id, "app_id"),
        customer_id=value(project.customer_id, "customer_id"),
        customer_secret=value(project.customer_secret, "customer_secret"),
        app_certificate=None if certificate is None else value(certificate, "app_certificate"),
    )


def open_client(
    project: ProjectSpec,
    *,
    environ: Mapping[str, str],
    api_url: str | None,
    transport: Transport | None = None,
    on_request: RequestHook | None = None,
    retry: RetryPolicy | None = None,
) -> AgoraClient:
    """A full client for one project (apply needs it); close it with ``aclose``."""
    return build_client(
        project,
        resolve_credentials(project, environ=environ),
        base_url=base_url(project, api_url=api_url),
        bounds=Bounds.from_environ(environ),
        transport=transport,
        on_request=on_request,
        retry=retry,
    )


def build_client(
    project: ProjectSpec,
    credentials: Credentials,
    *,
    base_url: str,
    bounds: Bounds,
    transport: Transport | None,
    on_request: RequestHook | None,
    retry: RetryPolicy | None,
) -> AgoraClient:
    """The client of a project whose credentials and address are resolved already."""
    return AgoraClient(
        app_id=credentials.app_id,
        auth=BasicAuth(
            customer_id=credentials.customer_id, customer_secret=credentials.customer_secret
        ),
        base_url=base_url,
        deadline=bounds.api_deadline,
        max_response_bytes=bounds.max_response_bytes,
        project=project.name,
        transport=transport,
        on_request=on_request,
        retry=retry,
    )


class ReadOnlyAgents:
    """The only view of a client the planning path holds: it can list and query, nothing else.

    A wrapper rather than just a Protocol annotation, so that join, update and leave are not
    reachable from here even by mistake at run time.
    """

    def __init__(self, client: AgoraClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"ReadOnlyAgents({self._client!r})"

    async def list_all(
        self,
        *,
        states: Sequence[wire.StatusCode],
        from_time: float,
        channel: str | None = None,
        page_size: int = 100,
        max_items: int | None = None,
    ) -> list[wire.ListItem]:
        return await self._client.list_all(
            states=states,
            from_time=from_time,
            channel=channel,
            page_size=page_size,
            max_items=max_items,
        )

    @property
    def api_clock_offset(self) -> int:
        return self._client.api_clock_offset

    async def query(self, agent_id: str) -> wire.QueryResponse:
        return await self._client.query(agent_id)


@asynccontextmanager
async def open_clients(
    projects: Mapping[str, ProjectSpec],
    *,
    environ: Mapping[str, str],
    api_url: str | None,
    transport: Transport | None = None,
    on_request: RequestHook | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[dict[str, AgoraClient]]:
    """A full client per project, every one closed on the way out.

    With a ``clock``, the clients' own backoff waits on it, so tests of apply run on fake time.
    """
    retry = None if clock is None else RetryPolicy(sleep=clock.sleep)
    async with AsyncExitStack() as stack:
        clients: dict[str, AgoraClient] = {}
        for name, project in sorted(projects.items()):
            client = open_client(
                project,
                environ=environ,
                api_url=api_url,
                transport=transport,
                on_request=on_request,
                retry=retry,
            )
            stack.push_async_callback(client.aclose)
            clients[name] = client
        yield clients


@asynccontextmanager
async def open_readers(
    projects: Mapping[str, ProjectSpec],
    *,
    environ: Mapping[str, str],
    api_url: str | None,
    transport: Transport | None = None,
) -> AsyncIterator[dict[str, AgentReader]]:
    """A read-only view per project, every client closed on the way out."""
    async with open_clients(
        projects, environ=environ, api_url=api_url, transport=transport
    ) as clients:
        yield {name: ReadOnlyAgents(client) for name, client in clients.items()}
