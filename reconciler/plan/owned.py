"""What to do with one desired agent a state record owns: recreate, replace, update, renew its
token, or report it kept stopped.

Pure like the rest of ``plan``: no I/O, no clock (``now`` is passed in), no logging. It decides
for one key from its record, its project's observation and the desired view, and returns the
change or report; it does not collect them, claim agents or pick names (the planner does, and
passes in ``fresh`` to name a new generation), and never looks at an agent the record does not
name.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from reconciler.agora import wire
from reconciler.manifest.desired import DesiredAgent, ProjectSpec
from reconciler.observe.fleet import GONE, ObservedProject
from reconciler.plan import diff
from reconciler.plan.model import Action, Change, PlanPolicy, Report, ReportKind
from reconciler.plan.renewal import renewal_due_at
from reconciler.state import AgentRecord

Fresh = Callable[[], tuple[str, int, str]]
"""Names the key's next generation: its name, its generation and a note for the reason."""


def plan_owned(
    agent: DesiredAgent,
    *,
    record: AgentRecord,
    seen: ObservedProject,
    view: diff.View,
    fresh: Fresh,
) -> Change | Report | None:
    """Recreate, replace or update an owned agent, or report it left stopped."""
    assert record.agent_id is not None  # checked by the caller
    diffs = diff.diff(diff.recorded_view(record), view.properties, sensitive=view.sensitive)
    common: dict[str, Any] = {
        "key": agent.key,
        "project": agent.project,
        "fields": diffs,
        "agent_id": record.agent_id,
    }
    if record.agent_id not in seen.live:
        ended = seen.ended.get(record.agent_id)
        status = ended.status if ended is not None else GONE
        message = ended.message if ended is not None else None
        policy = str(agent.restart_policy)
        if not _restarts(policy, status=status):
            return Report(
                kind=ReportKind.KEPT_STOPPED,
                project=agent.project,
                key=agent.key,
                agent_id=record.agent_id,
                name=record.remote_name,
                status=status,
                message=f"{_ended(status, message)}; restartPolicy {policy} leaves it so",
            )
        name, generation, note = fresh()
        return Change(
            action=Action.RECREATE,
            reason=f"{_ended(status, message)}; restartPolicy {policy}{note}",
            remote_name=name,
            generation=generation,
            previous_name=record.remote_name,
            protect=agent.protect,
            **common,
        )
    forcing = diff.forcing_fields(diffs)
    if forcing:
        name, generation, note = fresh()
        return Change(
            action=Action.REPLACE,
            reason="forces replacement: " + ", ".join(forcing) + note,
            remote_name=name,
            generation=generation,
            previous_name=record.remote_name,
            protect=agent.protect,
            leaves_live=True,
            **common,
        )
    # A join writes a whole new record; an agent kept must have its record's flags refreshed,
    # by an update that sends Agora nothing when they are all that moved.
    flags = diff.flag_changes(record, agent)
    if not diffs and not flags:
        return None
    update = diff.in_place_update(agent, diffs)
    said = ["changes in place: " + ", ".join(update)] if update else []
    if flags:
        said.append("records " + ", ".join(flags))
    return Change(
        action=Action.UPDATE,
        reason="; ".join(said),
        remote_name=record.remote_name,
        generation=record.generation,
        update=MappingProxyType(update),
        protect=agent.protect,
        **common,
    )


def plan_token(
    agent: DesiredAgent,
    *,
    record: AgentRecord,
    project: ProjectSpec,
    seen: ObservedProject,
    now: float,
    policy: PlanPolicy,
) -> Change | None:
    """Renew a minted token of a live agent once less than a fraction of its life is left.

    The expiry is the one the token carries, on the clock of the host that minted it; it is
    judged on the API's clock (``seen.clock_offset``), the one that will refuse it, so a local
    clock hours off neither renews every pass nor lets a token lapse.
    """
    expires = record.token_expires_at
    now = now + seen.clock_offset
    due = renewal_due_at(agent, project=project, expires_at=expires, policy=policy)
    if due is None or now <= due:
        return None
    assert record.agent_id is not None  # checked by the caller
    if record.agent_id not in seen.live:
        return None
    lifetime = project.token_lifetime_seconds
    if expires is None:
        reason = "token expiry unknown"
    elif expires <= now:
        reason = f"token expired {_duration(now - expires)} ago"
    else:
        reason = (
            f"token expires in {_duration(expires - now)}, under "
            f"{policy.renew_token_fraction:.0%} of its {_duration(lifetime)} lifetime"
        )
    return Change(
        action=Action.RENEW_TOKEN,
        key=agent.key,
        project=agent.project,
        reason=reason,
        remote_name=record.remote_name,
        generation=record.generation,
        agent_id=record.agent_id,
        protect=agent.protect,
    )


def _restarts(policy: str, *, status: str) -> bool:
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return status == wire.AgentStatus.FAILED
    return False


def _ended(status: str, message: str | None) -> str:
    if status == GONE:
        return "agent is gone (query answers 404)"
    return f"agent {status}" + (f" ({message})" if message else "")


def _duration(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours}h {minutes}m"
    if hours:
        return f"{hours}h"
    return f"{minutes}m" if minutes else f"{total}s"
