"""``rollout.deferWhileTalking``: a replace waits while its agent is in a conversation.

A replace drops the conversation in its channel, so with ``deferWhileTalking`` set the replace
first asks whether the old agent is talking and, while it is, waits, up to that long; then it
goes ahead whatever the answer. The signal is the agent's **turns** (API notes §7.10): each turn
carries its start and end in Unix milliseconds, so a single read says whether one began or ended
within ``ACTIVE_SECONDS``. History (§7.9) has no times, so it could only show activity by
comparing two reads some time apart. Only agents about to be replaced are asked, one read of
the first page (two when the latest turn is on a later page) every ``POLL_SECONDS``, each
through the project's rate limit.

Best effort: an answer that cannot be had (the agent is gone, an API error) counts as quiet,
since a deferral must never keep a replace from happening; a stop of the pass ends the wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Protocol

from reconciler.agora import wire
from reconciler.clock import Clock
from reconciler.errors import ApiError

ACTIVE_SECONDS: Final = 30.0
POLL_SECONDS: Final = 5.0
_PAGE_SIZE: Final = wire.TURNS_PAGE_SIZE_RANGE[0]


class TurnsReader(Protocol):
    async def turns(
        self, agent_id: str, query: wire.TurnsQuery | None = None
    ) -> wire.TurnsResponse: ...


async def wait_while_talking(
    api: TurnsReader,
    agent_id: str,
    *,
    limit: float,
    clock: Clock,
    stopping: Callable[[], bool],
    log: Any,
) -> None:
    """Return once ``agent_id`` has been quiet for ``ACTIVE_SECONDS``, ``limit`` seconds have
    passed, or the pass is stopping; logs when it deferred and why it stopped waiting."""
    started = clock.now()
    deferred = False
    while not stopping():
        last = await last_turn_at(api, agent_id, log=log)
        now = clock.now()
        if last is None or now - last >= ACTIVE_SECONDS:
            if deferred:
                log.info("replace_deferral_ended", why="quiet", waited_s=round(now - started, 1))
            return
        if now - started >= limit:
            log.info("replace_deferral_ended", why="deferWhileTalking is up", waited_s=limit)
            return
        if not deferred:
            log.info("replace_deferred", why="the agent is talking", up_to_s=limit)
            deferred = True
        await clock.sleep(min(POLL_SECONDS, started + limit - now))


async def last_turn_at(api: TurnsReader, agent_id: str, *, log: Any) -> float | None:
    """When the agent's latest turn began or ended (Unix seconds); None with no turn, or when
    the turns cannot be read."""
    try:
        first = await api.turns(agent_id, wire.TurnsQuery(page_index=1, page_size=_PAGE_SIZE))
        page = first
        if first.pagination is not None and first.pagination.total_pages > 1:
            last_page = wire.TurnsQuery(
                page_index=first.pagination.total_pages, page_size=_PAGE_SIZE
            )
            page = await api.turns(agent_id, last_page)
    except ApiError as exc:
        log.warning("turns_unreadable", error=str(exc), error_type=type(exc).__name__)
        return None
    stamps = [
        edge_at
        for turn in page.turns
        for edge in (turn.start, turn.end)
        if edge is not None
        for edge_at in (edge.start_at, edge.end_at)
        if edge_at is not None
    ]
    return max(stamps) / 1000 if stamps else None
