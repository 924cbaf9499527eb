"""The safety rules of design §5, applied to a finished plan: what to hold back from this pass.

A rule holds back only the changes it is about; the rest of the plan still runs, so a refused
mass delete never keeps a failed agent from being recreated. The rules:

- **mass delete**: in a project, deleting (making leave with no successor; a replace is not a
  delete) more than its ``maxDeleteFraction`` of the running owned agents, or all of them, holds
  back those deletes unless ``--allow-mass-delete``;
- **protect**: the delete or replace of a ``protect: true`` agent is held back;
- **quota**: joins that would lift a project past ``maxConcurrentAgents`` during the apply are
  held back, creates before recreates, the last keys first, until the rest fits.

A pass with load errors never gets here (the shell stops first). Pure: it returns a new plan.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable

from reconciler.errors import UnsafePlanError
from reconciler.manifest.desired import DesiredFleet
from reconciler.plan import cost
from reconciler.plan.model import Action, Change, Held, HoldRule, Plan, QuotaCheck, SafetyLimits

_JOINS = (Action.CREATE, Action.RECREATE)
_LEAVES = (Action.DELETE, Action.STOP)


def hold_back(plan: Plan, *, limits: SafetyLimits) -> Plan:
    """``plan`` without the changes a safety rule holds back, which go to ``held``."""
    held: list[Held] = list(plan.held)
    for change in plan.changes:
        if (
            change.protect
            and change.leaves_live
            and change.action in (Action.DELETE, Action.REPLACE)
        ):
            verb = "deleted" if change.action is Action.DELETE else "replaced"
            reason = f"{change.key} has protect: true and would be {verb}"
            held.append(Held(change=change, rule=HoldRule.PROTECT, reason=reason))
    taken = {id(h.change) for h in held}
    if not limits.allow_mass_delete:
        for project, owned in sorted(plan.owned_by_project.items()):
            deletes = [
                c
                for c in plan.changes
                if c.project == project and c.action is Action.DELETE and c.leaves_live
            ]
            fraction = limits.delete_fraction(project)
            if deletes and (len(deletes) > fraction * owned or len(deletes) >= owned):
                holding = [c for c in deletes if id(c) not in taken]
                reason = (
                    f"{len(deletes)} of {owned} owned agents of project {project} would be "
                    f"deleted (more than {fraction:.0%}, or all): pass --allow-mass-delete if "
                    f"that is intended; held back: {_keys(holding)}"
                )
                held.extend(
                    Held(change=c, rule=HoldRule.MASS_DELETE, reason=reason) for c in holding
                )
    taken = {id(h.change) for h in held}
    kept = [c for c in plan.changes if id(c) not in taken]
    quota: list[QuotaCheck] = []
    for check in plan.quota:
        fitted, over = _fit_quota(check, kept)
        quota.append(fitted)
        if over:
            reason = (
                f"project {check.project}: {_check(check, kept).peak} concurrent agents during "
                f"the apply would exceed maxConcurrentAgents {check.limit}; held back: "
                f"{_keys(over)}"
            )
            held.extend(Held(change=c, rule=HoldRule.QUOTA, reason=reason) for c in over)
            kept = [c for c in kept if c not in over]
    replacing = {c.key for c in kept if c.action is Action.REPLACE}
    rollouts = []
    for rollout in plan.rollouts:
        keys = tuple(key for key in rollout.keys if key in replacing)
        if keys:
            rollouts.append(dataclasses.replace(rollout, keys=keys))
    joins = Counter(h.change.project for h in held if h.change.action in _JOINS)
    leaves = Counter(
        h.change.project for h in held if h.change.action in _LEAVES and h.change.leaves_live
    )
    return dataclasses.replace(
        plan,
        changes=tuple(kept),
        held=tuple(held),
        quota=tuple(quota),
        rollouts=tuple(rollouts),
        costs=cost.after_holds(plan.costs, held_joins=joins, held_leaves=leaves),
    )


def for_fleet(limits: SafetyLimits, fleet: DesiredFleet) -> SafetyLimits:
    """``limits`` (from the flags) with each project's own ``maxDeleteFraction``."""
    fractions = {name: project.max_delete_fraction for name, project in fleet.projects.items()}
    return dataclasses.replace(limits, delete_fractions=fractions)


def safety_problems(plan: Plan, *, limits: SafetyLimits) -> tuple[str, ...]:
    """Why changes of the plan are held back, one sentence each; empty when all may run."""
    return hold_back(plan, limits=limits).refusals


def check_safety(plan: Plan, *, limits: SafetyLimits) -> None:
    """Raise ``UnsafePlanError`` naming every rule that holds a change of the plan back."""
    problems = safety_problems(plan, limits=limits)
    if problems:
        raise UnsafePlanError("; ".join(problems))


def _check(check: QuotaCheck, changes: Iterable[Change]) -> QuotaCheck:
    """The quota check of ``check``'s project for the given changes."""
    mine = [c for c in changes if c.project == check.project]
    return dataclasses.replace(
        check,
        leaving=sum(1 for c in mine if c.action in _LEAVES and c.leaves_live),
        joining=sum(1 for c in mine if c.action in _JOINS),
    )


def _fit_quota(check: QuotaCheck, changes: list[Change]) -> tuple[QuotaCheck, list[Change]]:
    """The project's check once enough of its joins are held back to fit, and those joins."""
    current = _check(check, changes)
    joins = [c for c in changes if c.project == check.project and c.action in _JOINS]
    # Creates go first (nothing ran there before), then recreates; the last keys first.
    joins.sort(key=lambda c: (c.action is Action.CREATE, c.key), reverse=True)
    over: list[Change] = []
    while not current.ok and joins:
        over.append(joins.pop(0))
        current = dataclasses.replace(current, joining=current.joining - 1)
    return current, sorted(over, key=lambda c: c.key)


def _keys(changes: Iterable[Change]) -> str:
    return ", ".join(f"{c.action} {c.key}" for c in changes)
