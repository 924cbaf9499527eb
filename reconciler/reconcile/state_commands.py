"""``reconciler state list|show|rm|recover`` and ``reconciler import``: the state, by hand.

Like ``terraform state``: ``list`` and ``show`` read the last commit without the lock (they work
while a daemon runs); ``rm`` forgets a record without making its agent leave; ``recover`` runs
one pass that applies only the adoptions recovery by name plans (``plan.recovery``), and says
which recovered agents it left for ``apply`` to replace; ``import`` makes a running agent
someone started by hand the agent of a manifest entry. Those three hold the state's lock, as
``apply`` does, and act only through ``apply_pass.run_pass``, so every write keeps the crash-
safety rules of apply. It decides nothing about the fleet beyond what the planner says, except
``import``, which only checks the operator's claim and builds the one change it makes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler import naming, plan
from reconciler.agora.client import Transport
from reconciler.apply.report import ApplyReport, Outcome
from reconciler.apply.steps import ApplySettings
from reconciler.clock import Clock, SystemClock
from reconciler.errors import ReconcilerError, StateError
from reconciler.manifest import load
from reconciler.manifest.desired import DesiredFleet
from reconciler.plan import Action, Change, diff, recovery
from reconciler.plan.renewal import mints_token
from reconciler.reconcile import apply_pass, connect
from reconciler.state import (
    DEFAULT_STATE_PATH,
    AgentRecord,
    StateSnapshot,
    StateTarget,
    open_state,
    read_state,
)

_Chooser = Callable[[apply_pass.Made, StateSnapshot], plan.Plan]


class ImportRefusedError(ReconcilerError):
    """``import`` cannot make this agent the entry's: the message says what stands in the way."""


@dataclass(frozen=True)
class Where:
    """The manifests, state, API and environment a command that acts works on."""

    fleet: Path
    state: StateTarget | None
    api_url: str | None
    environ: Mapping[str, str]
    transport: Transport | None = None
    clock: Clock | None = None


@dataclass(frozen=True)
class Recovered:
    """What ``recover`` applied, and the recovered agents it left for ``apply`` to replace."""

    report: ApplyReport
    left_to_replace: tuple[Change, ...]


def load_or_raise(path: Path) -> DesiredFleet:
    """The desired fleet, or the first problem of the manifests as one error."""
    loaded = load.load_fleet(path)
    if loaded.fleet is not None:
        return loaded.fleet
    first, *rest = loaded.errors
    if rest:
        more = f" (and {len(rest)} more; see `reconciler validate {path}`)"
        first = dataclasses.replace(first, message=first.message + more)
    raise first.to_error()


def snapshot(state: StateTarget | None) -> StateSnapshot:
    """The state as of its last commit, read without the lock."""
    found, _ = read_state(state)
    return found


def record(state: StateTarget | None, key: str) -> AgentRecord:
    """The record under ``key``, or a ``StateError`` naming the keys there are."""
    current = snapshot(state)
    found = current.records.get(key)
    if found is None:
        raise _no_record(key, state, current)
    return found


def forget(state: StateTarget | None, key: str) -> AgentRecord:
    """Remove the record under ``key`` without touching its agent, and return what it held.

    A join or leave in flight for the key is refused: resolving it later would write the record
    back, or leave an agent nobody remembers asking to leave.
    """
    with open_state(state or DEFAULT_STATE_PATH) as store:
        current = store.snapshot()
        found = current.records.get(key)
        if found is None:
            raise _no_record(key, state, current)
        if any(intent.key == key for intent in current.intents):
            raise StateError(
                f"{key} has a join or leave in flight; run `reconciler apply` so that it "
                "settles, then remove it"
            )
        store.delete_record(key)
        return found


async def recover(where: Where) -> Recovered:
    """Adopt every live agent recovery by name finds with the manifests' digest, and only that."""
    left: list[Change] = []

    def choose(made: apply_pass.Made, _: StateSnapshot) -> plan.Plan:
        recovered = [c for c in made.plan.changes if c.recovered]
        left.extend(c for c in recovered if c.action is not Action.ADOPT)
        adopts = tuple(c for c in recovered if c.action is Action.ADOPT)
        return dataclasses.replace(made.plan, changes=adopts)

    report = await _pass(where, load_or_raise(where.fleet), choose)
    return Recovered(report=report, left_to_replace=tuple(left))


async def import_agent(where: Where, key: str, agent_id: str) -> ApplyReport:
    """Make the live agent ``agent_id`` the agent of manifest entry ``key``.

    Agora does not say what an agent was given, so the operator's word stands for the spec
    ``update`` cannot change; the in-place fields and a minted token are sent at once, as for an
    agent recovered by name. Refused when the entry is not in the manifests, when it already
    owns a live agent, or when the agent is not live or another entry owns it.
    """
    fleet = load_or_raise(where.fleet)
    agent = fleet.agents.get(key)
    if agent is None:
        raise ImportRefusedError(f"{key} is not in the manifests under {where.fleet}: add it first")
    project = fleet.projects[agent.project]

    def choose(made: apply_pass.Made, state: StateSnapshot) -> plan.Plan:
        live = made.observed.projects[agent.project].live
        taken = live.get(agent_id)
        if taken is None:
            raise ImportRefusedError(f"agent {agent_id} is not live in project {agent.project}")
        owners = [r.key for r in state.records.values() if r.agent_id == agent_id]
        if owners:
            raise ImportRefusedError(f"agent {agent_id} is already the agent of {owners[0]}")
        held = state.records.get(key)
        if held is not None and held.agent_id in live:
            raise ImportRefusedError(
                f"{key} already owns live agent {held.agent_id}; `reconciler state rm {key}` "
                "first if that one should be let go"
            )
        parsed = naming.parse(taken.name or "", prefix=project.name_prefix)
        mine = parsed is not None and parsed.slug == naming.slug(key, prefix=project.name_prefix)
        generation = parsed.generation if mine and parsed else state.last_generation(key)
        change = recovery.take_over(
            agent,
            taken,
            generation=generation,
            view=diff.desired_view(agent, fingerprints={}),
            mints_token=mints_token(agent, project=project),
            stale=None if held is None else held.agent_id,
            why="imported by hand",
        )
        return plan.Plan(changes=(change,))

    return await _pass(where, fleet, choose)


async def _pass(where: Where, fleet: DesiredFleet, choose: _Chooser) -> ApplyReport:
    """One pass under the lock that applies what ``choose`` makes of the plan and the state."""
    clock = where.clock or SystemClock()
    with open_state(where.state or DEFAULT_STATE_PATH) as store:
        async with connect.open_clients(
            fleet.projects,
            environ=where.environ,
            api_url=where.api_url,
            transport=where.transport,
            clock=clock,
        ) as apis:
            done = await apply_pass.run_pass(
                fleet,
                store=store,
                apis=apis,
                environ=where.environ,
                clock=clock,
                settings=ApplySettings(),
                choose=lambda made: choose(made, store.snapshot()),
            )
    return done.report


def _no_record(key: str, state: StateTarget | None, current: StateSnapshot) -> StateError:
    keys = sorted(current.records)
    known = ", ".join(keys) if keys else "none"
    return StateError(
        f"no record {key!r} in state {state or DEFAULT_STATE_PATH} (it holds {known})"
    )


def describe(report: ApplyReport, *, left: Iterable[Change] = ()) -> str:
    """Each agent adopted or imported (or why not), then the recovered ones left to replace."""
    lines = []
    for result in report.results:
        mark = "+" if result.outcome is Outcome.DONE else "✗"
        lines.append(f"{mark} {result.key}: {result.remote_name} ({result.agent_id})")
        if result.outcome is not Outcome.DONE:
            lines.append(f"    {result.detail}")
    for change in left:
        lines.append(
            f"~ {change.key}: {change.previous_name} ({change.agent_id}) not adopted: "
            f"{change.reason}; `reconciler apply` replaces it"
        )
    adopted = sum(1 for r in report.results if r.outcome is Outcome.DONE)
    lines.append(f"{adopted} adopted." if lines else "Nothing to recover.")
    return "\n".join(lines) + "\n"
