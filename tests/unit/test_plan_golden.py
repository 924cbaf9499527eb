"""Golden planner cases: desired + observed + state in tests/cases/*.yaml -> plan and its text.

Each case's ``expect`` holds the changes (``action key``), the changes held back (``rule: action
key``), the reports (``kind subject``), the safety refusals and the rendered text.
``UPDATE_GOLDEN=1 pytest tests/unit/test_plan_golden.py`` rewrites them after a deliberate change;
review the diff before committing it.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from reconciler.plan import Plan
from reconciler.render import render_text

CASES_DIR = Path(__file__).parents[1] / "cases"
casekit = SimpleNamespace(**runpy.run_path(str(CASES_DIR / "casekit.py"), run_name="casekit"))
CASES = sorted(CASES_DIR.glob("*.yaml"))


class _Literal(str):
    """A string dumped as a YAML block, so the golden text reads as it prints."""


def _literal(dumper: yaml.SafeDumper, data: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def _observed_outcome(plan: Plan, refusals: tuple[str, ...]) -> dict[str, Any]:
    return {
        "changes": [f"{change.action} {change.key}" for change in plan.changes],
        "held": [f"{held.rule}: {held.change.action} {held.change.key}" for held in plan.held],
        "reports": [f"{report.kind} {report.agent_id or report.key}" for report in plan.reports],
        "refusals": list(refusals),
        "text": render_text(plan, refusals=refusals),
    }


def _rewrite(path: Path, outcome: dict[str, Any]) -> None:
    text = path.read_text()
    head = text.split("\nexpect:\n", 1)[0].rstrip("\n")
    expect = {**outcome, "text": _Literal(outcome["text"])}
    dumped = yaml.safe_dump({"expect": expect}, sort_keys=False, width=1000, allow_unicode=True)
    path.write_text(head + "\n" + dumped)


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
def test_golden_case(path: Path) -> None:
    """The plan, its safety verdict and its text are exactly what the case expects."""
    case = yaml.safe_load(path.read_text())
    inputs = casekit.build(case)
    plan = inputs.plan()
    outcome = _observed_outcome(plan, inputs.refusals(plan))
    if os.environ.get("UPDATE_GOLDEN"):
        _rewrite(path, outcome)
        return
    assert outcome == case["expect"]
    for key, update in case.get("expect_update", {}).items():
        (change,) = [c for c in plan.changes if c.key == key]
        assert dict(change.update) == update


def test_every_action_and_report_has_a_case() -> None:
    """The golden cases cover every action and every report kind at least once."""
    seen: set[str] = set()
    for path in CASES:
        expect = yaml.safe_load(path.read_text())["expect"]
        seen.update(line.split()[0] for line in expect["changes"] + expect["reports"])
        seen.update(line.split()[1] for line in expect["held"])
    assert seen >= {
        "create",
        "update",
        "replace",
        "delete",
        "stop",
        "recreate",
        "renew-token",
        "adopt",
        "unmanaged",
        "ours-without-record",
        "kept-stopped",
        "unreachable",
    }
