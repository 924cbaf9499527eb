"""What each verified Notification Center event does, on the daemon's own task.

Events only wake or record; the pass still decides, level-based, from a fresh observation:

- 102 (agent left) for an agent the state owns wakes the worker, so a channel whose agent died is
  served again within seconds rather than at the next resync; 104 (token about to expire) marks
  the agent ``expiring`` and wakes it too: the next pass renews that token whatever the record
  says of its expiry (Agora knows the token it holds), and a successful pass clears the mark.
- 103 (history after stop) for an agent that was ours and whose entry has ``archiveHistory`` is
  merged into its transcript archive (an agent that stopped by itself could not be asked first);
  112 (turns after the session) goes beside it.
- 110 counts errors by module and code, and keeps the last one per key for ``status``
  (``last_errors``); 111 feeds per-stage latency histograms.
- Events for agents the state does not own (and never did, lately) are counted and ignored.

Ownership comes from ``Owners``: the records as the last pass left them, plus the agents those
records replaced lately, since a 103 for an agent often arrives after the pass that healed it.
An event for an agent unknown while a pass is in flight waits for that pass to end (the agent
may be the one it is joining) before it is judged.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from reconciler.agora import events
from reconciler.apply import archive, payloads
from reconciler.daemon.last_errors import LastErrors
from reconciler.daemon.metrics import NAMESPACE
from reconciler.daemon.ncs import Inbox, Received
from reconciler.manifest.desired import DesiredFleet
from reconciler.plan import diff
from reconciler.plan.status import AgentError
from reconciler.state import AgentRecord

# How many agents that left the state are still recognised for their late events.
REMEMBERED_FORMER: Final = 4096
# Per-turn latencies, milliseconds to several seconds.
_LATENCY_BUCKETS: Final = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Owned:
    """The record of an agent an event is about, and whether the state still holds it."""

    record: AgentRecord
    current: bool


class Owners:
    """Which agent ids are ours, by project: the state's records and lately replaced ones."""

    def __init__(self, *, remember: int = REMEMBERED_FORMER) -> None:
        self._current: dict[tuple[str, str], AgentRecord] = {}
        self._former: OrderedDict[tuple[str, str], AgentRecord] = OrderedDict()
        self._remember = remember

    def update(self, records: Mapping[str, AgentRecord]) -> None:
        """Take in the records a pass left; ids no longer held become former ones."""
        current = {
            (record.project, record.agent_id): record
            for record in records.values()
            if record.agent_id is not None
        }
        for owner, record in self._current.items():
            if owner not in current:
                self._former[owner] = record
        for owner in current:
            self._former.pop(owner, None)
        while len(self._former) > self._remember:
            self._former.popitem(last=False)
        self._current = current

    def lookup(self, project: str, agent_id: str) -> Owned | None:
        owner = (project, agent_id)
        if owner in self._current:
            return Owned(record=self._current[owner], current=True)
        if owner in self._former:
            return Owned(record=self._former[owner], current=False)
        return None


class Expiring:
    """Agents whose tokens Agora warned are about to expire (104), until a pass handled them."""

    def __init__(self) -> None:
        self._ids: set[str] = set()

    def warn(self, agent_id: str) -> None:
        self._ids.add(agent_id)

    def taken(self) -> frozenset[str]:
        """The agents for the pass starting now to renew."""
        return frozenset(self._ids)

    def done(self, agent_ids: frozenset[str]) -> None:
        """A pass given ``agent_ids`` succeeded: forget them (warnings since then stay)."""
        self._ids -= agent_ids


class Reactions:
    """Turns queued events into wake-ups, archive files and metrics."""

    def __init__(
        self,
        *,
        owners: Owners,
        wake: Callable[[], None],
        fleet: Callable[[], DesiredFleet | None],
        between_passes: Callable[[], Awaitable[object]],
        passing: Callable[[], bool],
        registry: CollectorRegistry,
    ) -> None:
        self._owners = owners
        self._wake = wake
        self._fleet = fleet
        self._between_passes = between_passes
        self._passing = passing
        self.last_errors = LastErrors()
        self.expiring = Expiring()
        counter = functools.partial(Counter, namespace=NAMESPACE, registry=registry)
        self.events = counter(
            "agora_events_total",
            "Notification Center events taken in, by project, event type and what came of "
            "them: acted, unowned (not an agent of ours) or ignored (nothing to do, unreadable).",
            ["project", "event", "outcome"],
        )
        self.errors = counter(
            "agent_errors_total",
            "Errors Agora reported for our agents (event 110), by project, module and code.",
            ["project", "module", "code"],
        )
        self.latency = Histogram(
            "agent_latency_seconds",
            "Per-turn latency Agora reported for our agents (event 111), by project and stage: "
            "asr_ttlw, llm_ttfb, llm_ttfs, tts_ttfb.",
            ["project", "stage"],
            buckets=_LATENCY_BUCKETS,
            namespace=NAMESPACE,
            registry=registry,
        )

    async def consume(self, inbox: Inbox, *, stop: asyncio.Event) -> None:
        """Handle events from ``inbox`` one at a time until ``stop`` is set."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                taking = asyncio.ensure_future(inbox.get())
                await asyncio.wait({taking, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not taking.done():
                    taking.cancel()
                    await asyncio.gather(taking, return_exceptions=True)
                    return
                await self.handle(taking.result())
        finally:
            stopping.cancel()
            await asyncio.gather(stopping, return_exceptions=True)

    async def handle(self, received: Received) -> None:
        notice = received.notice
        payload = events.read_payload(notice)
        log = _log.bind(project=received.project, event=notice.event_type, notice=notice.notice_id)
        if payload is None:
            log.info("agora_event_ignored", why="not a ConvoAI agent event we can read")
            self._count(received, outcome="ignored")
            return
        log = log.bind(agent_id=payload.agent_id)
        owned = self._owners.lookup(received.project, payload.agent_id)
        if owned is None and self._passing():
            await self._between_passes()
            owned = self._owners.lookup(received.project, payload.agent_id)
        if owned is None:
            # Another reconciler's agent on the same App ID names its fleet (the state's lineage).
            fleet = payload.labels.get(payloads.FLEET_LABEL)
            log.info("agora_event_unowned", name=payload.name, fleet=fleet)
            self._count(received, outcome="unowned")
            return
        log = log.bind(key=owned.record.key)
        if isinstance(payload, events.AgentErrors) and payload.errors:
            self._keep_last(payload, owned=owned, at=notice.notify_ms / 1000)
        acted = await self._act(received.project, payload, owned=owned, log=log)
        self._count(received, outcome="acted" if acted else "ignored")

    async def _act(
        self,
        project: str,
        payload: events.AgentPayload,
        *,
        owned: Owned,
        log: structlog.typing.FilteringBoundLogger,
    ) -> bool:
        if isinstance(payload, events.AgentLeft | events.TokenExpiring) and owned.current:
            if isinstance(payload, events.TokenExpiring):
                self.expiring.warn(payload.agent_id)
            log.info("agora_event_wakes", why=type(payload).__name__, message=payload.message)
            self._wake()
            return True
        if isinstance(payload, events.HistoryAfterStop | events.TurnsAfterSession):
            return await self._archive(payload, record=owned.record) is not None
        if isinstance(payload, events.AgentErrors):
            for error in payload.errors:
                self.errors.labels(project=project, module=error.module, code=str(error.code)).inc()
                log.warning("agent_error_reported", module=error.module, code=error.code)
            return bool(payload.errors)
        if isinstance(payload, events.AgentMetrics):
            for turn in payload.metrics:
                for stage in events.LATENCY_STAGES:
                    milliseconds = getattr(turn, stage)
                    if milliseconds is not None:
                        self.latency.labels(project=project, stage=stage).observe(
                            milliseconds / 1000
                        )
            return bool(payload.metrics)
        return False

    def _keep_last(self, payload: events.AgentErrors, *, owned: Owned, at: float) -> None:
        last = payload.errors[-1]
        self.last_errors.record(
            AgentError(
                key=owned.record.key,
                project=owned.record.project,
                agent_id=payload.agent_id,
                module=last.module,
                code=str(last.code),
                message=last.message,
                at=at,
            )
        )

    async def _archive(
        self, payload: events.HistoryAfterStop | events.TurnsAfterSession, *, record: AgentRecord
    ) -> Path | None:
        fleet = self._fleet()
        agent = None if fleet is None else fleet.agents.get(record.key)
        directory = (
            agent.archive_history if agent is not None else diff.recorded_archive_directory(record)
        )
        if directory is None or record.agent_id is None:
            return None
        save = (
            functools.partial(archive.save_turns, payload.turns)
            if isinstance(payload, events.TurnsAfterSession)
            else functools.partial(archive.save_after_stop, payload.contents)
        )
        return await save(
            directory=directory,
            key=record.key,
            generation=record.generation,
            agent_id=record.agent_id,
        )

    def _count(self, received: Received, *, outcome: str) -> None:
        self.events.labels(
            project=received.project, event=str(received.notice.event_type), outcome=outcome
        ).inc()
