"""The plan: a frozen value saying what one pass would change, and the rules that refuse it.

``model`` holds the values, ``planner`` the pure ``make_plan``, ``renewal`` the token renewal
rule and ``schedules`` the schedule edges it shares with the daemon, ``safety`` the rules of
design §5, ``windows`` the change windows (``window_edge`` tells the daemon when one next opens
or closes). Callers import from here (``plan.make_plan(...)``). Rendering lives in ``render``;
nothing in this package prints, reads the clock or does I/O.
"""

from reconciler.plan.cost import Cost
from reconciler.plan.model import (
    Action,
    Change,
    Held,
    HoldRule,
    Plan,
    PlanPolicy,
    QuotaCheck,
    Report,
    ReportKind,
    Rollout,
    SafetyLimits,
)
from reconciler.plan.planner import make_plan
from reconciler.plan.priority import Waiting
from reconciler.plan.renewal import renewal_due_at, warned_of_expiry
from reconciler.plan.safety import check_safety, for_fleet, hold_back, safety_problems
from reconciler.plan.schedules import Window, next_edge
from reconciler.plan.windows import next_edge as window_edge

__all__ = [
    "Action",
    "Change",
    "Cost",
    "Held",
    "HoldRule",
    "Plan",
    "PlanPolicy",
    "QuotaCheck",
    "Report",
    "ReportKind",
    "Rollout",
    "SafetyLimits",
    "Waiting",
    "Window",
    "check_safety",
    "for_fleet",
    "hold_back",
    "make_plan",
    "next_edge",
    "renewal_due_at",
    "safety_problems",
    "warned_of_expiry",
    "window_edge",
]
