"""Planner properties over generated fleets: deterministic, order-blind, owner-only, convergent."""

from __future__ import annotations

import dataclasses
import runpy
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import naming, observe, render
from reconciler.manifest.rollout import RolloutSpec
from reconciler.plan import Action, Change, Plan, diff, make_plan
from reconciler.state import AgentRecord, StateSnapshot

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)
NOW = 1_700_000_000.0
KEYS = tuple(f"prod/a{index}" for index in range(6))
SECRETS = {"${env:K1}": "1111111111111111", "${env:K2}": "2222222222222222"}
_EXPIRIES = (None, NOW - 60, NOW + 3600, NOW + 80_000)
_DRIFTS = (
    {},
    {},
    {"tts": {"vendor": "other"}},
    {"llm": {"params": {"model": "m0"}}},
    {"llm": {"api_key": "3333333333333333"}},
    {"token": "4444444444444444"},
)


@st.composite
def _properties(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "llm": {
            "params": {"model": draw(st.sampled_from(["m1", "m2"]))},
            "api_key": draw(st.sampled_from(sorted(SECRETS))),
        },
        "tts": {"vendor": draw(st.sampled_from(["microsoft", "elevenlabs"]))},
    }


@st.composite
def _desired(draw: st.DrawFn, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "channel": draw(st.sampled_from(["c1", "c2"])),
        "restart_policy": draw(st.sampled_from(["Always", "OnFailure", "Never"])),
        "protect": draw(st.booleans()),
        "token": draw(st.sampled_from([None, "${env:K2}"])),
        "properties": draw(_properties()),
        # Pacing is tested on its own: here one apply must converge, so no budget holds back.
        "rollout": ALL_AT_ONCE,
    }


ALL_AT_ONCE = RolloutSpec(scope="", max_unavailable="100%")


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """A random fleet: desired agents, records in any relation to them, and live agents."""
    desired = [draw(_desired(key)) for key in draw(st.lists(st.sampled_from(KEYS), unique=True))]
    wanted = {item["key"]: item for item in desired}
    records, live, ended, intents = [], [], [], []
    for key in KEYS:
        role = draw(st.sampled_from(["record", "record", "unconfirmed", "intent", "none"]))
        short = key.partition("/")[2]
        if role == "record":
            generation = draw(st.integers(min_value=1, max_value=3))
            agent_id = f"A-{short}"
            like = wanted.get(key, {})
            records.append(
                {
                    "key": key,
                    "generation": generation,
                    "agent_id": agent_id,
                    "channel": draw(st.sampled_from([like.get("channel", "c1"), "c2"])),
                    "protect": draw(st.booleans()),
                    "token_expires_at": draw(st.sampled_from(_EXPIRIES)),
                    "applied": draw(st.sampled_from(_DRIFTS)),
                }
            )
            fate = draw(st.sampled_from(["live", "live", "live", "STOPPED", "FAILED", "GONE"]))
            if fate == "live":
                live.append({"agent_id": agent_id})
            else:
                ended.append({"agent_id": agent_id, "status": fate, "message": "bye"})
        elif role == "unconfirmed":
            generation = draw(st.integers(min_value=1, max_value=3))
            records.append({"key": key, "generation": generation, "agent_id": None})
            if draw(st.booleans()):
                live.append({"agent_id": f"N-{short}", "name": _name(key, generation)})
        elif role == "intent":
            intents.append({"key": key, "action": "join", "remote_name": _name(key, 1)})
            if draw(st.booleans()):
                live.append({"agent_id": f"I-{short}", "name": _name(key, 1)})
    strangers = draw(
        st.lists(st.sampled_from(["someone", *(_name(k, 1) for k in KEYS)]), max_size=3)
    )
    live.extend({"agent_id": f"U{index}", "name": name} for index, name in enumerate(strangers))
    with_certificate = draw(st.booleans())
    return {
        "now": NOW,
        "projects": {
            "prod": {
                "app_certificate": "${env:CERT}" if with_certificate else None,
                "max_concurrent_agents": 100,
            }
        },
        "secrets": SECRETS,
        "desired": desired,
        "state": {"records": records, "intents": intents},
        "observed": {"prod": {"live": live, "ended": ended}},
    }


@st.composite
def recovering_cases(draw: st.DrawFn) -> dict[str, Any]:
    """A random fleet as ``cases`` draws it, plus live agents carrying this fleet's digest
    names, for desired keys or not, with the manifests' digest or another one."""
    case = draw(cases())
    wanted = {item["key"]: item for item in case["desired"]}
    for index, key in enumerate(draw(st.lists(st.sampled_from(KEYS), max_size=4))):
        matches = key in wanted and draw(st.booleans())
        digest = diff.spec_digest(casekit.agent(**wanted[key])) if matches else "0badc0de"
        generation = draw(st.integers(min_value=1, max_value=4))
        name = naming.remote_name(prefix="rc", key=key, generation=generation, digest=digest)
        case["observed"]["prod"]["live"].append({"agent_id": f"R{index}", "name": name})
    return case


def _name(key: str, generation: int) -> str:
    return naming.remote_name(prefix="rc", key=key, generation=generation)


def _plan(inputs: Any) -> Plan:
    plan: Plan = inputs.made()
    return plan


@settings(max_examples=150, deadline=None)
@given(case=cases())
def test_planning_is_deterministic(case: dict[str, Any]) -> None:
    """The same inputs give equal plans and byte-identical renderings."""
    one, two = _plan(casekit.build(case)), _plan(casekit.build(case))
    assert one == two
    assert render.render_json(one) == render.render_json(two)
    assert render.render_text(one) == render.render_text(two)


@settings(max_examples=150, deadline=None)
@given(case=cases())
def test_plan_does_not_depend_on_input_order(case: dict[str, Any]) -> None:
    """Reversing every mapping's iteration order leaves the plan unchanged."""
    inputs = casekit.build(case)
    reversed_inputs = dataclasses.replace(
        inputs,
        desired=dataclasses.replace(
            inputs.desired,
            agents=_reversed(inputs.desired.agents),
            projects=_reversed(inputs.desired.projects),
        ),
        state=dataclasses.replace(inputs.state, records=_reversed(inputs.state.records)),
        observed=observe.ObservedFleet(
            projects=_reversed(
                {
                    name: dataclasses.replace(
                        seen, live=_reversed(seen.live), ended=_reversed(seen.ended)
                    )
                    for name, seen in inputs.observed.projects.items()
                }
            )
        ),
    )
    assert _plan(reversed_inputs) == _plan(inputs)


@settings(max_examples=200, deadline=None)
@given(case=cases())
def test_unowned_agents_are_never_touched(case: dict[str, Any]) -> None:
    """Only record-owned agents are acted on; adoption needs the exact name the state expects."""
    inputs = casekit.build(case)
    plan = _plan(inputs)
    records = inputs.state.records
    owned = {r.agent_id for r in records.values() if r.agent_id}
    by_name = {r.remote_name: r for r in records.values() if r.agent_id is None}
    pending = {(i.key, i.remote_name) for i in inputs.state.intents}
    live = inputs.observed.projects["prod"].live
    for change in plan.changes:
        if change.agent_id is None or change.action in (Action.RECREATE,):
            continue
        agent = live.get(change.agent_id)
        if change.agent_id in owned:
            continue
        assert agent is not None
        if change.action is Action.ADOPT:
            expected = (change.key, agent.name) in pending or (
                agent.name in by_name and by_name[agent.name].key == change.key
            )
            assert expected, change
        else:
            assert change.action is Action.DELETE
            assert agent.name in by_name
            assert by_name[agent.name].key == change.key
    joined = {
        c.remote_name
        for c in plan.changes
        if c.action in (Action.CREATE, Action.REPLACE, Action.RECREATE)
    }
    held = {agent.name for agent in live.values() if agent.agent_id not in owned}
    retried = {name for _, name in pending} | set(by_name)
    assert not (joined & held - retried)


@settings(max_examples=200, deadline=None)
@given(case=recovering_cases())
def test_only_this_fleets_names_for_desired_keys_are_recovered(case: dict[str, Any]) -> None:
    """Beyond what the state owns or expects, the plan takes over only an agent that carries
    this fleet's digest name for a desired key with no live owned agent: adopted when the digest
    is the manifests', replaced otherwise; every other agent stays untouched and reported."""
    inputs = casekit.build(case)
    plan = _plan(inputs)
    records = inputs.state.records
    owned = {r.agent_id for r in records.values() if r.agent_id}
    live = inputs.observed.projects["prod"].live
    takes = (Action.CREATE, Action.RECREATE, Action.REPLACE, Action.ADOPT)
    keys = [change.key for change in plan.changes if change.action in takes]
    assert len(keys) == len(set(keys)), "two agents for one key"
    acted = {change.agent_id for change in plan.changes if change.agent_id}
    for change in plan.changes:
        if not change.recovered:
            assert (
                change.agent_id is None
                or change.agent_id in owned
                or not (change.agent_id.startswith("R"))
            ), change
            continue
        agent = live[change.agent_id or ""]
        parsed = naming.parse(agent.name or "", prefix="rc")
        assert parsed is not None
        assert parsed.digest is not None
        assert parsed.slug == naming.slug(change.key, prefix="rc")
        desired = inputs.desired.agents[change.key]
        record = records.get(change.key)
        assert record is None or record.agent_id is None or record.agent_id not in live
        matches = parsed.digest == diff.spec_digest(desired)
        assert change.action is (Action.ADOPT if matches else Action.REPLACE), change
    reported = {report.agent_id for report in plan.reports}
    for agent_id in live:
        assert agent_id in owned or agent_id in acted or agent_id in reported


@settings(max_examples=200, deadline=None)
@given(case=recovering_cases())
def test_a_recovering_plan_applied_then_planned_again_changes_nothing(
    case: dict[str, Any],
) -> None:
    """After an in-memory apply of a plan that recovers agents, the next plan is empty."""
    _assert_converges(case)


@settings(max_examples=200, deadline=None)
@given(case=cases())
def test_applying_the_plan_then_planning_again_changes_nothing(case: dict[str, Any]) -> None:
    """After an in-memory apply of the plan, the next plan is empty."""
    _assert_converges(case)


def _assert_converges(case: dict[str, Any]) -> None:
    inputs = casekit.build(case)
    plan = _plan(inputs)
    state, observed = _apply(plan, inputs)
    again = make_plan(
        inputs.desired,
        observed,
        state,
        now=inputs.now,
        policy=casekit.PlanPolicy(),
        fingerprints=inputs.fingerprints,
    )
    assert again.changes == (), render.render_text(again)


def _reversed(mapping: Any) -> MappingProxyType[Any, Any]:
    return MappingProxyType(dict(reversed(list(mapping.items()))))


def _apply(plan: Plan, inputs: Any) -> tuple[StateSnapshot, observe.ObservedFleet]:
    """What a perfect apply would leave: Agora's agents and the state records, transformed."""
    records: dict[str, AgentRecord] = dict(inputs.state.records)
    intents = list(inputs.state.intents)
    seen = inputs.observed.projects["prod"]
    live = dict(seen.live)
    project = inputs.desired.projects["prod"]
    for change in plan.changes:
        if change.action in (Action.DELETE, Action.REPLACE) and change.agent_id is not None:
            live.pop(change.agent_id, None)
        if change.action is Action.DELETE:
            records.pop(change.key)
            continue
        agent_id = (
            _joined(change, live)
            if change.action in (Action.CREATE, Action.REPLACE, Action.RECREATE)
            else change.agent_id
        )
        previous = records.get(change.key)
        records[change.key] = _record(
            change, inputs=inputs, agent_id=agent_id, previous=previous, project=project
        )
        intents = [i for i in intents if i.key != change.key]
    state = dataclasses.replace(
        inputs.state,
        records=MappingProxyType(dict(sorted(records.items()))),
        intents=tuple(intents),
    )
    owned = {r.agent_id for r in records.values()}
    fresh = {
        agent_id: dataclasses.replace(
            agent,
            ownership=observe.classify(
                agent_id=agent_id, name=agent.name, owned=owned, prefix="rc"
            ),
        )
        for agent_id, agent in live.items()
    }
    return state, observe.ObservedFleet(
        projects=MappingProxyType({"prod": dataclasses.replace(seen, live=MappingProxyType(fresh))})
    )


def _joined(change: Change, live: dict[str, observe.LiveAgent]) -> str:
    agent_id = f"J-{change.remote_name}"
    live[agent_id] = observe.LiveAgent(
        agent_id=agent_id,
        status="RUNNING",
        start_ts=int(NOW),
        name=change.remote_name,
        ownership=observe.Ownership.OWNED,
    )
    return agent_id


def _record(
    change: Change, *, inputs: Any, agent_id: str | None, previous: AgentRecord | None, project: Any
) -> AgentRecord:
    agent = inputs.desired.agents[change.key]
    view = diff.desired_view(agent, fingerprints=inputs.fingerprints)
    minted = agent.token is None and project.app_certificate is not None
    expires = NOW + project.token_lifetime_seconds if minted else None
    if change.action in (Action.UPDATE,) and previous is not None:
        expires = previous.token_expires_at if minted and "token" not in change.update else expires
    return AgentRecord(
        key=change.key,
        project=change.project,
        remote_name=change.remote_name,
        generation=change.generation,
        agent_id=agent_id,
        channel=agent.channel,
        agent_rtc_uid=agent.agent_rtc_uid,
        applied_properties=diff.applied_properties(view, protect=agent.protect),
        spec_hash=diff.spec_hash(view),
        token_expires_at=expires,
        created_at=NOW,
        updated_at=NOW,
    )
