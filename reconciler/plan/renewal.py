"""When a minted RTC token wants renewing: one rule, for the planner and the daemon's alarm.

The planner renews a token once strictly less than ``PlanPolicy.renew_token_fraction`` of its
lifetime is left; the daemon sets its alarm for that same instant, so neither can drift from the
other. Pure arithmetic on values passed in: no clock, no state, no I/O.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection

from reconciler.manifest.desired import DesiredAgent, ProjectSpec
from reconciler.plan.model import PlanPolicy
from reconciler.state import StateSnapshot


def mints_token(agent: DesiredAgent, *, project: ProjectSpec) -> bool:
    """Whether the reconciler mints the agent's RTC token: no static token, an App Certificate."""
    return agent.token is None and project.app_certificate is not None


def renewal_due_at(
    agent: DesiredAgent, *, project: ProjectSpec, expires_at: float | None, policy: PlanPolicy
) -> float | None:
    """The instant after which the planner renews the token it mints for ``agent``.

    None when it mints none (the agent has a static token, or the project no App Certificate);
    minus infinity when the expiry is unknown, since such a token is renewed at once. Renewal is
    due at any ``now`` strictly greater than the returned instant.
    """
    if not mints_token(agent, project=project):
        return None
    if expires_at is None:
        return -math.inf
    return expires_at - project.token_lifetime_seconds * policy.renew_token_fraction


def warned_of_expiry(state: StateSnapshot, agent_ids: Collection[str]) -> StateSnapshot:
    """``state`` as planning should read it once Agora warned that the tokens of ``agent_ids``
    are about to expire (event 104): their recorded expiry forgotten, so that the usual rule
    renews them now (an unknown expiry is renewed at once).

    Agora knows the token it holds better than our record does (a clock off, a token minted
    with another lifetime); only the plan reads this view: the renewal writes the new expiry to
    the real record. Agents that are not ours, or whose tokens we do not mint, are untouched.
    """
    if not agent_ids:
        return state
    records = {
        key: dataclasses.replace(record, token_expires_at=None)
        if record.agent_id in agent_ids
        else record
        for key, record in state.records.items()
    }
    return dataclasses.replace(state, records=records)
