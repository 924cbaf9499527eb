"""Observe the live agents of each project and sort them by who owns them (design §4 step 2).

Per project: one ``list`` of every non-terminal state, reaching back past the 72-hour lifetime cap,
all pages; then ``query`` only for the ids that need it — state-owned ids missing from the list
(stopped, failed or gone?) and ids the state does not know (what is their name?). A state in sync
costs ⌈N/page⌉ list calls and no query.

Read-only by construction: it holds an ``AgentReader``, which has no join, update or leave. It
must not plan or decide anything; ``assemble`` is the pure part, shared with tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Protocol

from reconciler import naming
from reconciler.agora import wire
from reconciler.errors import NotFoundError, ObservationError, ReconcilerError
from reconciler.state import AgentRecord, StateSnapshot

# Reach back past the lifetime cap, plus slack for clock skew between us and Agora.
LIST_WINDOW_SECONDS: Final = wire.LIFETIME_CAP_SECONDS + 3600
LIST_PAGE_SIZE: Final = 100
QUERY_CONCURRENCY: Final = 8
# The status an owned agent gets when query answers 404: it stopped long enough ago to be gone.
GONE: Final = "GONE"


class AgentReader(Protocol):
    """The read-only view of the Agora client that observing and planning are allowed to hold."""

    async def list_all(
        self,
        *,
        states: Sequence[wire.StatusCode],
        from_time: float,
        channel: str | None = None,
        page_size: int = 100,
        max_items: int | None = None,
    ) -> list[wire.ListItem]: ...

    async def query(self, agent_id: str) -> wire.QueryResponse: ...

    @property
    def api_clock_offset(self) -> int:
        """Seconds to add to our clock to get the API's, as far as its answers told."""
        ...


class Ownership(StrEnum):
    """Who a live agent belongs to; only ``owned`` agents are ever touched."""

    OWNED = "owned"
    OURS_WITHOUT_RECORD = "ours-without-record"
    UNMANAGED = "unmanaged"


@dataclass(frozen=True)
class LiveAgent:
    """A non-terminal agent; ``name`` is the record's for owned agents, else what query said."""

    agent_id: str
    status: str
    start_ts: int | None
    name: str | None
    ownership: Ownership


@dataclass(frozen=True)
class EndedAgent:
    """A state-owned agent that is no longer live: STOPPED, FAILED, or ``GONE`` (query 404)."""

    agent_id: str
    status: str
    message: str | None


@dataclass(frozen=True)
class ObservedProject:
    """One project's live agents and the end of every owned agent that stopped, by agent id."""

    project: str
    live: Mapping[str, LiveAgent]
    ended: Mapping[str, EndedAgent]
    # Whole seconds to add to our clock to get the API's, as its Date header told (0 when within
    # a minute): a token's expiry is judged on the clock that will refuse it, the API's.
    clock_offset: int = 0


@dataclass(frozen=True)
class ObservedFleet:
    """Every observed project, by name."""

    projects: Mapping[str, ObservedProject]


@dataclass(frozen=True)
class Target:
    """One project to observe: how to read it, which name prefix marks our agents, and the most
    agents its list may hold (and ids it may query) before the answer is not believed."""

    project: str
    reader: AgentReader
    prefix: str
    max_listed: int | None = None


def classify(*, agent_id: str, name: str | None, owned: Iterable[str], prefix: str) -> Ownership:
    """Owned when a record holds the id; ours when the name carries our prefix; else unmanaged."""
    if agent_id in owned:
        return Ownership.OWNED
    if name is not None and naming.parse(name, prefix=prefix) is not None:
        return Ownership.OURS_WITHOUT_RECORD
    return Ownership.UNMANAGED


def ids_to_query(*, listed: Iterable[str], records: Iterable[AgentRecord]) -> tuple[str, ...]:
    """Owned ids the list did not show, then listed ids the state does not know, each sorted."""
    listed_ids = set(listed)
    owned = {r.agent_id for r in records if r.agent_id is not None}
    return (*sorted(owned - listed_ids), *sorted(listed_ids - owned))


def assemble(
    *,
    project: str,
    prefix: str,
    listed: Iterable[wire.ListItem],
    queried: Mapping[str, wire.QueryResponse | None],
    records: Iterable[AgentRecord],
) -> ObservedProject:
    """Combine a list and the answers of the queries (None for a 404) into an observed project."""
    names = {r.agent_id: r.remote_name for r in records if r.agent_id is not None}
    live: dict[str, LiveAgent] = {}
    ended: dict[str, EndedAgent] = {}
    listed_ids: set[str] = set()
    for item in listed:
        listed_ids.add(item.agent_id)
        owned_name = names.get(item.agent_id)
        if owned_name is not None:
            # Owned and listed, so never queried: the path of nearly every agent of a pass.
            live[item.agent_id] = LiveAgent(
                agent_id=item.agent_id,
                status=item.status,
                start_ts=item.start_ts,
                name=owned_name,
                ownership=Ownership.OWNED,
            )
            continue
        answer = queried.get(item.agent_id)
        if item.agent_id in queried and (answer is None or wire.is_terminal(answer.status)):
            continue  # no record knows it, and it ended between list and query: nobody's concern
        name = answer.name if answer is not None else None
        live[item.agent_id] = LiveAgent(
            agent_id=item.agent_id,
            status=item.status,
            start_ts=item.start_ts,
            name=name,
            ownership=classify(agent_id=item.agent_id, name=name, owned=names, prefix=prefix),
        )
    for agent_id in sorted(set(names) - listed_ids):
        answer = queried.get(agent_id)
        if answer is None:
            ended[agent_id] = EndedAgent(agent_id=agent_id, status=GONE, message=None)
        elif wire.is_terminal(answer.status):
            ended[agent_id] = EndedAgent(
                agent_id=agent_id, status=answer.status, message=answer.message
            )
        else:
            live[agent_id] = LiveAgent(
                agent_id=agent_id,
                status=answer.status,
                start_ts=answer.start_ts,
                name=names[agent_id],
                ownership=Ownership.OWNED,
            )
    return ObservedProject(
        project=project,
        live=MappingProxyType(dict(sorted(live.items()))),
        ended=MappingProxyType(dict(sorted(ended.items()))),
    )


async def observe_fleet(
    targets: Iterable[Target], *, state: StateSnapshot, now: float
) -> ObservedFleet:
    """Observe every target concurrently; the first API error of any project fails the pass."""
    ordered = sorted(targets, key=lambda t: t.project)
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(observe_project(target, state=state, now=now))
                for target in ordered
            ]
    except* ReconcilerError as failures:
        raise failures.exceptions[0] from None
    observed = {task.result().project: task.result() for task in tasks}
    return ObservedFleet(projects=MappingProxyType(observed))


async def observe_project(target: Target, *, state: StateSnapshot, now: float) -> ObservedProject:
    """List one project's live agents and query only the ids that need it."""
    records = [r for r in state.records.values() if r.project == target.project]
    try:
        listed = await target.reader.list_all(
            states=wire.NON_TERMINAL_CODES,
            from_time=float(int(now) - LIST_WINDOW_SECONDS),
            page_size=LIST_PAGE_SIZE,
            max_items=target.max_listed,
        )
    except ObservationError as exc:
        raise _unbelievable(target, exc.endpoint, exc.detail) from None
    wanted = ids_to_query(listed=(item.agent_id for item in listed), records=records)
    # The owned ids come from the state, the others from the (bounded) list: more is a bug.
    if target.max_listed is not None and len(wanted) > target.max_listed + len(records):
        detail = f"{len(wanted)} agents to query, more than the {target.max_listed} allowed"
        raise _unbelievable(target, wire.Endpoint.QUERY.value, detail)
    queried = await _query_all(target.reader, wanted)
    seen = assemble(
        project=target.project,
        prefix=target.prefix,
        listed=listed,
        queried=queried,
        records=records,
    )
    return dataclasses.replace(seen, clock_offset=target.reader.api_clock_offset)


def _unbelievable(target: Target, endpoint: str | None, detail: str | None) -> ObservationError:
    named = f"project {target.project}: "
    # The client names the project itself when it refuses an answer too large to read.
    detail = detail if (detail or "").startswith(named) else f"{named}{detail}"
    return ObservationError(
        status=None, endpoint=endpoint, detail=f"{detail}; nothing is planned from this answer"
    )


async def _query_all(
    reader: AgentReader, agent_ids: Sequence[str]
) -> dict[str, wire.QueryResponse | None]:
    gate = asyncio.Semaphore(QUERY_CONCURRENCY)

    async def one(agent_id: str) -> wire.QueryResponse | None:
        async with gate:
            try:
                return await reader.query(agent_id)
            except NotFoundError:
                return None

    try:
        async with asyncio.TaskGroup() as group:
            tasks = {agent_id: group.create_task(one(agent_id)) for agent_id in agent_ids}
    except* ReconcilerError as failures:
        raise failures.exceptions[0] from None
    return {agent_id: task.result() for agent_id, task in tasks.items()}
