"""What one agent is doing right now, as apply needs to know it between calls.

Three questions, each answered by polling ``query`` (and ``list`` for the last) on the injected
clock: has a joined agent reached RUNNING, is a left agent gone (so its uid and quota slot are
free), and which agent carries a given remote name (the only way to find out what a join whose
answer was lost did, API notes §14.6). Waits are bounded and back off. This module reads only:
it never joins, updates or leaves, and never touches the state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from reconciler.agora import wire
from reconciler.apply.ratelimit import AgentApi
from reconciler.clock import Clock
from reconciler.errors import NotFoundError
from reconciler.observe.fleet import GONE, LIST_WINDOW_SECONDS

_ALL_STATES = tuple(wire.StatusCode)
# One channel's agents over the list window, ended ones included: a list far longer than this
# (or one that never ends) is a broken answer, not agents to query one by one.
CHANNEL_LIST_MAX: Final = 1000


@dataclass(frozen=True)
class Polling:
    """How patiently to poll: delays double from ``first_delay`` up to ``max_delay``."""

    timeout: float = 60.0
    first_delay: float = 0.25
    max_delay: float = 4.0

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        while True:
            yield delay
            delay = min(self.max_delay, delay * 2)


@dataclass(frozen=True)
class Seen:
    """The last status seen (``GONE`` after a 404), its message, and whether the wait succeeded."""

    status: str
    message: str | None
    reached: bool

    @property
    def ended(self) -> bool:
        """STOPPED, FAILED or unknown: either way its uid and quota slot are free."""
        return self.status == GONE or wire.is_terminal(self.status)

    def describe(self) -> str:
        return self.status + (f" ({self.message})" if self.message else "")


async def wait_until_running(
    api: AgentApi, agent_id: str, *, clock: Clock, polling: Polling
) -> Seen:
    """Poll until RUNNING; an agent that stops or fails first is reported with its message."""
    return await _poll(
        api,
        agent_id,
        clock=clock,
        polling=polling,
        reached=lambda seen: seen.status == wire.AgentStatus.RUNNING,
    )


async def wait_until_gone(api: AgentApi, agent_id: str, *, clock: Clock, polling: Polling) -> Seen:
    """Poll until the agent is STOPPED, FAILED or unknown (404): then its uid is free again."""
    return await _poll(api, agent_id, clock=clock, polling=polling, reached=lambda seen: seen.ended)


async def _poll(
    api: AgentApi,
    agent_id: str,
    *,
    clock: Clock,
    polling: Polling,
    reached: Callable[[Seen], bool],
) -> Seen:
    """Poll until ``reached``, until the agent has ended (it changes no more), or until timeout."""
    deadline = clock.now() + polling.timeout
    for delay in polling.delays():
        seen = await look(api, agent_id)
        if reached(seen):
            return dataclasses.replace(seen, reached=True)
        if seen.ended or clock.now() + delay > deadline:
            return seen
        await clock.sleep(delay)
    raise AssertionError("unreachable: delays() never ends")


async def find_by_name(
    api: AgentApi, *, channel: str, name: str, now: float
) -> wire.QueryResponse | None:
    """The agent in ``channel`` carrying ``name``, live ones first; None when there is none.

    Ended agents count too: under strict naming a name whose agent already stopped is spent, and
    recording that agent lets the next plan recreate it under a new name instead of retrying a
    name that can only ever conflict.
    """
    listed = await api.list_all(
        states=_ALL_STATES,
        from_time=float(int(now) - LIST_WINDOW_SECONDS),
        channel=channel,
        max_items=CHANNEL_LIST_MAX,
    )
    ended: wire.QueryResponse | None = None
    for item in sorted(listed, key=lambda i: (-i.start_ts, i.agent_id)):
        try:
            answer = await api.query(item.agent_id)
        except NotFoundError:
            continue
        if answer.name != name:
            continue
        if not wire.is_terminal(answer.status):
            return answer
        ended = ended or answer
    return ended


async def look(api: AgentApi, agent_id: str) -> Seen:
    """One query: the agent's status now (``GONE`` after a 404); ``reached`` is always False."""
    try:
        answer = await api.query(agent_id)
    except NotFoundError:
        return Seen(status=GONE, message=None, reached=False)
    return Seen(status=answer.status, message=answer.message, reached=False)
