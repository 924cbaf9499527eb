"""``make_plan``: desired, observed and state in, a ``Plan`` out; pure and deterministic.

No I/O, no clock (``now`` is passed in), no logging, no globals (design §4 step 3). Equal
inputs give equal plans, in the order apply runs them: moves (the manifests' renames, which
the rest of the plan is made after, ``moves``), deletes and stops (to free quota), recreates,
replaces (in rollout waves, ``waves``), creates, adopts, updates, token renewals, each sorted by
key; the replaces and deletes a change window holds back (``windows``) are in ``held``.

A desired agent runs only if ``fitting`` selects it (in its schedule's window, and held by the
quota by priority); the owned agent of one not selected gets a scheduled stop.

Ownership is the first rule: only agents a state record owns are updated, replaced or deleted,
and only an agent carrying the exact name the state expects for a desired key is adopted — or,
for a desired key with no live owned agent (the state was lost, emptied or is stale), an agent
carrying this fleet's name for that key in the digest form (``recovery``): adopted when its
digest is the manifests', replaced otherwise. Everything else live is reported and never
touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from reconciler import naming
from reconciler.agora import wire
from reconciler.manifest.desired import DesiredAgent, DesiredFleet, ProjectSpec
from reconciler.observe.fleet import LiveAgent, ObservedFleet, ObservedProject, Ownership
from reconciler.plan import diff, fitting, moves, owned, recovery, waves, windows
from reconciler.plan.model import (
    Action,
    Change,
    Plan,
    PlanPolicy,
    QuotaCheck,
    Report,
    ReportKind,
)
from reconciler.plan.renewal import mints_token
from reconciler.state import AgentRecord, IntentAction, StateSnapshot

_ORDER: Final = {action: index for index, action in enumerate(Action)}
_JOINS: Final = frozenset({Action.CREATE, Action.RECREATE})
_LEAVES: Final = frozenset({Action.DELETE, Action.STOP})


def make_plan(
    desired: DesiredFleet,
    observed: ObservedFleet,
    state: StateSnapshot,
    *,
    now: float,
    policy: PlanPolicy,
    fingerprints: Mapping[str, str],
) -> Plan:
    """Compare desired, observed and state, and say what to do; pure and deterministic.

    ``fingerprints`` maps each secret reference string of the manifests to the keyed fingerprint
    of its value, so secrets are compared without being seen.
    """
    state, moved = moves.follow(desired, state)
    planner = _Planner(
        desired=desired, observed=observed, state=state, now=now, fingerprints=fingerprints
    )
    for change in moved:
        planner.add(change)
    chosen = fitting.select(desired, observed, state, now=now)
    for key in sorted(desired.agents):
        agent = desired.agents[key]
        if key not in chosen.run:
            # Outside its schedule or waiting for quota: only an owned agent is made to leave.
            if key in state.records:
                planner.plan_removed(state.records[key], stop=chosen.stops[key])
            continue
        planner.plan_desired(
            agent,
            project=desired.projects[agent.project],
            view=planner.views.of(agent),
            now=now,
            policy=policy,
        )
    for key, record in sorted(state.records.items()):
        if key not in desired.agents:
            planner.plan_removed(record)
    return fitting.completed(planner.finish(), chosen, desired, observed, state, now=now)


_NOTHING: Final[Mapping[str, Any]] = MappingProxyType({})


class _Planner:
    """The bookkeeping of one ``make_plan`` call; lives only inside it."""

    def __init__(
        self,
        *,
        desired: DesiredFleet,
        observed: ObservedFleet,
        state: StateSnapshot,
        now: float,
        fingerprints: Mapping[str, str],
    ) -> None:
        self._desired = desired
        self._now = now
        self._observed = observed
        self._changes: list[Change] = []
        self._reports: list[Report] = []
        self._claimed: set[str] = {
            r.agent_id for r in state.records.values() if r.agent_id is not None
        }
        self._owned_by_project = dict(
            sorted(
                Counter(
                    r.project
                    for r in state.records.values()
                    if r.agent_id is not None and r.agent_id in self._seen(r.project).live
                ).items()
            )
        )
        self._records = state.records
        self._state = state
        self._old_keys = moves.old_keys(desired)
        self._by_name: dict[str, dict[str, list[LiveAgent]]] = {}
        self._by_slug: dict[str, Mapping[str, Sequence[recovery.Candidate]]] = {}
        self._pending: dict[str, list[str]] = {}
        # The agents' views, and the bare ones (no fingerprints) their spec digests are made of.
        self.views = diff.Views(fingerprints)
        self._bare = diff.Views({})
        self._digests: dict[str, str] = {}
        for intent in state.intents:
            if intent.action is IntentAction.JOIN:
                self._pending.setdefault(intent.key, []).append(intent.remote_name)

    def plan_desired(
        self,
        agent: DesiredAgent,
        *,
        project: ProjectSpec,
        view: diff.View,
        now: float,
        policy: PlanPolicy,
    ) -> None:
        record = self._records.get(agent.key)
        if record is not None and record.agent_id is not None:
            seen = self._seen(agent.project)
            ended = record.agent_id not in seen.live
            if ended and self._recover(agent, project=project, view=view, stale=record.agent_id):
                return
            outcome = owned.plan_owned(
                agent,
                record=record,
                seen=seen,
                view=view,
                fresh=lambda: self._fresh_name(project, agent),
            )
            if isinstance(outcome, Report):
                self._reports.append(outcome)
            change = self.add(outcome) if isinstance(outcome, Change) else None
            if change is None or (change.action is Action.UPDATE and "token" not in change.update):
                renewal = owned.plan_token(
                    agent, record=record, project=project, seen=seen, now=now, policy=policy
                )
                if renewal is not None:
                    self.add(renewal)
            return
        expected = self._expected_names(agent.key, record)
        found = self._find_by_name(agent.project, expected)
        if found is not None:
            self._add_adopt(agent.key, agent.project, live=found, prefix=project.name_prefix)
            return
        if self._recover(agent, project=project, view=view, stale=None):
            return
        if expected:
            name = expected[0]
            parsed = naming.parse(name, prefix=project.name_prefix)
            generation = parsed.generation if parsed else (record.generation if record else 1)
            reason = "retrying an unconfirmed join under the same name"
        else:
            name, generation, note = self._fresh_name(project, agent)
            reason = "not in the state" + note
        self.add(
            Change(
                action=Action.CREATE,
                key=agent.key,
                project=agent.project,
                reason=reason,
                remote_name=name,
                generation=generation,
                fields=self.views.leaves(view),
                protect=agent.protect,
            )
        )

    def plan_removed(self, record: AgentRecord, *, stop: str | None = None) -> None:
        """Make the record's agent leave: deleted, or with ``stop`` (why) a scheduled stop."""
        if record.project not in self._desired.projects:
            self._reports.append(
                Report(
                    kind=ReportKind.UNREACHABLE,
                    project=record.project,
                    key=record.key,
                    agent_id=record.agent_id,
                    name=record.remote_name,
                    message=(
                        f"project {record.project} is no longer in the manifests, so its agent "
                        "cannot be reached; it is left as it is"
                    ),
                )
            )
            return
        agent_id = record.agent_id
        if agent_id is None:
            found = self._find_by_name(record.project, (record.remote_name,))
            agent_id = found.agent_id if found is not None else None
            if found is not None:
                self._claimed.add(found.agent_id)
        live = agent_id is not None and agent_id in self._seen(record.project).live
        reason = stop or "no longer in the manifests"
        if not live:
            reason += "; its agent has already ended, so only the record goes"
        self.add(
            Change(
                action=Action.DELETE if stop is None else Action.STOP,
                key=record.key,
                project=record.project,
                reason=reason,
                remote_name=record.remote_name,
                generation=record.generation,
                agent_id=agent_id,
                protect=diff.recorded_protect(record),
                leaves_live=live,
            )
        )

    def finish(self) -> Plan:
        for project, seen in sorted(self._observed.projects.items()):
            for live in seen.live.values():
                if live.agent_id not in self._claimed:
                    self._reports.append(_leftover_report(project, live))
        # A change window's hold comes first: what it holds takes no rollout budget.
        allowed, windowed = windows.hold_windowed(
            sorted(self._changes, key=lambda c: (_ORDER[c.action], c.key)),
            desired=self._desired,
            now=self._now,
        )
        changes, paced, rollouts = waves.plan_waves(
            allowed, desired=self._desired, running=self._running
        )
        reports = sorted(
            self._reports, key=lambda r: (r.project, r.kind, r.agent_id or "", r.key or "")
        )
        return Plan(
            changes=tuple(changes),
            reports=tuple(reports),
            quota=self._quota(changes),
            owned_live=sum(self._owned_by_project.values()),
            owned_by_project=MappingProxyType(dict(sorted(self._owned_by_project.items()))),
            held=(*windowed, *paced),
            rollouts=rollouts,
        )

    def _add_adopt(self, key: str, project: str, *, live: LiveAgent, prefix: str) -> None:
        assert live.name is not None  # found by name
        parsed = naming.parse(live.name, prefix=prefix)
        self._claimed.add(live.agent_id)
        self.add(
            Change(
                action=Action.ADOPT,
                key=key,
                project=project,
                reason="live under the name of an unconfirmed join, so it is ours",
                remote_name=live.name,
                generation=parsed.generation if parsed else 1,
                agent_id=live.agent_id,
            )
        )

    def _recover(
        self, agent: DesiredAgent, *, project: ProjectSpec, view: diff.View, stale: str | None
    ) -> bool:
        """Take over the live agent that carries this fleet's name for the key, if one does.

        ``stale`` is the ended agent the key's record still names, if any. The agent taken over
        counts as owned for the mass-delete rule, so a lost state cannot replace a whole fleet
        unasked.
        """
        slugged = self._slugged(project)
        digest = self._digest(agent)
        found = None
        # A name made before a declared rename carries the old key's slug.
        for key in (agent.key, *self._old_keys.get(agent.key, ())):
            slug = naming.slug(key, prefix=project.name_prefix)
            found = recovery.pick(slugged.get(slug, ()), claimed=self._claimed, digest=digest)
            if found is not None:
                break
        if found is None:
            return False
        self._claimed.add(found.live.agent_id)
        self._owned_by_project[project.name] = self._owned_by_project.get(project.name, 0) + 1
        if found.parsed.digest == digest:
            mints = mints_token(agent, project=project)
            self.add(recovery.adopt(agent, found, view=view, mints_token=mints, stale=stale))
        else:
            fresh = self._fresh_name(project, agent)
            self.add(recovery.replace(agent, found, view=view, fresh=fresh, stale=stale))
        return True

    def _slugged(self, project: ProjectSpec) -> Mapping[str, Sequence[recovery.Candidate]]:
        """The project's live agents with our prefix by slug, indexed once per plan."""
        if project.name not in self._by_slug:
            seen = self._seen(project.name)
            self._by_slug[project.name] = recovery.by_slug(seen, prefix=project.name_prefix)
        return self._by_slug[project.name]

    def add(self, change: Change) -> Change:
        self._changes.append(change)
        return change

    def _fresh_name(self, project: ProjectSpec, agent: DesiredAgent) -> tuple[str, int, str]:
        """A never-used name: the first generation past every one the key used, that no live
        agent of the key holds (in any name form); carrying the agent's spec digest; with a note
        for the plan's reason when live agents made it skip some.

        Names are single-use: a name used before may be refused for good (API notes §9), and
        joining under a name an agent we do not own already holds would end in a 409 that,
        resolved by name, would adopt an agent the state never owned. A generation stays one
        agent's, whatever its digest, so that recovery's newest generation means the newest.
        """
        key = agent.key
        record = self._records.get(key)
        used = max(self._state.last_generation(key), record.generation if record else 0)
        slug = naming.slug(key, prefix=project.name_prefix)
        held = {c.parsed.generation for c in self._slugged(project).get(slug, ())}
        generation = used + 1
        while generation in held:
            generation += 1
        name = naming.remote_name(
            prefix=project.name_prefix,
            key=key,
            generation=generation,
            digest=self._digest(agent),
        )
        return name, generation, _skipped(generation, after=used)

    def _digest(self, agent: DesiredAgent) -> str:
        """``diff.spec_digest`` of ``agent``, found once a plan (recovery and naming both ask)."""
        if agent.key not in self._digests:
            self._digests[agent.key] = diff.spec_digest(agent, views=self._bare)
        return self._digests[agent.key]

    def _live_names(self, project: str) -> Mapping[str, list[LiveAgent]]:
        """Live agents by name, each name's agents in id order so that ties break the same way."""
        if project not in self._by_name:
            index: dict[str, list[LiveAgent]] = {}
            for _, live in sorted(self._seen(project).live.items()):
                if live.name is not None:
                    index.setdefault(live.name, []).append(live)
            self._by_name[project] = index
        return self._by_name[project]

    def _expected_names(self, key: str, record: AgentRecord | None) -> tuple[str, ...]:
        """Names the state expects for a key whose join was never confirmed, newest first."""
        names = list(reversed(self._pending.get(key, [])))
        if record is not None:
            names.insert(0, record.remote_name)
        return tuple(dict.fromkeys(names))

    def _find_by_name(self, project: str, names: Iterable[str]) -> LiveAgent | None:
        """The first unclaimed live agent of the project carrying one of ``names``."""
        wanted = tuple(names)
        if not wanted:
            return None
        index = self._live_names(project)
        for name in wanted:
            for live in index.get(name, ()):
                if live.agent_id not in self._claimed:
                    return live
        return None

    def _running(self, agent: DesiredAgent) -> bool | None:
        """Whether the agent the state owns for ``agent`` is live and RUNNING; None when the
        state owns none (a channel never served)."""
        record = self._records.get(agent.key)
        if record is None:
            return None
        if record.agent_id is None:
            return False
        live = self._seen(agent.project).live.get(record.agent_id)
        return live is not None and live.status == wire.AgentStatus.RUNNING

    def _seen(self, project: str) -> ObservedProject:
        seen = self._observed.projects.get(project)
        if seen is None:
            return ObservedProject(project=project, live=_NOTHING, ended=_NOTHING)
        return seen

    def _quota(self, changes: Sequence[Change]) -> tuple[QuotaCheck, ...]:
        checks = []
        for name, project in sorted(self._desired.projects.items()):
            mine = [c for c in changes if c.project == name]
            checks.append(
                QuotaCheck(
                    project=name,
                    limit=project.max_concurrent_agents,
                    live=len(self._seen(name).live),
                    leaving=sum(1 for c in mine if c.action in _LEAVES and c.leaves_live),
                    joining=sum(1 for c in mine if c.action in _JOINS),
                )
            )
        return tuple(checks)


def _skipped(generation: int, *, after: int) -> str:
    if generation == after + 1:
        return ""
    return f"; generation {generation}, since agents the state does not own hold the names before"


def _leftover_report(project: str, live: LiveAgent) -> Report:
    if live.ownership is Ownership.UNMANAGED:
        kind = ReportKind.UNMANAGED
        message = "not managed by this reconciler; never touched"
    else:
        kind = ReportKind.OURS_WITHOUT_RECORD
        message = "carries our name prefix but no state record owns it; never touched"
    return Report(
        kind=kind,
        project=project,
        agent_id=live.agent_id,
        name=live.name,
        status=live.status,
        message=message,
    )
