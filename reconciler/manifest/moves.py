"""The ``Moved`` documents, checked against the fleet they rename into.

An entry renames an agent key (``project/name``) or a whole project. What makes sense is
narrow, so everything else is an error at the entry's file and line: both ends of one kind, two
different names; ``to`` declared by the manifests and ``from`` no longer declared (else it would
rename something still wanted); no ``from`` or ``to`` twice; and no chains (a ``to`` that moves
again), which should name the final key instead. Pure: the entries and the fleet in, the moves
and diagnostics out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.manifest import models
from reconciler.manifest.desired import DesiredAgent, Move
from reconciler.manifest.diagnostics import Diagnostic, Loc, SourceLocation
from reconciler.manifest.documents import Entry


@dataclass(frozen=True, slots=True)
class _Written:
    entry: Entry
    index: int
    move: models.MoveEntry

    def at(self, end: str) -> Loc:
        return ("spec", "moved", self.index, end)

    def where(self, end: str) -> str:
        return self.entry.where(self.at(end))

    def diagnostic(self, end: str, message: str) -> Diagnostic:
        return self.entry.diagnostic(self.at(end), message)


def collect(
    entries: Sequence[Entry],
    *,
    projects: Mapping[str, Entry],
    agents: Mapping[str, DesiredAgent],
    sink: list[Diagnostic],
) -> tuple[Move, ...]:
    """The valid moves of every ``Moved`` document, in the order written; problems to ``sink``."""
    written = [
        _Written(entry=entry, index=index, move=move)
        for entry in entries
        if isinstance(entry.model, models.Moved)
        for index, move in enumerate(entry.model.spec.moved)
    ]
    onward: dict[str, _Written] = {}
    for item in written:
        onward.setdefault(item.move.from_, item)
    froms: dict[str, _Written] = {}
    tos: dict[str, _Written] = {}
    kept: list[Move] = []
    for item in written:
        problem = _chained(item, onward=onward) or _problem(
            item, projects=projects, agents=agents, froms=froms, tos=tos
        )
        if problem is not None:
            sink.append(problem)
            continue
        froms[item.move.from_] = item
        tos[item.move.to] = item
        kept.append(Move(from_key=item.move.from_, to_key=item.move.to, source=_source(item)))
    return tuple(kept)


def _problem(
    item: _Written,
    *,
    projects: Mapping[str, Entry],
    agents: Mapping[str, DesiredAgent],
    froms: Mapping[str, _Written],
    tos: Mapping[str, _Written],
) -> Diagnostic | None:
    old, new = item.move.from_, item.move.to
    if _is_key(old) != _is_key(new):
        return item.diagnostic(
            "to",
            f"moves {'agent key' if _is_key(old) else 'project'} {old} to "
            f"{'agent key' if _is_key(new) else 'project'} {new}: move a key (project/name) "
            "to a key, or a project to a project",
        )
    what = "agent" if _is_key(new) else "project"
    declared = agents if _is_key(new) else projects
    if old == new:
        return item.diagnostic("to", f"moves {old} to itself")
    if new not in declared:
        return item.diagnostic("to", f"moves to {what} {new}, which no manifest declares")
    if old in declared:
        return item.diagnostic(
            "from",
            f"{what} {old} is still declared: a move's from is the old name, which the "
            "manifests no longer have",
        )
    if old in froms:
        return item.diagnostic("from", f"{old} is already moved at {froms[old].where('from')}")
    if new in tos:
        return item.diagnostic(
            "to", f"{tos[new].move.from_} already moves to {new} at {tos[new].where('to')}"
        )
    return None


def _chained(item: _Written, *, onward: Mapping[str, _Written]) -> Diagnostic | None:
    """A ``to`` that another entry moves on: the state would have to follow two renames."""
    then = onward.get(item.move.to)
    if then is None or then is item:
        return None
    return item.diagnostic(
        "to",
        f"{item.move.to} moves again, to {then.move.to} at {then.where('to')}: "
        f"move {item.move.from_} straight to the final name",
    )


def _is_key(name: str) -> bool:
    return "/" in name


def _source(item: _Written) -> SourceLocation:
    line, column = item.entry.doc.position(item.at("from"))
    return SourceLocation(file=item.entry.doc.path, line=line, column=column)
