"""The plan's values: actions, changes, reports, quota checks, and the knobs of planning.

A plan is a frozen value with a deterministic order (style principle 3): planning builds one,
renderers read one, apply executes one, a plan file stores one. Nothing here decides anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from reconciler.plan import diff
from reconciler.plan.cost import Cost
from reconciler.plan.priority import Waiting
from reconciler.plan.schedules import Window


class Action(StrEnum):
    """What a change does; the declaration order is the order apply runs them in."""

    # First: the changes after it act on the records under their new keys.
    MOVE = "move"
    DELETE = "delete"
    # A scheduled stop: the agent leaves outside its schedule (or waiting for quota) and joins
    # again later; not a delete, so the mass-delete rule does not count it.
    STOP = "stop"
    # Before replaces: recreating an agent that is already down never waits on a rollout.
    RECREATE = "recreate"
    REPLACE = "replace"
    CREATE = "create"
    ADOPT = "adopt"
    UPDATE = "update"
    RENEW_TOKEN = "renew-token"


class ReportKind(StrEnum):
    """Something a person should know that the plan will deliberately not act on."""

    UNMANAGED = "unmanaged"
    OURS_WITHOUT_RECORD = "ours-without-record"
    KEPT_STOPPED = "kept-stopped"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Change:
    """One action on one manifest key.

    ``remote_name`` and ``generation`` name the agent acted on or, for joins (create, replace,
    recreate), the new one; ``previous_name`` is the generation a replace or recreate retires;
    ``agent_id`` is the existing agent it acts on. ``update`` holds, for an update, the whole new
    value of each in-place field by dotted path (secrets as references; a None token means mint
    one). ``leaves_live`` says a running agent will leave because of it. ``recovered`` marks an
    adopt or replace of a live agent that no record owns but that carries this fleet's name for
    the key (the state was lost or is stale); ``stale_agent_id`` is the ended agent the key's
    record still named then, if any, which apply expects to find there. ``moved_from`` is the
    key a move takes the record from (its ``key`` is the new one).
    """

    action: Action
    key: str
    project: str
    reason: str
    remote_name: str
    generation: int
    agent_id: str | None = None
    previous_name: str | None = None
    fields: tuple[diff.FieldDiff, ...] = ()
    update: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    protect: bool = False
    leaves_live: bool = False
    wave: int = 0
    recovered: bool = False
    stale_agent_id: str | None = None
    moved_from: str | None = None


class HoldRule(StrEnum):
    """Why a change waits for a later pass instead of running in this one."""

    MASS_DELETE = "mass-delete"
    PROTECT = "protect"
    QUOTA = "quota"
    ROLLOUT_BUDGET = "rollout-budget"
    WINDOW = "window"


@dataclass(frozen=True)
class Held:
    """A change held back from this pass: the rule that holds it and the sentence that says why
    (shared by every change one breach of the rule holds)."""

    change: Change
    rule: HoldRule
    reason: str


@dataclass(frozen=True)
class Rollout:
    """The waves the replaces of one rollout scope run in (``Change.wave`` numbers them);
    ``keys`` are the agents it replaces.

    ``unavailable`` channels of the scope's ``size`` lacked a RUNNING agent when planned; each
    wave replaces at most ``max_unavailable - unavailable`` agents, then waits for them to be
    RUNNING (at most ``deadline_seconds``) and ``pause_seconds`` before the next. Each replace
    waits up to ``defer_seconds`` while its agent is talking.
    """

    scope: str
    project: str
    size: int
    max_unavailable: int
    unavailable: int
    waves: int
    pause_seconds: float
    deadline_seconds: float
    keys: tuple[str, ...] = ()
    defer_seconds: float = 0.0

    @property
    def replaces(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class Report:
    """A finding the plan will not act on, e.g. an unmanaged agent or one left stopped."""

    kind: ReportKind
    project: str
    message: str
    agent_id: str | None = None
    key: str | None = None
    name: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class QuotaCheck:
    """The peak of concurrent agents in one App ID during the apply, against its quota.

    Leaves run first and a replace leaves before it joins, so the peak is what is live now, less
    the deletes, plus the new joins (creates and recreates).
    """

    project: str
    limit: int
    live: int
    leaving: int
    joining: int

    @property
    def peak(self) -> int:
        return self.live - self.leaving + self.joining

    @property
    def ok(self) -> bool:
        return self.joining == 0 or self.peak <= self.limit


@dataclass(frozen=True)
class Plan:
    """Every change in apply order, the reports, and the quota check of each project.

    ``held`` are changes a rule keeps out of this pass (they are not in ``changes``);
    ``owned_by_project`` counts the running agents the state owns in each project;
    ``windows`` say where each scheduled agent stands, ``waiting`` the agents the quota cannot
    hold now, ``costs`` each project's running agents and estimated cost.
    """

    changes: tuple[Change, ...]
    reports: tuple[Report, ...] = ()
    quota: tuple[QuotaCheck, ...] = ()
    owned_live: int = 0
    held: tuple[Held, ...] = ()
    rollouts: tuple[Rollout, ...] = ()
    owned_by_project: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    windows: tuple[Window, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    costs: tuple[Cost, ...] = ()

    @property
    def refusals(self) -> tuple[str, ...]:
        """Why changes are held back, one sentence per breach, in the order of the holds."""
        return tuple(dict.fromkeys(held.reason for held in self.held))

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def counts(self) -> Mapping[Action, int]:
        """How many changes of each action, every action present (zero when none)."""
        found = Counter(change.action for change in self.changes)
        return {action: found.get(action, 0) for action in Action}


@dataclass(frozen=True)
class PlanPolicy:
    """Knobs of planning that are policy rather than fact."""

    renew_token_fraction: float = 0.25


DEFAULT_DELETE_FRACTION: Final = 0.5


@dataclass(frozen=True)
class SafetyLimits:
    """What the safety rules let through.

    ``max_delete_fraction`` (the flag) overrides each project's own (``delete_fractions``, from
    its manifest); a plan deleting every owned agent of a project is held back whatever the
    fraction, unless ``allow_mass_delete``.
    """

    allow_mass_delete: bool = False
    max_delete_fraction: float | None = None
    delete_fractions: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.max_delete_fraction is not None and not 0 <= self.max_delete_fraction <= 1:
            raise ValueError(f"max delete fraction must be 0 to 1 (got {self.max_delete_fraction})")

    def delete_fraction(self, project: str) -> float:
        if self.max_delete_fraction is not None:
            return self.max_delete_fraction
        return self.delete_fractions.get(project, DEFAULT_DELETE_FRACTION)
