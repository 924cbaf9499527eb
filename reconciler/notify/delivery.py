"""Where notifications go (``Target``, from ``--notify``), and the background sender.

A target is ``[slack+]URL[#events=KIND,KIND]``: a generic JSON webhook by default, Slack's
incoming-webhook body for ``slack+`` URLs and for ``hooks.slack.com``, every event kind unless the
fragment (which is never sent) names some. ``Notifier.send`` only queues, so it never blocks a
pass; ``Notifier.run`` delivers in order, retrying transport errors, 429 and 5xx a few times with
growing delays, and logs what it gave up on. A target is only ever logged as its scheme and host:
the rest of a webhook URL is often the credential.

It decides nothing about what is worth telling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import structlog

from reconciler import logs
from reconciler.notify.events import Event, EventKind, Style, render

TargetKind = Style
DEFAULT_DELAYS: Final = (1.0, 5.0, 15.0)
DEFAULT_TIMEOUT_SECONDS: Final = 10.0
QUEUE_CAPACITY: Final = 200
_SLACK_HOSTS: Final = frozenset({"hooks.slack.com"})

_log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Target:
    """One receiver: its URL (kept out of every repr and log), body style and event kinds."""

    url: str = field(repr=False)
    style: Style = Style.JSON
    # None: every kind.
    events: frozenset[EventKind] | None = None

    @property
    def shown(self) -> str:
        """The URL as logs may show it: scheme and host only."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}" + ("/…" if parts.path.strip("/") else "")

    def wants(self, kind: EventKind) -> bool:
        return self.events is None or kind in self.events


def parse_target(spec: str) -> Target:
    """A ``--notify`` value as a ``Target``; ``ValueError`` (never quoting the URL) if malformed."""
    url, _, fragment = spec.strip().partition("#")
    style = Style.JSON
    for prefix, named in (("slack+", Style.SLACK), ("json+", Style.JSON)):
        if url.startswith(prefix):
            url, style = url.removeprefix(prefix), named
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a --notify target must be an http:// or https:// URL")
    if parts.hostname in _SLACK_HOSTS:
        style = Style.SLACK
    return Target(url=url, style=style, events=_kinds(fragment))


def _kinds(fragment: str) -> frozenset[EventKind] | None:
    if not fragment:
        return None
    name, _, listed = fragment.partition("=")
    known = ", ".join(kind.value for kind in EventKind)
    if name != "events" or not listed:
        raise ValueError(f"a --notify fragment must be #events=KIND,... (kinds: {known})")
    try:
        return frozenset(EventKind(kind.strip()) for kind in listed.split(",") if kind.strip())
    except ValueError:
        raise ValueError(f"unknown event kind in --notify #events= (kinds: {known})") from None


class Notifier:
    """Queues events for their targets and delivers them in the background."""

    def __init__(
        self,
        targets: Iterable[Target],
        *,
        delays: Sequence[float] = DEFAULT_DELAYS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.targets = tuple(targets)
        for target in self.targets:
            logs.register_secret(target.url)
        self._delays = tuple(delays)
        self._timeout = timeout
        self._sleep = sleep
        self._transport = transport
        self._queue: asyncio.Queue[tuple[Target, Event]] = asyncio.Queue(QUEUE_CAPACITY)

    def send(self, event: Event) -> None:
        """Queue ``event`` for every target that wants its kind; never waits."""
        for target in self.targets:
            if not target.wants(event.kind):
                continue
            try:
                self._queue.put_nowait((target, event))
            except asyncio.QueueFull:
                _log.warning("notification_dropped", kind=event.kind.value, target=target.shown)

    async def run(self, *, stop: asyncio.Event) -> None:
        """Deliver queued events, one at a time, until ``stop`` is set."""
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as http:
            stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
            try:
                while not stop.is_set():
                    target, event = await self._next(stopped)
                    if target is None or event is None:
                        break
                    delivering = asyncio.ensure_future(self._deliver(http, target, event))
                    await asyncio.wait({delivering, stopped}, return_when=asyncio.FIRST_COMPLETED)
                    if not delivering.done():
                        delivering.cancel()
                        await asyncio.gather(delivering, return_exceptions=True)
            finally:
                stopped.cancel()
                if self._queue.qsize():
                    _log.warning("notifications_unsent", count=self._queue.qsize())

    async def _next(self, stopped: asyncio.Future[Any]) -> tuple[Target, Event] | tuple[None, None]:
        getting = asyncio.ensure_future(self._queue.get())
        await asyncio.wait({getting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if getting.done():
            return getting.result()
        getting.cancel()
        return None, None

    async def _deliver(self, http: httpx.AsyncClient, target: Target, event: Event) -> None:
        body = render(event, style=target.style)
        attempts = len(self._delays) + 1
        for attempt in range(1, attempts + 1):
            try:
                answer = await http.post(target.url, json=body)
            except httpx.HTTPError as exc:
                error, retry = type(exc).__name__, True
            else:
                if answer.is_success:
                    _log.info(
                        "notification_sent",
                        kind=event.kind.value,
                        target=target.shown,
                        attempt=attempt,
                    )
                    return
                error = f"HTTP {answer.status_code}"
                retry = answer.status_code == 429 or answer.status_code >= 500
            last = attempt == attempts or not retry
            _log.warning(
                "notification_failed",
                kind=event.kind.value,
                target=target.shown,
                attempt=attempt,
                error=error,
                giving_up=last,
            )
            if last:
                return
            await self._sleep(self._delays[attempt - 1])
