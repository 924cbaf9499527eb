"""The safety rules of design §5, applied to a finished plan: what ``apply`` must refuse.

Mass leaves, leaves of ``protect: true`` agents, and quota breaches are refused unless the
operator says otherwise; a pass with load errors never gets here (the shell stops first). It
reads a plan and says no; it never changes one.
"""

from __future__ import annotations

from reconciler.errors import UnsafePlanError
from reconciler.plan.model import Action, Plan, SafetyLimits


def safety_problems(plan: Plan, *, limits: SafetyLimits) -> tuple[str, ...]:
    """Why the plan must not be applied, one sentence each; empty when it is safe."""
    problems: list[str] = []
    leaving = [c for c in plan.changes if c.leaves_live]
    owned = plan.owned_live
    too_many = len(leaving) * 2 > owned or len(leaving) >= owned
    if leaving and owned and too_many and not limits.allow_mass_delete:
        problems.append(
            f"{len(leaving)} of {owned} owned agents would leave (more than half, or all): "
            "pass --allow-mass-delete if that is intended"
        )
    for change in plan.changes:
        if change.protect and change.leaves_live:
            verb = "deleted" if change.action is Action.DELETE else "replaced"
            problems.append(f"{change.key} has protect: true and would be {verb}")
    for check in plan.quota:
        if not check.ok:
            problems.append(
                f"project {check.project}: {check.peak} concurrent agents during the apply "
                f"would exceed maxConcurrentAgents {check.limit}"
            )
    return tuple(problems)


def check_safety(plan: Plan, *, limits: SafetyLimits) -> None:
    """Raise ``UnsafePlanError`` naming every rule the plan breaks."""
    problems = safety_problems(plan, limits=limits)
    if problems:
        raise UnsafePlanError("; ".join(problems))
