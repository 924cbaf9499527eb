"""The only code that speaks HTTP to the Agora ConvoAI REST API.

It turns the ten endpoints into typed async methods over the models of ``wire``, and owns what
belongs to the wire alone: base URLs, authentication, timeouts, retries, pagination, and the
mapping of statuses and transport failures onto ``reconciler.errors`` (``answers`` reads the
answers, ``resend`` says which failures are sent again, ``api_clock`` tracks the API's clock, and
``hosts`` names the base URLs). It must not decide what a failure means for the fleet (a 404 on
leave is raised, the caller decides it means "gone"), and no secret may reach its logs, exception
messages or reprs.

Deadline. httpx's timeout bounds each read, so a server that trickles one byte at a time would
hold a call forever; every call (all its attempts and pauses) therefore also runs under one total
deadline (``deadline``, default ``DEFAULT_DEADLINE``). A call past it raises a ``TransportError``
with ``may_have_reached_server`` True: like a lost reply, a join may then have taken effect.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Protocol, Self
from urllib.parse import quote

import httpx
import structlog

from reconciler import __version__, errors, logs
from reconciler.agora import answers, api_clock, capped, pools, resend, wire
from reconciler.agora.auth import Auth, BasicAuth, TokenAuth
from reconciler.agora.hosts import base_url_for
from reconciler.agora.retry import RetryPolicy, parse_retry_after

DEFAULT_DEADLINE: Final = 30.0
MAX_RESPONSE_ENV: Final = "RECONCILER_MAX_RESPONSE_BYTES"
# The REST token scope of calls that name no channel; for them the server checks only app id,
# signature and expiry, as the SDK's own stop_agent (channel "stop", uid 0) shows. A join's token
# must be scoped to its channel and agent uid (docs/api-notes.md), which ``join`` does.
_REST_SCOPE: Final = ("reconciler", "0")

__all__ = [
    "AgoraClient",
    "Auth",
    "BasicAuth",
    "RequestHook",
    "RetryPolicy",
    "TokenAuth",
    "base_url_for",
    "parse_retry_after",
]


Transport = httpx.AsyncBaseTransport
"""What a client sends through: the network by default, an in-process app (the emulator) in tests.

Named here so that the shells which pass one along never import an HTTP library themselves."""


class RequestHook(Protocol):
    """Called once per attempt, e.g. to count calls; ``status`` is None for a transport error."""

    def __call__(
        self, *, endpoint: wire.Endpoint, status: int | None, attempt: int, duration_s: float
    ) -> None: ...


@dataclass(frozen=True)
class _Call:
    """One logical API call, resent unchanged on every attempt."""

    endpoint: wire.Endpoint
    agent_id: str | None = None
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    scope: tuple[str, str] = _REST_SCOPE


@dataclass(frozen=True)
class _Failure:
    """An attempt that did not succeed, with what the retry loop needs to decide."""

    error: errors.ApiError
    cause: httpx.TransportError | None = None
    retry_after: float | None = None


class AgoraClient:
    """An async client for one App ID over one connection pool; an async context manager."""

    def __init__(
        self,
        *,
        app_id: str,
        auth: Auth,
        base_url: str,
        timeout: float = 10.0,
        deadline: float = DEFAULT_DEADLINE,
        retry: RetryPolicy | None = None,
        transport: Transport | None = None,
        on_request: RequestHook | None = None,
        project: str | None = None,
        max_response_bytes: int = capped.DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.app_id = app_id
        # Named in transport errors, with the URL, so a fleet of projects says which one broke.
        self.project = project
        self._max_response = max_response_bytes
        self.base_url = base_url_for(base_url=base_url)
        self._auth = auth
        self._retry = retry or RetryPolicy()
        self._deadline = deadline
        self._on_request = on_request
        self._log = structlog.get_logger(__name__)
        self._api_clock = api_clock.ApiClock(self._log)
        self._urls: dict[str, httpx.URL] = {}
        self._pages: dict[bytes, wire.ListResponse] = {}
        self._transport = transport or pools.ShardedTransport()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            transport=self._transport,
            headers={"User-Agent": f"reconciler/{__version__}"},
        )

    def __repr__(self) -> str:
        return (
            f"AgoraClient(app_id={self.app_id!r}, base_url={self.base_url!r}, auth={self._auth!r})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def join(self, request: wire.JoinRequest) -> wire.AgentStateResponse:
        """Start an agent; never resent under another name (see the module docstring)."""
        props = request.properties
        scope = (props.channel, _token_uid(props.agent_rtc_uid))
        call = _Call(wire.Endpoint.JOIN, json=request.to_wire(), scope=scope)
        return answers.decode(wire.AgentStateResponse, await self._send(call), call.endpoint)

    async def leave(self, agent_id: str) -> None:
        """Ask an agent to stop (it stops asynchronously); one already gone raises NotFoundError."""
        await self._send(_Call(wire.Endpoint.LEAVE, agent_id=agent_id))

    async def update(self, agent_id: str, request: wire.UpdateRequest) -> wire.AgentStateResponse:
        call = _Call(wire.Endpoint.UPDATE, agent_id=agent_id, json=request.to_wire())
        return answers.decode(wire.AgentStateResponse, await self._send(call), call.endpoint)

    async def query(self, agent_id: str) -> wire.QueryResponse:
        call = _Call(wire.Endpoint.QUERY, agent_id=agent_id)
        return answers.decode(wire.QueryResponse, await self._send(call), call.endpoint)

    async def list_page(self, query: wire.ListQuery) -> wire.ListResponse:
        return await self._page(query, seen={})

    async def _page(
        self, query: wire.ListQuery, *, seen: dict[bytes, wire.ListResponse]
    ) -> wire.ListResponse:
        """One page, noted in ``seen``; a body the last listing already read comes back as it was
        read then (the daemon's steady passes list the same pages, byte for byte, every time)."""
        call = _Call(wire.Endpoint.LIST, params=query.to_params())
        response = await self._send(call)
        page = self._pages.get(response.content)
        if page is None:
            page = answers.decode(wire.ListResponse, response, call.endpoint)
        seen[response.content] = page
        return page

    @property
    def api_clock_offset(self) -> int:
        """Whole seconds to add to our clock to get the API's (0 until a Date header said more)."""
        return self._api_clock.offset

    def forget_api_clock(self) -> None:
        """Check the API's clock afresh on the next answer, as a new client would: a client kept
        across the daemon's passes does so once per pass, so a clock put right is seen again."""
        self._api_clock = api_clock.ApiClock(self._log)

    async def list_all(
        self,
        *,
        states: Sequence[wire.StatusCode],
        from_time: float,
        channel: str | None = None,
        to_time: float | None = None,
        page_size: int = 100,
        max_items: int | None = None,
    ) -> list[wire.ListItem]:
        """Every agent matching the filter, following ``meta.cursor`` to the last page.

        ``state`` and ``from_time`` are always sent, since the server's defaults (RUNNING only,
        the last two hours) would hide agents. An item seen on two pages (the list shifted under
        us) is kept once, with its latest status. With ``max_items``, more agents than that, or
        more pages than they fill (plus one), raise ``ObservationError``: a list that never ends.

        The window is given on our clock, and the server filters on its own: when a ``Date``
        header shows the two apart by over a minute, the window is moved onto the API's clock
        (and a listing begun before that was known starts over), so a clock hours ahead does
        not hide every agent.
        """
        if not states:
            raise ValueError("list_all needs at least one state")
        items: dict[str, wire.ListItem] = {}
        # Only this listing's pages are kept for the next, so at most one listing is held.
        pages: dict[bytes, wire.ListResponse] = {}
        cursors: set[str] = set()
        cursor: str | None = None
        max_pages = None if max_items is None else -(-max_items // page_size) + 1
        shift = self._api_clock.offset
        while True:
            query = wire.ListQuery(
                state=wire.encode_states(list(states)),
                from_time=from_time + shift,
                to_time=None if to_time is None else to_time + shift,
                channel=channel,
                limit=page_size,
                cursor=cursor,
            )
            page = await self._page(query, seen=pages)
            if cursor is None and shift != self._api_clock.offset:
                shift = self._api_clock.offset  # the first answer told us the API's clock: again
                continue
            for item in page.data.list:
                items[item.agent_id] = item
            cursor = page.meta.cursor
            if not cursor:
                if max_items is not None:
                    _check_list_bounds(len(items), 0, max_items=max_items, max_pages=1)
                self._pages = pages
                return list(items.values())
            if cursor in cursors:
                raise errors.ApiError(
                    status=None,
                    detail=f"list returned cursor {cursor!r} twice; stopping to avoid a loop",
                    endpoint=wire.Endpoint.LIST.value,
                )
            cursors.add(cursor)
            if max_items is not None and max_pages is not None:
                _check_list_bounds(
                    len(items), len(cursors), max_items=max_items, max_pages=max_pages
                )

    async def speak(self, agent_id: str, request: wire.SpeakRequest) -> wire.ChannelActionResponse:
        call = _Call(wire.Endpoint.SPEAK, agent_id=agent_id, json=request.to_wire())
        return answers.decode(wire.ChannelActionResponse, await self._send(call), call.endpoint)

    async def interrupt(self, agent_id: str) -> wire.ChannelActionResponse:
        call = _Call(wire.Endpoint.INTERRUPT, agent_id=agent_id)
        return answers.decode(wire.ChannelActionResponse, await self._send(call), call.endpoint)

    async def think(self, agent_id: str, request: wire.ThinkRequest) -> wire.ChannelActionResponse:
        call = _Call(wire.Endpoint.THINK, agent_id=agent_id, json=request.to_wire())
        return answers.decode(wire.ChannelActionResponse, await self._send(call), call.endpoint)

    async def history(self, agent_id: str) -> wire.HistoryResponse:
        """Short-term memory; only a RUNNING agent has one (404 otherwise)."""
        call = _Call(wire.Endpoint.HISTORY, agent_id=agent_id)
        return answers.decode(wire.HistoryResponse, await self._send(call), call.endpoint)

    async def turns(
        self, agent_id: str, query: wire.TurnsQuery | None = None
    ) -> wire.TurnsResponse:
        params = query.to_params() if query is not None else None
        call = _Call(wire.Endpoint.TURNS, agent_id=agent_id, params=params)
        return answers.decode(wire.TurnsResponse, await self._send(call), call.endpoint)

    async def _send(self, call: _Call) -> httpx.Response:
        """The call under its total deadline; past it, its outcome is unknown (module docstring)."""
        limit = asyncio.timeout(self._deadline)
        try:
            async with limit:
                return await self._send_retrying(call)
        except TimeoutError:
            if not limit.expired():
                raise
        self._log.info("api_request", endpoint=call.endpoint.value, gave_up=True, reason="deadline")
        raise errors.TransportError(
            may_have_reached_server=True,
            detail=f"no complete answer within the {self._deadline:g} s deadline",
            endpoint=call.endpoint.value,
        )

    async def _send_retrying(self, call: _Call) -> httpx.Response:
        """One call with its retries: each attempt is observed and logged once."""
        log = self._log.bind(endpoint=call.endpoint.value)
        if call.agent_id is not None:
            log = log.bind(agent_id=call.agent_id)
        # Once per call, not per attempt: a minted token is valid far longer than any retry loop.
        channel, uid = call.scope
        authorization = self._auth.authorization(app_id=self.app_id, channel=channel, uid=uid)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            outcome = await self._attempt(call, authorization=authorization)
            status = (
                outcome.status_code if isinstance(outcome, httpx.Response) else outcome.error.status
            )
            self._observe(call, status, attempt, started)
            fields: dict[str, Any] = {
                "status": status,
                "attempt": attempt,
                "duration_ms": _ms(started),
            }
            if isinstance(outcome, httpx.Response):
                log.debug("api_request", **fields)
                return outcome
            error = outcome.error
            fields.update(reason=error.reason, error=type(error).__name__)
            if attempt < self._retry.attempts and self._resend(call, error):
                delay = self._retry.delay(attempt, retry_after=outcome.retry_after)
                log.warning("api_request", **fields, retry_in_s=round(delay, 3))
                await self._retry.sleep(delay)
                continue
            log.info("api_request", **fields, gave_up=True)
            raise error from outcome.cause

    def _where(self, method: str, path: str) -> str:
        """``project P: METHOD scheme://host[:port]/path``: never the query, never credentials."""
        url = self._http.build_request(method, path).url  # merged with the base as sent
        port = f":{url.port}" if url.port is not None else ""
        where = f"{method} {url.scheme}://{url.host}{port}{url.path}"
        return f"project {self.project}: {where}" if self.project else where

    async def _attempt(self, call: _Call, *, authorization: str) -> httpx.Response | _Failure:
        """Send the call once; a non-2xx answer or a transport error comes back as a failure."""
        method, _ = wire.ROUTES[call.endpoint]
        path = wire.endpoint_path(
            call.endpoint,
            app_id=quote(self.app_id, safe=""),
            agent_id=quote(call.agent_id, safe="") if call.agent_id is not None else None,
        )
        request = self._http.build_request(
            method,
            self._url(path) if call.agent_id is None else path,
            json=call.json,
            params=call.params,
            headers={"Authorization": authorization},
        )
        try:
            response = await capped.send_capped(self._transport, request, limit=self._max_response)
        except capped.ResponseTooLarge as exc:
            detail = (
                f"{self._where(method, path)}: an answer of at least {exc.seen} bytes, more "
                f"than the {self._max_response} allowed ({MAX_RESPONSE_ENV}); none of it is read"
            )
            return _Failure(
                error=errors.ObservationError(
                    status=None, detail=detail, endpoint=call.endpoint.value
                )
            )
        except httpx.TransportError as exc:
            hidden = self._hidden(call, authorization=authorization)
            description = logs.redact(f"{type(exc).__name__}: {exc}".rstrip(": "), hidden)
            error = errors.TransportError(
                may_have_reached_server=not isinstance(exc, resend.NOT_SENT),
                detail=f"{self._where(method, path)}: {answers.truncate(description)}",
                endpoint=call.endpoint.value,
            )
            return _Failure(error=error, cause=exc)
        self._api_clock.check(response)
        if response.is_success:
            return response
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=time.time())
        error_for_status = answers.error_from(
            response,
            endpoint=call.endpoint,
            hidden=self._hidden(call, authorization=authorization),
            retry_after=retry_after,
        )
        return _Failure(error=error_for_status, retry_after=retry_after)

    def _url(self, path: str) -> httpx.URL:
        """``path`` merged with the base URL once: merging and parsing a relative path costs
        more than the rest of building a join request (~80 of ~130 µs). Only the paths with
        no agent id are kept, so they are few."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self._http.build_request("GET", path).url
        return url

    def _resend(self, call: _Call, error: errors.ApiError) -> bool:
        """Whether to try again; a 429 asking to wait past the call's deadline is not worth it:
        it is raised at once, and apply defers the project's calls instead of the pass."""
        wait = error.retry_after if isinstance(error, errors.RateLimitedError) else None
        if wait is not None and wait > self._deadline:
            return False
        return resend.worth_resending(call.endpoint, error)

    def _hidden(self, call: _Call, *, authorization: str) -> set[str]:
        """The values a failure's message must not show; built only when an attempt fails."""
        return {
            *self._auth.secrets(),
            *logs.secret_values(call.json),
            authorization,
            _credential(authorization),
        }

    def _observe(self, call: _Call, status: int | None, attempt: int, started: float) -> None:
        if self._on_request is not None:
            self._on_request(
                endpoint=call.endpoint,
                status=status,
                attempt=attempt,
                duration_s=time.perf_counter() - started,
            )


def _check_list_bounds(items: int, pages: int, *, max_items: int, max_pages: int) -> None:
    """Raise when a list has grown past what its caller can believe of a live fleet."""
    if items > max_items:
        detail = f"{items} agents listed, more than the {max_items} expected at most"
    elif pages >= max_pages:
        detail = f"no last page after {pages} pages ({items} agents so far)"
    else:
        return
    raise errors.ObservationError(status=None, detail=detail, endpoint=wire.Endpoint.LIST.value)


def _token_uid(agent_rtc_uid: str) -> str:
    """The uid a join's REST token is minted for: the agent's own when numeric, else any (0)."""
    numeric = wire.uid_problem(agent_rtc_uid, string_uid=False) is None
    return agent_rtc_uid if numeric else "0"


def _credential(authorization: str) -> str:
    """The secret part of an Authorization header value, without its scheme."""
    return authorization.partition(" ")[2].removeprefix("token=")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
