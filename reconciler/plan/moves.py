"""Renames the manifests declare (``Moved``), followed in the state instead of leave + join.

``follow`` gives the state as if every move were done, and a MOVE change for each record that
changes key, so the rest of the plan is made against the renamed records: a renamed agent whose
spec is unchanged has nothing else to do, one whose spec changed gets its update or replace
under its new key. An agent move re-keys one record; a project move re-keys every record of the
old project (``prod/x`` becomes ``production/x``). A move is skipped when its ``from`` has no
record (done already, or never applied) or its new key already has one (something took the
name; the old record is then planned as removed, as without a move). ``old_keys`` tells
recovery which earlier keys a live agent's name may still carry. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from reconciler.manifest.desired import DesiredFleet, Move
from reconciler.plan.model import Action, Change
from reconciler.state import AgentRecord, StateSnapshot


def follow(desired: DesiredFleet, state: StateSnapshot) -> tuple[StateSnapshot, tuple[Change, ...]]:
    """The state with the declared moves done, and the changes that do them, by new key."""
    if not desired.moves:
        return state, ()
    records = dict(state.records)
    changes: list[Change] = []
    for one in (m for m in desired.moves if not m.of_project):
        _move(records, changes, old=one.from_key, new=one.to_key, move=one)
    projects = {m.from_key: m for m in desired.moves if m.of_project}
    for key, record in sorted(state.records.items()):
        whole = projects.get(record.project)
        if whole is not None and records.get(key) is record:
            name = key.split("/", 1)[1]
            _move(records, changes, old=key, new=f"{whole.to_key}/{name}", move=whole)
    moved = dataclasses.replace(state, records=MappingProxyType(dict(sorted(records.items()))))
    return moved, tuple(sorted(changes, key=lambda change: change.key))


def old_keys(desired: DesiredFleet) -> Mapping[str, tuple[str, ...]]:
    """Each desired key's earlier keys by the declared moves (its agent's, then its project's)."""
    found: dict[str, list[str]] = {}
    for move in desired.moves:
        if not move.of_project:
            found.setdefault(move.to_key, []).append(move.from_key)
            continue
        for key, agent in desired.agents.items():
            if agent.project == move.to_key:
                found.setdefault(key, []).append(f"{move.from_key}/{agent.name}")
    return {key: tuple(olds) for key, olds in found.items()}


def _move(
    records: dict[str, AgentRecord],
    changes: list[Change],
    *,
    old: str,
    new: str,
    move: Move,
) -> None:
    record = records.get(old)
    if record is None or new in records:
        return
    project = new.split("/", 1)[0]
    records[new] = dataclasses.replace(record, key=new, project=project)
    del records[old]
    changes.append(
        Change(
            action=Action.MOVE,
            key=new,
            project=project,
            reason=f"from {old}, declared at {move.source}; the agent stays",
            remote_name=record.remote_name,
            generation=record.generation,
            agent_id=record.agent_id,
            moved_from=old,
        )
    )
