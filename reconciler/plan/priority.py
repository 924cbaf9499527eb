"""Who runs when a project's quota cannot hold every agent desired at once.

Agora refuses a join past ``maxConcurrentAgents`` (422), so instead of failing the whole
project the plan keeps the highest priorities running and reports the rest as waiting for
quota. Agents already running keep their place (a join never makes a running agent leave)
unless a waiting agent of strictly higher priority has ``preemption: true``: it then takes the
place of the running agent of lowest priority. Among equals, the running agent, then the first
key, wins. Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from reconciler.manifest.desired import DesiredAgent


@dataclass(frozen=True)
class Waiting:
    """A desired agent that does not run in this pass for want of quota, and why."""

    key: str
    project: str
    priority: int
    reason: str


@dataclass(frozen=True)
class Choice:
    """The agents of one project that run, those that wait, and the running agents that a
    preempting agent displaces (they leave: by key, the key that takes their place)."""

    running: frozenset[str]
    waiting: tuple[Waiting, ...]
    displaced: dict[str, str]


def choose(
    agents: Sequence[DesiredAgent], *, capacity: int, running: Collection[str], limit: int
) -> Choice:
    """Which of one project's desired ``agents`` (all in their windows) run, given room for
    ``capacity`` agents (the quota ``limit`` less the live agents no record owns) and the keys
    whose owned agent is ``running`` now."""
    if len(agents) <= capacity:
        return Choice(frozenset(a.key for a in agents), (), {})
    by_rank = sorted(agents, key=lambda a: (-a.priority, a.key not in running, a.key))
    keep = [a for a in by_rank if a.key in running][: max(capacity, 0)]
    free = max(capacity - len(keep), 0)
    others = [a for a in by_rank if a.key not in running]
    joining, left = others[:free], others[free:]
    displaced: dict[str, str] = {}
    for agent in list(left):
        if not agent.preemption:
            continue
        victims = [k for k in keep if k.priority < agent.priority]
        if not victims:
            continue
        # The lowest priority leaves first; among equals, the last key.
        victim = max(victims, key=lambda k: (-k.priority, k.key))
        keep.remove(victim)
        displaced[victim.key] = agent.key
        joining.append(agent)
        left.remove(agent)
    chosen = frozenset(a.key for a in (*keep, *joining))
    waiting = [
        Waiting(a.key, a.project, a.priority, _reason(a, limit, None))
        for a in agents
        if a.key not in chosen and a.key not in displaced
    ]
    waiting.extend(
        Waiting(key=k, project=a.project, priority=a.priority, reason=_reason(a, limit, by))
        for a in agents
        for k, by in displaced.items()
        if a.key == k
    )
    return Choice(chosen, tuple(sorted(waiting, key=lambda w: w.key)), displaced)


def _reason(agent: DesiredAgent, limit: int, displaced_by: str | None) -> str:
    if displaced_by is not None:
        return (
            f"waiting for quota: {displaced_by} (higher priority, preemption: true) takes its "
            f"place under maxConcurrentAgents {limit}"
        )
    return (
        f"waiting for quota: project {agent.project} allows {limit} agents at once, and "
        f"agents of priority {agent.priority} or higher (or already running) fill them"
    )
