"""The quota rule between a Project and its agents: more desired at once than it allows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from reconciler.manifest import models
from reconciler.manifest.desired import DesiredAgent
from reconciler.manifest.diagnostics import Diagnostic
from reconciler.manifest.documents import Entry


def over_quota(
    projects: Mapping[str, Entry], agents: Mapping[str, DesiredAgent]
) -> Iterator[Diagnostic]:
    """More agents than the quota is an error, unless priorities or schedules say who waits:
    then the planner keeps the highest priorities running at each moment (a warning here)."""
    counts = Counter(agent.project for agent in agents.values())
    chooses = {a.project for a in agents.values() if a.schedule or a.priority or a.preemption}
    for name, entry in projects.items():
        assert isinstance(entry.model, models.Project)
        quota = entry.model.spec.max_concurrent_agents
        if counts[name] > quota and name in chooses:
            yield entry.diagnostic(
                ("spec", "maxConcurrentAgents"),
                f"project {name} has {counts[name]} agents but allows {quota} at once: when "
                "more are desired at once, the lowest priorities wait for quota",
                severity="warning",
            )
        elif counts[name] > quota:
            yield entry.diagnostic(
                ("spec", "maxConcurrentAgents"),
                f"project {name} has {counts[name]} agents but allows {quota} at once: "
                "remove agents, raise the quota with Agora first and then here, or give "
                "agents a priority so that the lowest wait for quota",
            )
