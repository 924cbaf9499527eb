"""``reconciler state migrate --to TARGET``: move the whole state to another backend.

Typically from the embedded SQLite file to a shared PostgreSQL state (or back, or between two
schemas). Both states are held the way ``apply`` holds one (the file's lock, the lease), so no
reconciler acts on either while the copy is made. Everything is copied: records, intents in
flight, the generations every key used, the lineage and serial (a plan saved against the source
still applies to the copy) and the fingerprint key (secrets compare as before). A target that
already holds anything is refused unless ``force``, since the copy replaces it whole. The copy is
read back and compared with the source before the command says it is done; the source is left
as it was, so going back is pointing ``--state`` at it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import StateError
from reconciler.state import (
    DEFAULT_STATE_PATH,
    PostgresLocation,
    StateSnapshot,
    StateTarget,
    open_state,
    parse_location,
)


@dataclass(frozen=True)
class Migrated:
    """What was copied, from where to where (both as shown: passwords masked)."""

    source: str
    target: str
    records: int
    intents: int
    generations: int
    lineage: str
    serial: int
    replaced: bool

    def describe(self) -> str:
        over = " (replacing what it held)" if self.replaced else ""
        return (
            f"Copied the state {self.source} to {self.target}{over}: {self.records} records, "
            f"{self.intents} intents in flight, {self.generations} key generations, lineage "
            f"{self.lineage} at serial {self.serial}; the copy reads back the same.\n"
            f"The source is unchanged. Point --state (or RECONCILER_STATE) at {self.target} "
            "wherever the reconciler runs.\n"
        )


def migrate(source: StateTarget | None, target: StateTarget, *, force: bool) -> Migrated:
    """Copy the state ``source`` names (default: the SQLite file) to ``target``, under both
    locks; ``StateError`` when the target is the source, holds something (without ``force``)
    or does not read back as the source."""
    origin = parse_location(source or DEFAULT_STATE_PATH)
    destination = parse_location(target)
    if _same(origin, destination):
        raise StateError(f"state {destination} is the state being migrated; name another --to")
    with open_state(origin) as held_source, open_state(destination) as held_target:
        copied = held_source.snapshot()
        secret_key = held_source.secret_key()
        there = held_target.snapshot()
        replaced = not _empty(there)
        if replaced and not force:
            raise StateError(
                f"state {destination} already holds {_counts(there)} (lineage {there.lineage}, "
                f"serial {there.serial}); the copy would replace it: pass --force to do that"
            )
        held_target.restore(copied, secret_key=secret_key)
        _verify(held_target.snapshot(), copied, destination=str(destination))
        if held_target.secret_key() != secret_key:
            raise StateError(f"state {destination}: the fingerprint key did not copy")
    return Migrated(
        source=str(origin),
        target=str(destination),
        records=len(copied.records),
        intents=len(copied.intents),
        generations=len(copied.generations),
        lineage=copied.lineage,
        serial=copied.serial,
        replaced=replaced,
    )


def _same(one: Path | PostgresLocation, other: Path | PostgresLocation) -> bool:
    if isinstance(one, Path) and isinstance(other, Path):
        return one.resolve() == other.resolve()
    if isinstance(one, PostgresLocation) and isinstance(other, PostgresLocation):
        return (one.conninfo, one.schema) == (other.conninfo, other.schema)
    return False


def _empty(snapshot: StateSnapshot) -> bool:
    return not (snapshot.records or snapshot.intents or snapshot.generations)


def _counts(snapshot: StateSnapshot) -> str:
    return (
        f"{len(snapshot.records)} records, {len(snapshot.intents)} intents and "
        f"{len(snapshot.generations)} key generations"
    )


def _verify(written: StateSnapshot, copied: StateSnapshot, *, destination: str) -> None:
    """The copy as read back must be the source: same counts, same rows, same identity."""
    same = (
        written.lineage == copied.lineage
        and written.serial == copied.serial
        and dict(written.records) == dict(copied.records)
        and written.intents == copied.intents
        and dict(written.generations) == dict(copied.generations)
    )
    if not same:
        raise StateError(
            f"state {destination} does not read back as the source: it holds "
            f"{_counts(written)} at serial {written.serial}, the source {_counts(copied)} at "
            f"serial {copied.serial}; point nothing at it and migrate again"
        )
