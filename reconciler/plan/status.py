"""The fleet's status: one row per desired agent, what runs, and how far it is from the manifests.

Pure: desired, observed, state and ``now`` in, a ``FleetStatus`` out; no I/O, no clock. Drift is
not judged here but read off the planner's own plan, held back by the safety rules as a default
``apply`` would, so ``status`` and ``plan`` can never disagree about what is in sync or held
back. Rendering lives in ``render.status``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from reconciler import plan
from reconciler.manifest.desired import DesiredFleet
from reconciler.observe.fleet import ObservedFleet, ObservedProject
from reconciler.plan import moves
from reconciler.source.record import SourceRecord
from reconciler.state import AgentRecord, StateSnapshot


class Drift(StrEnum):
    """How an agent differs from its manifest, in the words of the plan that would fix it."""

    IN_SYNC = "in sync"
    TO_UPDATE = "to update"
    TO_REPLACE = "to replace"
    MISSING = "missing"
    TO_ADOPT = "to adopt"
    TO_DELETE = "to delete"
    HELD = "held back"
    TO_STOP = "to stop"
    OFF_SCHEDULE = "off schedule"
    WAITING = "waiting for quota"


# A key's drift is that of its first change in apply order (a replace outranks its token renewal).
# A move is no drift of its own: the record follows the key, the agent stays as it is.
DRIFT_OF: Final[Mapping[plan.Action, Drift]] = {
    plan.Action.DELETE: Drift.TO_DELETE,
    plan.Action.STOP: Drift.TO_STOP,
    plan.Action.REPLACE: Drift.TO_REPLACE,
    plan.Action.RECREATE: Drift.MISSING,
    plan.Action.CREATE: Drift.MISSING,
    plan.Action.ADOPT: Drift.TO_ADOPT,
    plan.Action.UPDATE: Drift.TO_UPDATE,
    plan.Action.RENEW_TOKEN: Drift.TO_UPDATE,
}
# Reports about agents that no manifest entry stands for; kept-stopped ones are rows instead.
_APART: Final = frozenset(
    {plan.ReportKind.UNMANAGED, plan.ReportKind.OURS_WITHOUT_RECORD, plan.ReportKind.UNREACHABLE}
)


@dataclass(frozen=True)
class AgentRow:
    """One manifest key: its recorded agent (if any), that agent's live status, and its drift.

    ``status`` is the live status, ``GONE`` when query no longer knows the agent, None when no
    agent was ever recorded; ``started_at`` is the live agent's start, else the record's creation.
    A change that a rule holds back (``held_rule``) makes the drift ``HELD``, its reason saying
    what waits and why.
    """

    key: str
    project: str
    channel: str
    remote_name: str | None
    agent_id: str | None
    status: str | None
    generation: int | None
    token_expires_at: float | None
    drift: Drift
    reason: str | None
    started_at: float | None
    age_seconds: int | None
    last_error: AgentError | None = None
    held_rule: plan.HoldRule | None = None


@dataclass(frozen=True)
class AgentError:
    """The last error Agora reported for the agent of ``key`` (event 110), as a daemon heard it.

    ``at`` is Agora's time of the notice (Unix seconds); ``agent_id`` may be an agent the key
    has since replaced.
    """

    key: str
    project: str
    agent_id: str
    module: str
    code: str
    message: str
    at: float


@dataclass(frozen=True)
class OtherAgent:
    """A live agent no manifest entry stands for; the reconciler never touches it."""

    project: str
    kind: plan.ReportKind
    agent_id: str | None
    name: str | None
    status: str | None
    age_seconds: int | None
    message: str


@dataclass(frozen=True)
class FleetStatus:
    """Rows in key order (desired agents, and owned ones about to be deleted), others apart;
    ``source`` is what a git-sourced daemon on this state runs, when one does; ``windows``
    where each scheduled agent stands, ``costs`` each project's burn rate."""

    now: float
    rows: tuple[AgentRow, ...]
    others: tuple[OtherAgent, ...]
    source: SourceRecord | None = None
    windows: tuple[plan.Window, ...] = ()
    costs: tuple[plan.Cost, ...] = ()


def build_status(
    desired: DesiredFleet,
    observed: ObservedFleet,
    state: StateSnapshot,
    *,
    now: float,
    fingerprints: Mapping[str, str],
) -> FleetStatus:
    """The status of every desired and owned agent, drift taken from ``plan.make_plan`` and
    what the safety rules hold back under the manifests' own limits."""
    made = plan.make_plan(
        desired,
        observed,
        state,
        now=now,
        policy=plan.PlanPolicy(),
        fingerprints=fingerprints,
    )
    made = plan.hold_back(made, limits=plan.for_fleet(plan.SafetyLimits(), desired))
    # Rows show each record under the key the manifests' moves give it.
    state, _ = moves.follow(desired, state)
    changes: dict[str, list[plan.Change]] = {}
    for change in (*made.changes, *(held.change for held in made.held)):
        changes.setdefault(change.key, []).append(change)
    holds = {id(hold.change): hold for hold in made.held}
    kept = {
        report.key: (Drift.MISSING, report.message)
        for report in made.reports
        if report.kind is plan.ReportKind.KEPT_STOPPED and report.key is not None
    }
    kept.update({w.key: (Drift.WAITING, w.reason) for w in made.waiting})
    kept.update(
        {w.key: (Drift.OFF_SCHEDULE, "outside its schedule") for w in made.windows if not w.open}
    )
    rows: list[AgentRow] = []
    for key in sorted({*desired.agents, *changes}):
        agent = desired.agents.get(key)
        record = state.records.get(key)
        mine = changes.get(key, [])
        project = agent.project if agent is not None else mine[0].project
        rows.append(
            _row(
                key=key,
                project=project,
                channel=_channel(agent.channel if agent is not None else None, record),
                record=record,
                seen=_seen(observed, project),
                changes=mine,
                held=[holds[id(c)] for c in mine if id(c) in holds],
                kept_stopped=kept.get(key),
                now=now,
            )
        )
    others = tuple(
        OtherAgent(
            project=report.project,
            kind=report.kind,
            agent_id=report.agent_id,
            name=report.name,
            status=report.status,
            age_seconds=_age(_live_start(_seen(observed, report.project), report.agent_id), now),
            message=report.message,
        )
        for report in made.reports
        if report.kind in _APART
    )
    return FleetStatus(
        now=now, rows=tuple(rows), others=others, windows=made.windows, costs=made.costs
    )


def with_errors(status: FleetStatus, errors: Iterable[AgentError]) -> FleetStatus:
    """``status`` with each row's last error (the latest per key) from ``errors``."""
    latest: dict[str, AgentError] = {}
    for error in errors:
        if error.key not in latest or error.at >= latest[error.key].at:
            latest[error.key] = error
    rows = tuple(dataclasses.replace(row, last_error=latest.get(row.key)) for row in status.rows)
    return dataclasses.replace(status, rows=rows)


def _row(
    *,
    key: str,
    project: str,
    channel: str,
    record: AgentRecord | None,
    seen: ObservedProject | None,
    changes: list[plan.Change],
    held: list[plan.Held],
    kept_stopped: tuple[Drift, str] | None,
    now: float,
) -> AgentRow:
    agent_id = record.agent_id if record is not None else None
    adopted = next((c for c in changes if c.action is plan.Action.ADOPT), None)
    if agent_id is None and adopted is not None:
        agent_id = adopted.agent_id
    acting = [change for change in changes if change.action is not plan.Action.MOVE]
    reason: str | None
    if held:
        drift = Drift.HELD
        reason = "; ".join(
            f"{h.change.action} held back ({h.rule}): {h.reason}. The {h.change.action}: "
            f"{h.change.reason}"
            for h in held
        )
    elif changes:
        drift = DRIFT_OF[acting[0].action] if acting else Drift.IN_SYNC
        reason = "; ".join(change.reason for change in changes)
    elif kept_stopped is not None:
        drift, reason = kept_stopped
    else:
        drift, reason = Drift.IN_SYNC, None
    started = _live_start(seen, agent_id)
    if started is None and record is not None and record.agent_id is not None:
        started = record.created_at
    return AgentRow(
        key=key,
        project=project,
        channel=channel,
        remote_name=adopted.remote_name if adopted is not None else _name(record),
        agent_id=agent_id,
        status=_status(seen, agent_id),
        generation=adopted.generation if adopted is not None else _generation(record),
        token_expires_at=record.token_expires_at if record is not None else None,
        drift=drift,
        reason=reason,
        started_at=started,
        age_seconds=_age(started, now),
        held_rule=held[0].rule if held else None,
    )


def _channel(desired: str | None, record: AgentRecord | None) -> str:
    """The manifest's channel; for an agent no longer desired, the one it was joined to."""
    if desired is not None:
        return desired
    return record.channel if record is not None else ""


def _seen(observed: ObservedFleet, project: str) -> ObservedProject | None:
    return observed.projects.get(project)


def _status(seen: ObservedProject | None, agent_id: str | None) -> str | None:
    if seen is None or agent_id is None:
        return None
    if agent_id in seen.live:
        return seen.live[agent_id].status
    if agent_id in seen.ended:
        return seen.ended[agent_id].status
    return None


def _live_start(seen: ObservedProject | None, agent_id: str | None) -> float | None:
    if seen is None or agent_id is None or agent_id not in seen.live:
        return None
    start = seen.live[agent_id].start_ts
    return None if start is None else float(start)


def _name(record: AgentRecord | None) -> str | None:
    return record.remote_name if record is not None else None


def _generation(record: AgentRecord | None) -> int | None:
    return record.generation if record is not None else None


def _age(started: float | None, now: float) -> int | None:
    """Whole seconds since ``started``; never negative, though our clock and Agora's may differ."""
    return None if started is None else max(0, int(now - started))
