"""The ``rollout:`` block of a Project, an AgentSet or an Agent, and how the three combine.

A replace makes a running agent leave and drops the conversation in its channel, so replaces run
in waves (Kubernetes' ``maxUnavailable``). A Project's ``rollout`` is the default of its agents;
an AgentSet's overrides it field by field for its members; an Agent's overrides it for that
agent, which then rolls out on its own. This module holds the document model (``Rollout``) and
the resolved value the planner reads (``RolloutSpec``); the waves themselves are the planner's.
Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from reconciler.manifest.timing import Duration, duration_seconds

PERCENT_PATTERN: Final = r"^\d{1,3}%$"
DEFAULT_MAX_UNAVAILABLE: Final = "25%"
DEFAULT_PAUSE: Final = "0s"
DEFAULT_PROGRESS_DEADLINE: Final = "5m"


def _check_max_unavailable(value: int | str) -> int | str:
    if isinstance(value, int):
        if value < 1:
            raise ValueError("must be at least 1 (a count), or a percentage such as 25%")
        return value
    if not re.fullmatch(PERCENT_PATTERN, value) or not 1 <= int(value[:-1]) <= 100:
        raise ValueError(
            f"must be a count of at least 1 or a percentage from 1% to 100%, got {value!r}"
        )
    return value


class Rollout(BaseModel):
    """How replaces are paced; every field unset inherits from the level above."""

    model_config = ConfigDict(
        strict=True, frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=False
    )

    max_unavailable: (
        Annotated[
            int | Annotated[str, Field(json_schema_extra={"pattern": PERCENT_PATTERN})],
            AfterValidator(_check_max_unavailable),
        ]
        | None
    ) = Field(
        default=None,
        description=(
            "How many channels of the rollout may be without a RUNNING agent at once while "
            "agents are replaced, counting those already down: a count, or a percentage of the "
            f"rollout's agents (rounded down, at least 1). Default {DEFAULT_MAX_UNAVAILABLE}."
        ),
    )
    pause_between_waves: Duration | None = Field(
        default=None,
        description=f"How long to wait between two waves of replaces. Default {DEFAULT_PAUSE}.",
    )
    progress_deadline: Duration | None = Field(
        default=None,
        description=(
            "How long a wave's new agents have to reach RUNNING; past it the rollout stops, "
            f"is reported, and the next pass retries. Default {DEFAULT_PROGRESS_DEADLINE}."
        ),
    )
    defer_while_talking: Duration | None = Field(
        default=None,
        description=(
            "How long a replace, or the stop at the end of the agent's schedule, may wait while "
            "its agent's conversation is active (a turn in the last 30 s, read from the agent's "
            "turns), before it goes ahead all the same. Unset (or 0s), they do not wait. Keep it "
            "under the daemon's pass deadline."
        ),
    )


@dataclass(frozen=True, slots=True)
class RolloutSpec:
    """The rollout one desired agent is replaced under, every level merged.

    ``scope`` names the agents that share one budget, in words for the plan: an AgentSet, the
    Agents of a project without a rollout of their own, or one Agent that has one.
    ``max_unavailable`` is a count or a percentage text such as ``25%``.
    """

    scope: str
    max_unavailable: int | str = DEFAULT_MAX_UNAVAILABLE
    pause_seconds: float = 0.0
    deadline_seconds: float = 300.0
    defer_seconds: float = 0.0

    def budget(self, size: int) -> int:
        """How many of ``size`` channels may be unavailable at once: at least 1."""
        if isinstance(self.max_unavailable, int):
            return self.max_unavailable
        return max(1, math.floor(size * int(self.max_unavailable[:-1]) / 100))


def resolve(scope: str, *levels: Rollout | None) -> RolloutSpec:
    """Merge ``levels`` (lowest first, later ones win field by field) over the defaults."""
    max_unavailable: int | str = DEFAULT_MAX_UNAVAILABLE
    pause, deadline, defer = DEFAULT_PAUSE, DEFAULT_PROGRESS_DEADLINE, DEFAULT_PAUSE
    for level in levels:
        if level is None:
            continue
        if level.max_unavailable is not None:
            max_unavailable = level.max_unavailable
        if level.pause_between_waves is not None:
            pause = level.pause_between_waves
        if level.progress_deadline is not None:
            deadline = level.progress_deadline
        if level.defer_while_talking is not None:
            defer = level.defer_while_talking
    return RolloutSpec(
        scope=scope,
        max_unavailable=max_unavailable,
        pause_seconds=duration_seconds(pause),
        deadline_seconds=duration_seconds(deadline),
        defer_seconds=duration_seconds(defer),
    )
