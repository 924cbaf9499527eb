"""The safety rules hold back mass deletes, touching protected agents and breaking the quota,
and only those changes."""

from __future__ import annotations

import dataclasses
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from reconciler.errors import UnsafePlanError
from reconciler.plan import HoldRule, SafetyLimits, check_safety, hold_back

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)


def _fleet(owned: int, kept: int) -> dict[str, object]:
    keys = [f"prod/a{index}" for index in range(owned)]
    return {
        "projects": {"prod": {}},
        "desired": [{"key": key} for key in keys[:kept]],
        "state": {"records": [{"key": key} for key in keys]},
        "observed": {"prod": {"live": [{"agent_id": f"A-a{index}"} for index in range(owned)]}},
    }


@pytest.mark.parametrize(
    ("owned", "kept", "refused"),
    [(2, 1, False), (4, 2, False), (3, 1, True), (1, 0, True), (5, 5, False), (0, 0, False)],
)
def test_mass_delete_threshold(owned: int, kept: int, refused: bool) -> None:
    """Leaving more than half of the owned agents, or all of them, is refused; half is not."""
    inputs = casekit.build(_fleet(owned, kept))
    plan = inputs.made()
    if refused:
        with pytest.raises(UnsafePlanError, match="--allow-mass-delete"):
            check_safety(plan, limits=SafetyLimits())
    else:
        check_safety(plan, limits=SafetyLimits())
    check_safety(plan, limits=SafetyLimits(allow_mass_delete=True))


def test_replacing_every_agent_is_not_a_mass_delete() -> None:
    """A replace leaves a successor behind: replacing the whole fleet is paced, not refused."""
    case = _fleet(2, 2)
    case["state"] = {"records": [{"key": key, "channel": "old"} for key in ("prod/a0", "prod/a1")]}
    plan = casekit.build(case).made()
    assert [str(c.action) for c in plan.changes] == ["replace", "replace"]
    check_safety(plan, limits=SafetyLimits())


@pytest.mark.parametrize(
    ("fraction", "owned", "kept", "refused"),
    [
        (0.25, 4, 2, True),
        (0.75, 4, 2, False),
        (1.0, 4, 1, False),
        (1.0, 2, 0, True),
        (0.0, 3, 2, True),
    ],
)
def test_the_delete_fraction_is_configurable(
    fraction: float, owned: int, kept: int, refused: bool
) -> None:
    """--max-delete-fraction moves the threshold; deleting all owned agents is always held."""
    plan = casekit.build(_fleet(owned, kept)).made()
    held = hold_back(plan, limits=SafetyLimits(max_delete_fraction=fraction)).held
    assert bool(held) is refused


def test_a_project_setting_sets_the_fraction_and_the_flag_overrides_it() -> None:
    """A Project's maxDeleteFraction applies to its own agents; the flag wins over it."""
    case = _fleet(4, 2)
    case["projects"] = {"prod": {"max_delete_fraction": 0.75}}
    inputs = casekit.build(case)
    assert not inputs.plan().held
    stricter = casekit.build({**case, "max_delete_fraction": 0.25})
    assert [str(h.rule) for h in stricter.plan().held] == ["mass-delete", "mass-delete"]


def test_each_project_is_counted_on_its_own() -> None:
    """Deleting the only agent of one project is held even when the fleet has many more."""
    case = _fleet(4, 4)
    case["projects"] = {"prod": {}, "lab": {}}
    case["state"]["records"].append({"key": "lab/solo"})
    case["observed"]["lab"] = {"live": [{"agent_id": "A-solo"}]}
    held = casekit.build(case).plan().held
    assert [(h.rule, h.change.key) for h in held] == [(HoldRule.MASS_DELETE, "lab/solo")]


def test_a_hold_keeps_back_only_what_it_is_about() -> None:
    """With a mass delete held back, a failed agent is still recreated and a new one created."""
    case = _fleet(3, 1)
    case["desired"].append({"key": "prod/new"})
    case["observed"] = {
        "prod": {
            "live": [{"agent_id": "A-a1"}, {"agent_id": "A-a2"}],
            "ended": [{"agent_id": "A-a0", "status": "FAILED"}],
        }
    }
    planned = casekit.build(case).plan()
    assert [(str(c.action), c.key) for c in planned.changes] == [
        ("recreate", "prod/a0"),
        ("create", "prod/new"),
    ]
    assert [(str(h.change.action), h.change.key) for h in planned.held] == [
        ("delete", "prod/a1"),
        ("delete", "prod/a2"),
    ]
    assert "2 of 2 owned agents of project prod would be deleted" in planned.refusals[0]


def test_the_quota_holds_back_the_joins_that_do_not_fit() -> None:
    """Past maxConcurrentAgents the last creates wait for quota (the planner keeps them out of
    the plan) or, if planned, are held; the joins that fit still run."""
    case = {
        "projects": {"prod": {"max_concurrent_agents": 3}},
        "desired": [{"key": f"prod/n{index}"} for index in range(5)],
        "observed": {"prod": {"live": []}},
    }
    planned = casekit.build(case).plan()
    assert [c.key for c in planned.changes] == ["prod/n0", "prod/n1", "prod/n2"]
    assert [w.key for w in planned.waiting] == ["prod/n3", "prod/n4"]
    assert all(check.ok for check in planned.quota)
    # The rule itself still holds back the joins past the quota of a plan that has them.
    case["projects"] = {"prod": {"max_concurrent_agents": 5}}
    wide = casekit.build(case).made()
    tight = dataclasses.replace(
        wide, quota=tuple(dataclasses.replace(q, limit=3) for q in wide.quota)
    )
    held = hold_back(tight, limits=SafetyLimits())
    assert [c.key for c in held.changes] == ["prod/n0", "prod/n1", "prod/n2"]
    assert [(h.rule, h.change.key) for h in held.held] == [
        (HoldRule.QUOTA, "prod/n3"),
        (HoldRule.QUOTA, "prod/n4"),
    ]


def test_every_problem_is_named_at_once() -> None:
    """A plan breaking several rules names all of them in one error."""
    case = _fleet(2, 0)
    case["state"] = {"records": [{"key": "prod/a0", "protect": True}, {"key": "prod/a1"}]}
    plan = casekit.build(case).made()
    with pytest.raises(UnsafePlanError) as caught:
        check_safety(plan, limits=SafetyLimits())
    assert "owned agents of project prod would be deleted" in str(caught.value)
    assert "prod/a0 has protect: true and would be deleted" in str(caught.value)


def test_forgetting_a_stopped_protected_agent_is_allowed() -> None:
    """Dropping the record of a protected agent that already ended touches nothing running."""
    case = _fleet(3, 2)
    case["state"]["records"][2]["protect"] = True
    case["observed"] = {"prod": {"live": [{"agent_id": "A-a0"}, {"agent_id": "A-a1"}]}}
    plan = casekit.build(case).made()
    assert [(str(c.action), c.leaves_live) for c in plan.changes] == [("delete", False)]
    check_safety(plan, limits=SafetyLimits())
