"""The ``StepResult`` a change ends with, and what a record keeps of the spec it applied.

Small builders shared by the engine and its in-place steps; they only shape values, never call
Agora or write the state.
"""

from __future__ import annotations

from typing import Any

from reconciler.apply.report import Outcome, StepResult
from reconciler.manifest.desired import DesiredAgent
from reconciler.plan import Change, diff
from reconciler.state import AgentRecord


def applied(view: diff.View, agent: DesiredAgent) -> dict[str, Any]:
    """What a record keeps: the view, ``protect``, and where to archive the agent's history."""
    return diff.applied_properties(
        view, protect=agent.protect, archive_history=agent.archive_history
    )


def result(
    change: Change,
    outcome: Outcome,
    detail: str,
    agent_id: str | None = None,
    *,
    reason: str | None = None,
) -> StepResult:
    return StepResult(
        key=change.key,
        project=change.project,
        action=change.action.value,
        outcome=outcome,
        remote_name=change.remote_name,
        agent_id=agent_id if agent_id is not None else change.agent_id,
        detail=detail,
        reason=reason,
    )


def moved(change: Change, record: AgentRecord | None) -> StepResult:
    held = "no record" if record is None else f"{record.remote_name} ({record.agent_id or 'none'})"
    return result(
        change,
        Outcome.FAILED,
        f"the state changed since the plan was made (it now holds {held}); plan again",
        reason="state-moved",
    )
