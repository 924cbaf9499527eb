"""Build planner inputs from plain data: the golden cases' YAML and the property tests' strategies.

A case is a dict with ``projects``, ``desired`` (``schedule`` a list of ``{cron, duration,
timezone}``), ``state`` (records and intents), ``observed`` (live and ended agents per project),
``secrets`` (reference -> fingerprint), ``moved`` (the ``Moved`` entries, from and to) and
``now``. Records default to being in sync with the desired agent of the same key (or of the key
``like`` names); ``applied`` deep-merges changes onto that, so a case says only what differs.
Test support only: nothing here is asserted.

tests/ is not a package, so test files load this one with ``runpy.run_path`` (see ``CASEKIT``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from reconciler import observe
from reconciler.manifest.desired import DesiredAgent, DesiredFleet, Move, ProjectSpec
from reconciler.manifest.diagnostics import SourceLocation
from reconciler.manifest.fields import RestartPolicy
from reconciler.manifest.rollout import RolloutSpec
from reconciler.manifest.timing import as_timedelta
from reconciler.manifest.windows import WindowDocument, resolve
from reconciler.plan import Plan, PlanPolicy, SafetyLimits, diff, for_fleet, hold_back, make_plan
from reconciler.recurrence import Recurrence
from reconciler.state import AgentRecord, Intent, IntentAction, StateSnapshot

SOURCE = SourceLocation(file="fleet/agents.yaml", line=1)
CASES_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Inputs:
    """Everything ``make_plan`` takes, plus the safety limits of the case."""

    desired: DesiredFleet
    observed: observe.ObservedFleet
    state: StateSnapshot
    now: float
    fingerprints: Mapping[str, str]
    limits: SafetyLimits

    def made(self) -> Plan:
        """The plan as ``make_plan`` makes it, before the safety rules hold anything back."""
        return make_plan(
            self.desired,
            self.observed,
            self.state,
            now=self.now,
            policy=PlanPolicy(),
            fingerprints=self.fingerprints,
        )

    def plan(self) -> Plan:
        """The plan as apply runs it: what the safety rules hold back moved to ``held``."""
        return hold_back(self.made(), limits=for_fleet(self.limits, self.desired))

    def refusals(self, plan: Plan) -> tuple[str, ...]:
        return plan.refusals


def project(name: str, **overrides: Any) -> ProjectSpec:
    fields: dict[str, Any] = {
        "name": name,
        "app_id": "0de70a9e1c0de000000000000000a9e1",
        "customer_id": "demo-customer-id",
        "customer_secret": "${env:AGORA_CUSTOMER_SECRET}",
        "app_certificate": None,
        "region": None,
        "base_url": None,
        "max_concurrent_agents": 20,
        "name_prefix": "rc",
        "token_lifetime_seconds": 86_400,
        "source": SOURCE,
    }
    windows = overrides.pop("windows", ())
    fields["windows"] = tuple(
        resolve(WindowDocument.model_validate(window), index)
        for index, window in enumerate(windows)
    )
    fields.update(overrides)
    return ProjectSpec(**fields)


def agent(key: str, **overrides: Any) -> DesiredAgent:
    project_name, _, name = key.partition("/")
    uid = overrides.pop("agent_rtc_uid", "1001")
    properties = dict(overrides.pop("properties", {}))
    properties.setdefault("agent_rtc_uid", uid)
    properties.setdefault("remote_rtc_uids", ["2001"])
    fields: dict[str, Any] = {
        "key": key,
        "project": project_name,
        "name": name,
        "channel": overrides.pop("channel", name),
        "agent_rtc_uid": uid,
        "properties": MappingProxyType(properties),
        "token": None,
        "restart_policy": RestartPolicy(overrides.pop("restart_policy", "Always")),
        "schedule": tuple(
            Recurrence(
                cron=window["cron"],
                duration=as_timedelta(window["duration"]),
                time_zone=window.get("timezone", "UTC"),
            )
            for window in overrides.pop("schedule", ())
        ),
        "protect": False,
        "archive_history": None,
        "source": SOURCE,
    }
    if isinstance(overrides.get("rollout"), Mapping):
        fields["rollout"] = RolloutSpec(**overrides.pop("rollout"))
    fields.update(overrides)
    return DesiredAgent(**fields)


def record(
    key: str,
    *,
    like: DesiredAgent | None,
    fingerprints: Mapping[str, str],
    applied: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> AgentRecord:
    """A record in sync with ``like`` (when given), with ``applied`` deep-merged onto its view."""
    project_name = key.partition("/")[0]
    generation = int(overrides.pop("generation", 1))
    protect = bool(overrides.pop("protect", like.protect if like is not None else False))
    if like is not None:
        view = diff.desired_view(like, fingerprints=fingerprints)
        stored = diff.applied_properties(view, protect=protect)
        channel, uid = like.channel, like.agent_rtc_uid
    else:
        stored = {"$reconciler": {"protect": protect}}
        channel, uid = overrides.pop("channel", "old"), "1001"
    stored = _merged(stored, applied or {})
    fields: dict[str, Any] = {
        "key": key,
        "project": project_name,
        "remote_name": f"rc-{key.replace('/', '--')}-g{generation}",
        "generation": generation,
        "agent_id": f"A-{key.partition('/')[2]}",
        "channel": channel,
        "agent_rtc_uid": uid,
        "applied_properties": stored,
        "spec_hash": "sha256:test",
        "token_expires_at": None,
        "created_at": 0.0,
        "updated_at": 0.0,
    }
    fields.update(overrides)
    return AgentRecord(**fields)


def build(case: Mapping[str, Any]) -> Inputs:
    """The planner inputs a case describes."""
    fingerprints = dict(case.get("secrets", {}))
    projects = {
        name: project(name, **(spec or {})) for name, spec in case.get("projects", {}).items()
    }
    agents = {item["key"]: agent(**item) for item in case.get("desired", [])}
    state_data = case.get("state", {})
    records = {}
    for item in state_data.get("records", []):
        fields = dict(item)
        key = fields.pop("key")
        like = agents.get(fields.pop("like", key))
        records[key] = record(key, like=like, fingerprints=fingerprints, **fields)
    intents = tuple(
        Intent(
            id=f"intent-{index}",
            key=item["key"],
            project=item["key"].partition("/")[0],
            action=IntentAction(item.get("action", "join")),
            remote_name=item["remote_name"],
            agent_id=item.get("agent_id"),
            channel=item.get("channel", "lobby"),
            created_at=0.0,
        )
        for index, item in enumerate(state_data.get("intents", []))
    )
    state = StateSnapshot(
        lineage="lineage-1",
        serial=int(state_data.get("serial", 1)),
        records=MappingProxyType(dict(sorted(records.items()))),
        intents=intents,
        generations=dict(state_data.get("generations", {})),
    )
    return Inputs(
        desired=DesiredFleet(
            projects=MappingProxyType(dict(sorted(projects.items()))),
            agents=MappingProxyType(dict(sorted(agents.items()))),
            moves=tuple(
                Move(
                    from_key=item["from"],
                    to_key=item["to"],
                    source=SourceLocation(file="fleet/moved.yaml", line=index + 1),
                )
                for index, item in enumerate(case.get("moved", []))
            ),
        ),
        observed=observed(case.get("observed", {}), state=state, projects=projects),
        state=state,
        now=float(case.get("now", 1_700_000_000)),
        fingerprints=fingerprints,
        limits=SafetyLimits(
            allow_mass_delete=bool(case.get("allow_mass_delete", False)),
            max_delete_fraction=case.get("max_delete_fraction"),
        ),
    )


def observed(
    data: Mapping[str, Any], *, state: StateSnapshot, projects: Mapping[str, ProjectSpec]
) -> observe.ObservedFleet:
    """Live and ended agents per project, classified as ``observe`` would."""
    owned = {r.agent_id: r.remote_name for r in state.records.values() if r.agent_id}
    fleet = {}
    for name in sorted(set(data) | set(projects)):
        spec = data.get(name) or {}
        prefix = projects[name].name_prefix if name in projects else "rc"
        live = {}
        for item in spec.get("live", []):
            agent_id = item["agent_id"]
            agent_name = owned.get(agent_id, item.get("name"))
            live[agent_id] = observe.LiveAgent(
                agent_id=agent_id,
                status=item.get("status", "RUNNING"),
                start_ts=item.get("start_ts", 1_699_990_000),
                name=agent_name,
                ownership=observe.classify(
                    agent_id=agent_id, name=agent_name, owned=owned, prefix=prefix
                ),
            )
        ended = {
            item["agent_id"]: observe.EndedAgent(
                agent_id=item["agent_id"], status=item["status"], message=item.get("message")
            )
            for item in spec.get("ended", [])
        }
        fleet[name] = observe.ObservedProject(
            project=name,
            live=MappingProxyType(dict(sorted(live.items()))),
            ended=MappingProxyType(dict(sorted(ended.items()))),
            clock_offset=spec.get("clock_offset", 0),
        )
    return observe.ObservedFleet(projects=MappingProxyType(fleet))


def _merged(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` deep-merged in; a None in ``patch`` removes the key."""
    out = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
