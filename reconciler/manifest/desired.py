"""The desired fleet: what the manifests ask for, resolved and ready for the planner.

Plain frozen values with nothing left to look up except secrets: profiles are merged in,
AgentSets expanded, defaults filled. Secret references stay references (``${env:...}``) and are
resolved at apply time only; the loader has made every ``${file:...}`` path absolute, since a
profile's relative path means its own file's directory, not the directory of the agents using it.
Nothing here reads files or talks to anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from reconciler.manifest.diagnostics import SourceLocation
from reconciler.manifest.fields import Region, RestartPolicy
from reconciler.manifest.reference_sites import EMPTY, ReferenceIndex
from reconciler.manifest.rollout import RolloutSpec
from reconciler.manifest.schedule import DEFAULT_CURRENCY, DEFAULT_PRICE_PER_MINUTE
from reconciler.manifest.windows import ChangeWindow
from reconciler.recurrence import Recurrence


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    """One Agora project. ``app_id`` and ``customer_id`` may be literal; the secrets are references.

    ``source`` is where the Project document starts; ``windows`` are its change windows;
    ``written`` is where each reference field is (by attribute name: the location and the field
    path as written, ``spec.customerSecret``), so that an unresolvable one is reported there;
    ``price_per_minute`` (in ``currency``) is what one agent costs per minute it runs.
    """

    name: str
    app_id: str
    customer_id: str
    customer_secret: str
    app_certificate: str | None
    region: Region | None
    base_url: str | None
    max_concurrent_agents: int
    name_prefix: str
    token_lifetime_seconds: int
    source: SourceLocation
    notification_secret: str | None = None
    max_delete_fraction: float = 0.5
    windows: tuple[ChangeWindow, ...] = ()
    written: Mapping[str, tuple[SourceLocation, str]] = field(default_factory=dict)
    price_per_minute: float = DEFAULT_PRICE_PER_MINUTE
    currency: str = DEFAULT_CURRENCY


# The project's rollout with every default: what an agent built without a manifest gets.
NO_ROLLOUT: Final = RolloutSpec(scope="")


@dataclass(frozen=True, slots=True)
class DesiredAgent:
    """One agent that should be running, keyed ``project/name``.

    ``properties`` is the merged join ``properties`` object (profile under agent, maps merged,
    lists replaced, keys set to null dropped) without ``channel`` and ``token``, which the
    reconciler fills. It is shared, read-only data: never mutate it. ``token`` is a reference to
    a fixed RTC token, for projects without an App Certificate, or None. ``join_fields`` are
    Agora's top-level join fields beside ``properties`` (``preset``, ``pipeline_id``) that are set.
    ``rollout`` paces its replace; an empty scope means the project's. ``schedule`` holds the
    windows the agent is desired in (empty: always); ``priority`` and ``preemption`` decide who
    runs when the project's quota cannot hold every agent desired at once.
    """

    key: str
    project: str
    name: str
    channel: str
    agent_rtc_uid: str
    properties: Mapping[str, Any]
    token: str | None
    restart_policy: RestartPolicy
    protect: bool
    archive_history: str | None
    source: SourceLocation
    join_fields: Mapping[str, str] = field(default_factory=dict)
    rollout: RolloutSpec = NO_ROLLOUT
    schedule: tuple[Recurrence, ...] = ()
    priority: int = 0
    preemption: bool = False


@dataclass(frozen=True, slots=True)
class Move:
    """A rename the state follows instead of a leave and a join (a ``Moved`` document's entry).

    Both ends are agent keys (``project/name``) or both are project names; ``source`` is where
    the entry is written.
    """

    from_key: str
    to_key: str
    source: SourceLocation

    @property
    def of_project(self) -> bool:
        """Whether it renames a whole project (every key under it) rather than one agent."""
        return "/" not in self.to_key


@dataclass(frozen=True, slots=True)
class DesiredFleet:
    """Projects by name and agents by key; both iterate in sorted key order. ``references``
    says where each secret reference is written, for errors that must point at it; ``moves`` are
    the renames the manifests declare, in the order written."""

    projects: Mapping[str, ProjectSpec]
    agents: Mapping[str, DesiredAgent]
    references: ReferenceIndex = EMPTY
    moves: tuple[Move, ...] = ()
