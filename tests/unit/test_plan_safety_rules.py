"""check_safety refuses mass deletes, touching protected agents and breaking the quota."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from reconciler.errors import UnsafePlanError
from reconciler.plan import SafetyLimits, check_safety

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
    plan = inputs.plan()
    if refused:
        with pytest.raises(UnsafePlanError, match="--allow-mass-delete"):
            check_safety(plan, limits=SafetyLimits())
    else:
        check_safety(plan, limits=SafetyLimits())
    check_safety(plan, limits=SafetyLimits(allow_mass_delete=True))


def test_replacing_every_agent_counts_as_mass_leave() -> None:
    """Replaces leave running agents too, so replacing the whole fleet needs the flag."""
    case = _fleet(2, 2)
    case["state"] = {"records": [{"key": key, "channel": "old"} for key in ("prod/a0", "prod/a1")]}
    plan = casekit.build(case).plan()
    with pytest.raises(UnsafePlanError, match="2 of 2 owned agents would leave"):
        check_safety(plan, limits=SafetyLimits())


def test_every_problem_is_named_at_once() -> None:
    """A plan breaking several rules names all of them in one error."""
    case = _fleet(2, 0)
    case["state"] = {"records": [{"key": "prod/a0", "protect": True}, {"key": "prod/a1"}]}
    plan = casekit.build(case).plan()
    with pytest.raises(UnsafePlanError) as caught:
        check_safety(plan, limits=SafetyLimits())
    assert "owned agents would leave" in str(caught.value)
    assert "prod/a0 has protect: true and would be deleted" in str(caught.value)


def test_forgetting_a_stopped_protected_agent_is_allowed() -> None:
    """Dropping the record of a protected agent that already ended touches nothing running."""
    case = _fleet(3, 2)
    case["state"]["records"][2]["protect"] = True
    case["observed"] = {"prod": {"live": [{"agent_id": "A-a0"}, {"agent_id": "A-a1"}]}}
    plan = casekit.build(case).plan()
    assert [(str(c.action), c.leaves_live) for c in plan.changes] == [("delete", False)]
    check_safety(plan, limits=SafetyLimits())
