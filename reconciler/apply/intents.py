"""Crash-safe bookkeeping of joins and leaves: an intent before each call, its outcome after.

Design §4. Before a join or a leave, an ``Intent`` carrying everything needed to finish the
bookkeeping is committed; the answer replaces it in one transaction (``resolve_intent``), so a
kill at any moment leaves either the intent or its outcome, never neither. The intents a killed
pass left behind are resolved by ``leftovers``. ``settle_join`` is the rule for a join settled by
name, shared by ``leftovers`` and by ``joins`` for a live join whose answer was lost.

A record whose ``agent_id`` is None is a *slot*: the name the key's next join must use. The
planner plans a join under that name (adopting the agent instead when one carries it), so a name
whose outcome is unknown is retried as it is, and a name spent by a definite failure is never
reused: its slot names the next generation.

This module owns the meaning of intents and slots. It never joins: a leftover join is only looked
up, and the only agents it asks to leave are ones its own intents name.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from reconciler import naming
from reconciler.agora import wire
from reconciler.apply.commits import GroupCommitter
from reconciler.apply.ratelimit import AgentApi
from reconciler.errors import ConflictError, NotFoundError, StateError
from reconciler.state import AgentRecord, Intent, IntentAction, StateStore
from reconciler.state.store import Mutation

HINT_UNCONFIRMED = "join-unconfirmed"
HINT_SPENT = "join-failed"
HINT_LEFT = "left"
# An agent carrying the name of our own join, for a key whose record moved on to a newer
# generation, is a duplicate: left, or it would run (and be billed) unowned for good.
SUPERSEDED = "found, but the key has a newer generation: this duplicate was asked to leave"


class Ledger:
    """The state store with an in-memory copy of its records and intents.

    Apply holds the state's lock and is its only writer, so the copy stays exact, and no step
    has to read the whole state back after every commit. Every write returns once it is durable;
    the writes of concurrent steps share commits (``commits.GroupCommitter``).
    """

    def __init__(self, store: StateStore) -> None:
        self._committer = GroupCommitter(store)
        snapshot = store.snapshot()
        self._records = dict(snapshot.records)
        self._intents = {intent.id: intent for intent in snapshot.intents}

    def record(self, key: str) -> AgentRecord | None:
        return self._records.get(key)

    def records(self) -> Mapping[str, AgentRecord]:
        """Every record as the state holds it now, without reading the state again."""
        return MappingProxyType(dict(self._records))

    def intents(self) -> tuple[Intent, ...]:
        return tuple(self._intents.values())

    async def begin(self, intent: Intent) -> None:
        """Commit ``intent`` before the call it announces."""
        await self._committer.commit(Mutation(add_intent=intent))
        self._intents[intent.id] = intent

    async def settle(
        self, intent_id: str, *, put: AgentRecord | None = None, delete_key: str | None = None
    ) -> None:
        """Replace a pending intent by its outcome, in one transaction."""
        if delete_key is not None and delete_key not in self._records:
            delete_key = None
        mutation = Mutation(
            remove_intent=intent_id, put=() if put is None else (put,), delete=delete_key
        )
        await self._committer.commit(mutation)
        del self._intents[intent_id]
        if put is not None:
            self._records[put.key] = put
        if delete_key is not None:
            del self._records[delete_key]

    async def put(self, record: AgentRecord) -> None:
        await self._committer.commit(Mutation(put=(record,)))
        self._records[record.key] = record

    async def move(self, old: str, record: AgentRecord) -> None:
        """Re-key ``old``'s record as ``record`` (its new key), in one transaction."""
        await self._committer.commit(Mutation(put=(record,), delete=old))
        del self._records[old]
        self._records[record.key] = record

    async def delete(self, key: str) -> None:
        if key in self._records:
            await self._committer.commit(Mutation(delete=key))
            del self._records[key]

    async def drain(self) -> None:
        """Wait until the writes already handed over are on disk (an aborted apply does, so that
        the state is not closed under a commit in flight)."""
        await self._committer.drain()


@dataclass(frozen=True)
class JoinTicket:
    """Everything a join's outcome needs in the state, committed as its intent's payload."""

    key: str
    project: str
    prefix: str
    remote_name: str
    generation: int
    channel: str
    agent_rtc_uid: str
    applied_properties: Mapping[str, Any]
    spec_hash: str
    token_expires_at: float | None
    git_revision: str | None = None

    def intent(self, *, now: float) -> Intent:
        payload = {
            "prefix": self.prefix,
            "generation": self.generation,
            "agent_rtc_uid": self.agent_rtc_uid,
            "applied_properties": dict(self.applied_properties),
            "spec_hash": self.spec_hash,
            "token_expires_at": self.token_expires_at,
            "git_revision": self.git_revision,
        }
        return Intent(
            id=uuid.uuid4().hex,
            key=self.key,
            project=self.project,
            action=IntentAction.JOIN,
            remote_name=self.remote_name,
            agent_id=None,
            channel=self.channel,
            created_at=now,
            payload=payload,
            generation=self.generation,
        )

    @classmethod
    def from_intent(cls, intent: Intent) -> JoinTicket:
        payload = intent.payload
        try:
            return cls(
                key=intent.key,
                project=intent.project,
                prefix=str(payload["prefix"]),
                remote_name=intent.remote_name,
                generation=int(payload["generation"]),
                channel=intent.channel,
                agent_rtc_uid=str(payload["agent_rtc_uid"]),
                applied_properties=dict(payload["applied_properties"]),
                spec_hash=str(payload["spec_hash"]),
                token_expires_at=_float_or_none(payload.get("token_expires_at")),
                git_revision=payload.get("git_revision"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"join intent {intent.id!r} has a malformed payload: {exc}") from exc

    def joined(self, *, agent_id: str, status: str | None, now: float) -> AgentRecord:
        """The record of the agent this join started (or that already carried its name)."""
        return self._record(
            agent_id=agent_id,
            remote_name=self.remote_name,
            generation=self.generation,
            token_expires_at=self.token_expires_at,
            now=now,
            hint=status,
        )

    def unconfirmed(self, *, now: float) -> AgentRecord:
        """A slot keeping this name: its outcome is unknown, so the next join retries it."""
        return self._record(
            agent_id=None,
            remote_name=self.remote_name,
            generation=self.generation,
            token_expires_at=None,
            now=now,
            hint=HINT_UNCONFIRMED,
        )

    def spent(self, *, now: float) -> AgentRecord:
        """A slot naming the next generation: this join surely failed and its name is used up."""
        generation = self.generation + 1
        return self._record(
            agent_id=None,
            remote_name=naming.next_generation(
                self.remote_name, prefix=self.prefix, key=self.key, generation=generation
            ),
            generation=generation,
            token_expires_at=None,
            now=now,
            hint=HINT_SPENT,
        )

    def _record(
        self,
        *,
        agent_id: str | None,
        remote_name: str,
        generation: int,
        token_expires_at: float | None,
        now: float,
        hint: str | None,
    ) -> AgentRecord:
        return AgentRecord(
            key=self.key,
            project=self.project,
            remote_name=remote_name,
            generation=generation,
            agent_id=agent_id,
            channel=self.channel,
            agent_rtc_uid=self.agent_rtc_uid,
            applied_properties=self.applied_properties,
            spec_hash=self.spec_hash,
            token_expires_at=token_expires_at,
            created_at=now,
            updated_at=now,
            git_revision=self.git_revision,
            status_hint=hint,
        )


@dataclass(frozen=True)
class LeaveTicket:
    """A leave, and what the key becomes once its agent is gone.

    A delete forgets the key; a replace (``then_name`` set) turns its record into the slot of
    the generation that joins next.
    """

    key: str
    project: str
    agent_id: str
    remote_name: str
    channel: str
    then_name: str | None = None
    then_generation: int | None = None

    def intent(self, *, now: float) -> Intent:
        return Intent(
            id=uuid.uuid4().hex,
            key=self.key,
            project=self.project,
            action=IntentAction.LEAVE,
            remote_name=self.remote_name,
            agent_id=self.agent_id,
            channel=self.channel,
            created_at=now,
            payload={"then_name": self.then_name, "then_generation": self.then_generation},
        )

    @classmethod
    def from_intent(cls, intent: Intent) -> LeaveTicket:
        if intent.agent_id is None:
            raise StateError(f"leave intent {intent.id!r} names no agent")
        then_name = intent.payload.get("then_name")
        then_generation = intent.payload.get("then_generation")
        return cls(
            key=intent.key,
            project=intent.project,
            agent_id=intent.agent_id,
            remote_name=intent.remote_name,
            channel=intent.channel,
            then_name=then_name if isinstance(then_name, str) else None,
            then_generation=then_generation if isinstance(then_generation, int) else None,
        )

    async def settle_gone(self, ledger: Ledger, intent_id: str, *, now: float) -> None:
        """Record that the agent is gone: forget the key, or leave the slot of its next join."""
        record = ledger.record(self.key)
        if record is None or record.agent_id not in (None, self.agent_id):
            await ledger.settle(intent_id)
        elif self.then_name is None or self.then_generation is None:
            await ledger.settle(intent_id, delete_key=self.key)
        else:
            slot = dataclasses.replace(
                record,
                agent_id=None,
                remote_name=self.then_name,
                generation=self.then_generation,
                token_expires_at=None,
                updated_at=now,
                status_hint=HINT_LEFT,
            )
            await ledger.settle(intent_id, put=slot)


def may_write(record: AgentRecord | None, *, generation: int) -> bool:
    """Whether a join of ``generation`` may set the key's record: never over a newer generation."""
    return record is None or record.generation <= generation


class Settled(enum.Enum):
    """How a join whose outcome was looked up by name got settled."""

    FOUND = "found"  # an agent carries the name: recorded for the key
    SUPERSEDED = "superseded"  # one does, but the key moved on: that duplicate was asked to leave
    KEPT = "kept"  # none does: the name is kept in a slot, so the next join retries it


async def settle_join(
    ledger: Ledger,
    api: AgentApi,
    intent_id: str,
    ticket: JoinTicket,
    found: wire.QueryResponse | None,
    *,
    now: float,
) -> Settled:
    """Settle a join's intent by what carries its name (``found``, None when nothing does).

    The one rule for every join whose answer is unknown, whether a killed pass left it or a live
    join lost it: a record is written only over no newer generation.
    """
    writable = may_write(ledger.record(ticket.key), generation=ticket.generation)
    if found is None:
        await ledger.settle(intent_id, put=ticket.unconfirmed(now=now) if writable else None)
        return Settled.KEPT
    if not writable:
        await leave_quietly(api, found.agent_id)
        await ledger.settle(intent_id)
        return Settled.SUPERSEDED
    await ledger.settle(
        intent_id, put=ticket.joined(agent_id=found.agent_id, status=found.status, now=now)
    )
    return Settled.FOUND


async def leave_quietly(api: AgentApi, agent_id: str) -> None:
    """Ask an agent to leave; 404 (already gone) and 409 (already stopping) both count as asked."""
    try:
        await api.leave(agent_id)
    except (NotFoundError, ConflictError):
        return


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
