"""What the reconciler remembers between passes, and the interface every state backend offers.

The API cannot tell us which manifest entry owns which agent (design §1), so the state holds one
``AgentRecord`` per owned agent, the ``Intent`` of every join or leave in flight, and a lineage and
serial that let a saved plan notice that the state moved under it. This module defines those
values and the ``StateStore`` contract; it must not know how a backend stores them, and it never
holds a secret value: properties arrive with secrets already replaced by fingerprints.
"""

from __future__ import annotations

import types
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Any, Self

from reconciler.errors import StateError

JsonObject = Mapping[str, Any]


def _check_key(*, key: str, project: str) -> None:
    """Keys are ``project/name``; a record filed under another project would be adopted by it."""
    if not project or "/" in project:
        raise ValueError(f"project {project!r} must be non-empty and contain no '/'")
    if not key.startswith(f"{project}/") or key == f"{project}/":
        raise ValueError(f"key {key!r} must be '{project}/<name>'")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRecord:
    """One owned agent as it was last applied, so the next plan can diff against it.

    ``applied_properties`` is JSON with every secret already replaced by its keyed fingerprint;
    the store copies it on the way in and out, so nobody can change the state by mutating it.
    """

    key: str
    project: str
    remote_name: str
    generation: int
    agent_id: str | None
    channel: str
    agent_rtc_uid: str
    applied_properties: JsonObject
    spec_hash: str
    token_expires_at: float | None
    created_at: float
    updated_at: float
    git_revision: str | None = None
    status_hint: str | None = None

    def __post_init__(self) -> None:
        _check_key(key=self.key, project=self.project)
        if self.generation < 0:
            raise ValueError(f"generation of {self.key!r} must not be negative")


class IntentAction(StrEnum):
    """The two calls whose answer can be lost and must be found out on the next pass."""

    JOIN = "join"
    LEAVE = "leave"


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """A join or leave committed before the call, so a crash leaves a trail to resolve (design §4).

    A pending join is looked up by ``remote_name``, a pending leave by ``agent_id``; ``payload``
    carries whatever else the resolver needs, under the same no-secrets rule as the records.
    """

    id: str
    key: str
    project: str
    action: IntentAction
    remote_name: str
    agent_id: str | None
    channel: str
    created_at: float
    payload: JsonObject = field(default_factory=dict)
    generation: int | None = None

    def __post_init__(self) -> None:
        _check_key(key=self.key, project=self.project)
        if not self.id:
            raise ValueError("intent id must be non-empty")
        if self.generation is not None and self.generation < 0:
            raise ValueError(f"generation of {self.key!r} must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class StateSnapshot:
    """The whole state at one serial: what planning reads, and what a saved plan pins.

    ``lineage`` names this state for its whole life (a different file is a different lineage);
    ``serial`` counts committed transactions. Records are in key order, intents in the order they
    were recorded, so equal states give equal snapshots.
    """

    lineage: str
    serial: int
    records: Mapping[str, AgentRecord]
    intents: tuple[Intent, ...]
    generations: Mapping[str, int] = field(default_factory=dict)
    """The highest generation each key ever used, in a record or a join intent. It outlives the
    record: names are single-use (API notes §9), so a key deleted and added again must go on from
    here rather than start over at 1."""

    def last_generation(self, key: str) -> int:
        """The highest generation ``key`` used so far; 0 when it never joined."""
        return self.generations.get(key, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutation:
    """One transaction's worth of change, which a backend applies whole or not at all.

    The public methods of ``StateStore`` each build one of these, so the meaning of every
    operation is written once and backends only make it atomic.
    """

    add_intent: Intent | None = None
    remove_intent: str | None = None
    put: tuple[AgentRecord, ...] = ()
    delete: str | None = None


def unknown_intent(intent_id: str) -> StateError:
    """Resolving an intent twice means two workers acted on one state; stop rather than guess."""
    return StateError(f"no pending intent {intent_id!r} in state")


def unknown_record(key: str) -> StateError:
    """Deleting a record that is not there means the caller's view of the state is stale."""
    return StateError(f"no record {key!r} in state")


def duplicate_intent(intent_id: str) -> StateError:
    """Reusing an intent id would make its resolution ambiguous."""
    return StateError(f"intent {intent_id!r} is already pending in state")


def closed_store() -> StateError:
    """Using a closed store would act without holding the lock."""
    return StateError("state store is closed")


def used_generations(mutation: Mutation) -> dict[str, int]:
    """The generation each key of ``mutation`` puts to use, for the high-water marks."""
    used: dict[str, int] = {}
    named = [(record.key, record.generation) for record in mutation.put]
    if mutation.add_intent is not None and mutation.add_intent.generation is not None:
        named.append((mutation.add_intent.key, mutation.add_intent.generation))
    for key, generation in named:
        used[key] = max(generation, used.get(key, 0))
    return used


def empty_snapshot() -> StateSnapshot:
    """What a state that does not exist yet reads as: no lineage, nothing owned."""
    return StateSnapshot(lineage="", serial=0, records=sorted_records(()), intents=())


def sorted_records(records: Iterable[AgentRecord]) -> Mapping[str, AgentRecord]:
    """A read-only key-ordered view, so snapshots of equal states compare and iterate alike."""
    ordered = sorted(records, key=attrgetter("key"))
    return types.MappingProxyType({record.key: record for record in ordered})


class StateStore(ABC):
    """A state backend: an exclusive, crash-safe home for records, intents, lineage and serial.

    Every mutating call is one transaction that also bumps ``serial`` by exactly one, so the
    serial counts what was committed. Methods are synchronous: the embedded store is local and
    fast, and async callers call it directly.
    """

    @abstractmethod
    def snapshot(self) -> StateSnapshot:
        """Read the whole state consistently, as of one serial."""

    def version(self) -> tuple[str, int]:
        """Lineage and serial as of the last commit: whether a kept snapshot still holds.

        This default reads the whole state; a backend that can read one row overrides it.
        """
        snapshot = self.snapshot()
        return snapshot.lineage, snapshot.serial

    @abstractmethod
    def secret_key(self) -> bytes:
        """The per-state key for HMAC fingerprints of secrets; never print or log it."""

    @abstractmethod
    def close(self) -> None:
        """Release the state (and its lock); further calls raise ``StateError``."""

    def check_held(self) -> None:
        """Raise ``StateLeaseLostError`` if another reconciler took this state over.

        Writes are fenced anyway; callers ask before a call to Agora that no write precedes,
        so a deposed holder stops before acting. A store under an OS lock cannot be taken over
        while it lives, so by default this does nothing.
        """
        return

    @abstractmethod
    def restore(self, snapshot: StateSnapshot, *, secret_key: bytes) -> None:
        """Make this state a copy of ``snapshot`` and its fingerprint key, in one transaction.

        Lineage and serial included, so a plan saved against the original still applies here;
        whatever this state held before is gone. Only ``state migrate`` calls it.
        """

    @abstractmethod
    def _commit(self, mutation: Mutation) -> None:
        """Apply ``mutation`` and bump the serial in one transaction, or change nothing."""

    def commit_group(self, mutations: Sequence[Mutation]) -> list[StateError | None]:
        """Apply each of ``mutations``, in order, whole or not at all; what each one failed with.

        One mutation failing (an unknown intent, say) does not stop the others, and the serial
        steps once per mutation that landed, as if each were committed alone. Writers with many
        independent changes at once (apply's concurrent joins) hand them over together, so that a
        durable backend pays one flush to disk for all of them. This default commits them one
        transaction each; a backend that can do better overrides it.
        """
        failures: list[StateError | None] = []
        for mutation in mutations:
            try:
                self._commit(mutation)
            except StateError as exc:
                failures.append(exc)
            else:
                failures.append(None)
        return failures

    def record_intent(self, intent: Intent) -> None:
        """Commit an intent before the call it announces."""
        self._commit(Mutation(add_intent=intent))

    def resolve_intent(
        self,
        intent_id: str,
        *,
        put: AgentRecord | None = None,
        delete_key: str | None = None,
    ) -> None:
        """Replace a pending intent by its outcome atomically, so a crash keeps one or the other."""
        if put is not None and delete_key is not None:
            raise ValueError("an intent resolves to a put or a delete, not both")
        self._commit(
            Mutation(
                remove_intent=intent_id,
                put=() if put is None else (put,),
                delete=delete_key,
            )
        )

    def put_record(self, record: AgentRecord) -> None:
        """Insert or replace the record under ``record.key``."""
        self.put_records((record,))

    def put_records(self, records: Iterable[AgentRecord]) -> None:
        """Insert or replace many records in one transaction (one serial step)."""
        self._commit(Mutation(put=tuple(records)))

    def delete_record(self, key: str) -> None:
        """Forget the record under ``key``; it must exist."""
        self._commit(Mutation(delete=key))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
