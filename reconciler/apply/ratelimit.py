"""A token bucket per project, so that apply sends each App ID no more than its share of calls.

Agora limits the request rate per App ID (429, numbers unpublished; API notes §10, §17 #14), so
each project gets its own bucket and ``GatedApi`` spends one token before every call apply makes.
Retries the client makes inside one call are not gated again: they already wait their backoff or
the server's ``Retry-After``. A 429 that reaches apply pauses the whole bucket, so the other calls
in flight to that project back off too; one whose ``Retry-After`` is longer than
``MAX_PAUSE_SECONDS`` defers the project's remaining calls of the pass (raised unsent), so a
server asking for hours holds up neither the pass nor the other projects. Time comes from an
injected clock. This module decides only when a call may go; it must not decide what to call or
what an answer means.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

from reconciler.agora import wire
from reconciler.clock import Clock
from reconciler.errors import RateLimitedError
from reconciler.observe.fleet import AgentReader

# The longest a 429 pauses a bucket, as the client waits on a ``Retry-After`` at most this long.
MAX_PAUSE_SECONDS: Final = 30.0

T = TypeVar("T")
P = TypeVar("P")


@dataclass(frozen=True)
class RateLimit:
    """``per_second`` calls on average, at most ``burst`` at once after a quiet spell."""

    per_second: float = 10.0
    burst: int = 10

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError(f"rate limit must be positive (got {self.per_second})")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1 (got {self.burst})")


def burst_for(per_second: float) -> int:
    """The burst ``--rate-limit`` allows: a tenth of a second's calls, at least 10, at most one
    second's.

    A bucket that let a whole second's calls go at once (the old rule) could send 2R calls within
    one second after a quiet spell, just what a server counting calls per second refuses; a tenth
    of a second's worth keeps any second at 1.1 R or below. A burst of 10 is harmless at any rate
    and keeps small applies from being spaced out one call at a time.
    """
    return max(1, min(math.ceil(per_second), max(10, math.ceil(per_second / 10))))


def projects_in_turn(
    items: Sequence[tuple[int, P]], *, project: Callable[[P], str]
) -> list[tuple[int, P]]:
    """``items`` with their projects taking turns: the first of each project, then the second of
    each, and so on, each project's in their own order.

    Steps take apply's shared slots (``--concurrency``) in the order they are started, and one
    waiting on its project's bucket keeps its slot: in plan order, the first project's creates
    took every slot while the other projects' buckets sat full (50 projects × 20 creates at the
    CLI's defaults took 16 s; 4.8 s in turns). Taking turns lets each bucket pace only its project.
    """
    queues: dict[str, list[tuple[int, P]]] = {}
    for item in items:
        queues.setdefault(project(item[1]), []).append(item)
    turns = itertools.zip_longest(*queues.values())
    return [item for turn in turns for item in turn if item is not None]


class TokenBucket:
    """Hands out call slots in arrival order; a caller that must wait has its slot reserved.

    Tokens may go negative: each caller that finds none takes the next future one and sleeps until
    it is due, so concurrent callers are spaced ``1/per_second`` apart without a lock.
    """

    def __init__(self, limit: RateLimit, *, clock: Clock) -> None:
        self._limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._stamp = clock.now()
        self._paused_until = 0.0

    async def take(self) -> float:
        """Wait for a slot; returns how long that took in seconds."""
        now = self._clock.now()
        self._refill(now)
        self._tokens -= 1
        wait = max(-self._tokens / self._limit.per_second, self._paused_until - now, 0.0)
        if wait > 0:
            await self._clock.sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Give no slot for ``seconds`` from now, e.g. after the server said ``Retry-After``."""
        self._paused_until = max(self._paused_until, self._clock.now() + seconds)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(
            float(self._limit.burst), self._tokens + elapsed * self._limit.per_second
        )
        self._stamp = max(self._stamp, now)


class AgentApi(AgentReader, Protocol):
    """What apply needs of a project's Agora client (``AgoraClient`` is one): the reads that
    observing needs, and the calls that act."""

    @property
    def app_id(self) -> str: ...

    async def join(self, request: wire.JoinRequest) -> wire.AgentStateResponse: ...

    async def leave(self, agent_id: str) -> None: ...

    async def update(
        self, agent_id: str, request: wire.UpdateRequest
    ) -> wire.AgentStateResponse: ...

    async def history(self, agent_id: str) -> wire.HistoryResponse: ...

    async def turns(
        self, agent_id: str, query: wire.TurnsQuery | None = None
    ) -> wire.TurnsResponse: ...


class GatedApi:
    """An ``AgentApi`` whose every call first takes a slot from the project's bucket.

    A call that still ends in 429 (the client gave up resending it) pauses the bucket for the
    server's ``Retry-After``, capped at ``MAX_PAUSE_SECONDS``, and is raised as it came.
    """

    def __init__(self, api: AgentApi, *, bucket: TokenBucket) -> None:
        self._api = api
        self.bucket = bucket
        self._deferred: RateLimitedError | None = None

    @property
    def app_id(self) -> str:
        return self._api.app_id

    @property
    def api_clock_offset(self) -> int:
        return self._api.api_clock_offset

    async def join(self, request: wire.JoinRequest) -> wire.AgentStateResponse:
        return await self._gated(lambda: self._api.join(request))

    async def leave(self, agent_id: str) -> None:
        await self._gated(lambda: self._api.leave(agent_id))

    async def update(self, agent_id: str, request: wire.UpdateRequest) -> wire.AgentStateResponse:
        return await self._gated(lambda: self._api.update(agent_id, request))

    async def query(self, agent_id: str) -> wire.QueryResponse:
        return await self._gated(lambda: self._api.query(agent_id))

    async def history(self, agent_id: str) -> wire.HistoryResponse:
        return await self._gated(lambda: self._api.history(agent_id))

    async def turns(
        self, agent_id: str, query: wire.TurnsQuery | None = None
    ) -> wire.TurnsResponse:
        return await self._gated(lambda: self._api.turns(agent_id, query))

    async def list_all(
        self,
        *,
        states: Sequence[wire.StatusCode],
        from_time: float,
        channel: str | None = None,
        page_size: int = 100,
        max_items: int | None = None,
    ) -> list[wire.ListItem]:
        return await self._gated(
            lambda: self._api.list_all(
                states=states,
                from_time=from_time,
                channel=channel,
                page_size=page_size,
                max_items=max_items,
            )
        )

    async def _gated(self, send: Callable[[], Awaitable[T]]) -> T:
        if self._deferred is not None:
            raise self._deferred
        await self.bucket.take()
        try:
            return await send()
        except RateLimitedError as exc:
            if exc.retry_after is not None:
                self.bucket.pause(min(exc.retry_after, MAX_PAUSE_SECONDS))
                if exc.retry_after > MAX_PAUSE_SECONDS:
                    self._deferred = _deferred(exc)
            raise


def _deferred(exc: RateLimitedError) -> RateLimitedError:
    """What the project's later calls in this pass raise, unsent, after a Retry-After too long
    to wait out: the pass goes on with the other projects, a later pass tries this one again."""
    return RateLimitedError(
        status=exc.status,
        reason=exc.reason,
        retry_after=exc.retry_after,
        detail=f"not sent: the API asked this project to wait {exc.retry_after:g} s "
        "(Retry-After); deferred to a later pass",
    )
