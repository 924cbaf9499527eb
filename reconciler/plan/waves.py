"""Rollout waves: which replaces of a plan run together, and which wait for a later pass.

A replace drops the conversation in its channel until the new agent is RUNNING, so the replaces
of one rollout scope (an AgentSet, a project's Agents, or an Agent with a ``rollout`` of its
own; ``manifest.rollout``) run in waves: a scope of ``size`` agents may have at most
``budget = maxUnavailable`` channels without a RUNNING agent at any moment, and channels already
down count (missing, STARTING, STOPPING, FAILED). Each wave therefore replaces at most
``budget - down`` agents; when nothing is left of the budget, the scope's replaces are held back
for a later pass (recreates, which heal the down channels, run first and never wait).

Pure: a function of the plan's changes, the desired fleet and what is running.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from reconciler.manifest.desired import DesiredAgent, DesiredFleet
from reconciler.plan.model import Action, Change, Held, HoldRule, Rollout


def scope_of(agent: DesiredAgent) -> str:
    """The rollout scope an agent is replaced in (its project's Agents when it names none)."""
    return agent.rollout.scope or f"the Agents of project {agent.project}"


def plan_waves(
    changes: Sequence[Change],
    *,
    desired: DesiredFleet,
    running: Callable[[DesiredAgent], bool | None],
) -> tuple[tuple[Change, ...], tuple[Held, ...], tuple[Rollout, ...]]:
    """The changes with each replace numbered into its wave, the replaces held back for lack
    of budget, and one ``Rollout`` per scope that has replaces; in scope order.

    ``running`` says whether the agent the state owns for a desired agent is RUNNING, or None
    when the state owns none: a channel the reconciler never served loses nothing while it
    waits for its create, so it does not count as down.
    """
    replaces: dict[str, list[Change]] = {}
    for change in changes:
        if change.action is Action.REPLACE:
            replaces.setdefault(scope_of(desired.agents[change.key]), []).append(change)
    if not replaces:
        return tuple(changes), (), ()
    members: dict[str, list[DesiredAgent]] = {}
    for agent in desired.agents.values():
        members.setdefault(scope_of(agent), []).append(agent)
    numbered: dict[int, Change] = {}
    held: list[Held] = []
    rollouts: list[Rollout] = []
    for scope, group in sorted(replaces.items()):
        spec = desired.agents[group[0].key].rollout
        size = len(members[scope])
        budget = spec.budget(size)
        down = sum(1 for agent in members[scope] if running(agent) is False)
        room = budget - down
        # Replacing an agent that is not RUNNING takes nothing more from the budget: its
        # channel is down already. Those go in the first wave; the others wait their turn.
        healing = [c for c in group if not running(desired.agents[c.key])]
        disrupting = [c for c in group if running(desired.agents[c.key])]
        if disrupting and room <= 0:
            reason = (
                f"the rollout budget of {scope} is used up: {down} of {size} channels already "
                f"lack a RUNNING agent (maxUnavailable {spec.max_unavailable} = {budget}); held "
                f"back: {', '.join(f'replace {c.key}' for c in disrupting)}"
            )
            held.extend(
                Held(change=c, rule=HoldRule.ROLLOUT_BUDGET, reason=reason) for c in disrupting
            )
            disrupting = []
        if not healing and not disrupting:
            continue
        group = [*healing, *disrupting]
        room = max(room, 1)
        count = max(1, math.ceil(len(disrupting) / room))
        for index, change in enumerate(group):
            wave = 1 if index < len(healing) else (index - len(healing)) // room + 1
            said = f"{change.reason}; wave {wave} of {count}" if count > 1 else change.reason
            numbered[id(change)] = dataclasses.replace(change, wave=wave, reason=said)
        rollouts.append(
            Rollout(
                scope=scope,
                project=group[0].project,
                size=size,
                max_unavailable=budget,
                unavailable=down,
                waves=count,
                pause_seconds=spec.pause_seconds,
                deadline_seconds=spec.deadline_seconds,
                keys=tuple(c.key for c in group),
                defer_seconds=spec.defer_seconds,
            )
        )
    waiting = {id(h.change) for h in held}
    kept = tuple(numbered.get(id(c), c) for c in changes if id(c) not in waiting)
    return kept, tuple(held), tuple(rollouts)
