"""Which desired agents run in this pass (their schedule's window is open and the quota holds
them), what becomes of the others, and what the outcome costs.

``make_plan`` asks ``select`` first: an agent outside its windows, or waiting for quota, is not
desired in this pass, so its owned agent gets a scheduled stop (a leave that is not a delete,
which the mass-delete rule does not count) and an agent the state does not own is left alone.
``costs`` then prices the plan. Pure: ``now`` is passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.manifest.desired import DesiredAgent, DesiredFleet
from reconciler.observe.fleet import ObservedFleet
from reconciler.plan import cost, priority, schedules
from reconciler.plan.model import Action, Change, Plan
from reconciler.recurrence import Recurrence
from reconciler.state import StateSnapshot

_JOINS = (Action.CREATE, Action.RECREATE)
_LEAVES = (Action.DELETE, Action.STOP)


@dataclass(frozen=True)
class Selection:
    """The keys that run in this pass, why each other desired key does not, the agents waiting
    for quota and where each scheduled agent stands."""

    run: frozenset[str]
    stops: Mapping[str, str]
    waiting: tuple[priority.Waiting, ...]
    windows: tuple[schedules.Window, ...]


def select(
    desired: DesiredFleet, observed: ObservedFleet, state: StateSnapshot, *, now: float
) -> Selection:
    """Pick the desired agents that run at ``now``, project by project."""
    running = _running_keys(observed, state)
    # An AgentSet's members share one schedule: where it stands is worked out once.
    known: dict[tuple[Recurrence, ...], tuple[bool, float | None, float | None]] = {}
    windows = tuple(
        schedules.Window(a.key, a.project, *_memo(known, a.schedule, now))
        for a in desired.agents.values()
        if a.schedule
    )
    closed = {w.key: w for w in windows if not w.open}
    stops: dict[str, str] = {
        key: f"outside its schedule until {_when(w.next_start)}" for key, w in closed.items()
    }
    run: set[str] = set()
    waiting: list[priority.Waiting] = []
    by_project = _by_project(desired)
    owned = {r.agent_id for r in state.records.values() if r.agent_id is not None}
    for name, spec in desired.projects.items():
        agents = [a for a in by_project.get(name, ()) if a.key not in closed]
        choice = priority.choose(
            agents,
            capacity=spec.max_concurrent_agents - _unowned_live(observed, owned, name),
            running=running,
            limit=spec.max_concurrent_agents,
        )
        run |= choice.running
        waiting.extend(choice.waiting)
        stops.update({w.key: w.reason for w in choice.waiting})
    return Selection(frozenset(run), stops, tuple(waiting), windows)


def completed(
    made: Plan,
    chosen: Selection,
    desired: DesiredFleet,
    observed: ObservedFleet,
    state: StateSnapshot,
    *,
    now: float,
) -> Plan:
    """``made`` with where scheduled agents stand, who waits for quota and what it costs."""
    priced = costs(
        desired,
        observed,
        state,
        changes=made.changes,
        owned_by_project=made.owned_by_project,
        now=now,
    )
    return dataclasses.replace(made, windows=chosen.windows, waiting=chosen.waiting, costs=priced)


def costs(
    desired: DesiredFleet,
    observed: ObservedFleet,
    state: StateSnapshot,
    *,
    changes: Sequence[Change],
    owned_by_project: Mapping[str, int],
    now: float,
) -> tuple[cost.Cost, ...]:
    """Each project's running agents and estimated cost, before and after ``changes``."""
    found = []
    by_project = _by_project(desired)
    owned = {r.agent_id for r in state.records.values() if r.agent_id is not None}
    for name, spec in sorted(desired.projects.items()):
        mine = [c for c in changes if c.project == name]
        agents = by_project.get(name, [])
        known = [a for a in agents if _joined_before(a, state)]
        deleted = sum(1 for c in mine if c.action is Action.DELETE and c.leaves_live)
        capacity = spec.max_concurrent_agents - _unowned_live(observed, owned, name)
        after = cost.project([a.schedule for a in agents], capacity=capacity, now=now)
        before = cost.project(
            [a.schedule for a in known] + [()] * deleted, capacity=capacity, now=now
        )
        running = owned_by_project.get(name, 0)
        joins = sum(1 for c in mine if c.action in _JOINS)
        joins += sum(1 for c in mine if c.action is Action.ADOPT and not c.recovered)
        leaves = sum(1 for c in mine if c.action in _LEAVES and c.leaves_live)
        found.append(
            cost.Cost(
                project=name,
                currency=spec.currency,
                price_per_minute=spec.price_per_minute,
                running_before=running,
                running_after=running - leaves + joins,
                month_before=before.minutes * spec.price_per_minute,
                month_after=after.minutes * spec.price_per_minute,
                peak=after.peak,
                peak_at=after.peak_at,
                limit=spec.max_concurrent_agents,
            )
        )
    return tuple(found)


def _joined_before(agent: DesiredAgent, state: StateSnapshot) -> bool:
    """Whether the key ever joined (it is part of the fleet "before" the plan)."""
    return agent.key in state.records or state.last_generation(agent.key) > 0


def _running_keys(observed: ObservedFleet, state: StateSnapshot) -> frozenset[str]:
    live = {a for seen in observed.projects.values() for a in seen.live}
    return frozenset(k for k, r in state.records.items() if r.agent_id in live)


def _unowned_live(observed: ObservedFleet, owned: set[str], project: str) -> int:
    """Live agents of ``project`` that no record owns: they take quota the plan cannot free."""
    seen = observed.projects.get(project)
    if seen is None:
        return 0
    return sum(1 for agent_id in seen.live if agent_id not in owned)


def _by_project(desired: DesiredFleet) -> dict[str, list[DesiredAgent]]:
    found: dict[str, list[DesiredAgent]] = {}
    for agent in desired.agents.values():
        found.setdefault(agent.project, []).append(agent)
    return found


def _memo(
    known: dict[tuple[Recurrence, ...], tuple[bool, float | None, float | None]],
    schedule: tuple[Recurrence, ...],
    now: float,
) -> tuple[bool, float | None, float | None]:
    if schedule not in known:
        known[schedule] = schedules.standing(schedule, now=now)
    return known[schedule]


def _when(at: float | None) -> str:
    if at is None:
        return "its next window"
    return schedules.instant(at).strftime("%Y-%m-%d %H:%M:%S UTC")
