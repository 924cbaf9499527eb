"""Golden days of schedule edges on a virtual clock: what each plan does at and before each edge.

A day case (tests/cases/days/*.yaml) gives the fleet and a ``start`` and ``hours``; the test walks
every schedule edge in that span, plans one second before it and at it, and applies each plan to
the case's state and live agents (a create joins, a stop leaves) before the next step. ``expect``
holds one line per step. ``UPDATE_GOLDEN=1`` rewrites them after a deliberate change.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from reconciler.plan import Action, next_edge
from reconciler.render import fleet_lines

DAYS_DIR = Path(__file__).parents[1] / "cases" / "days"
casekit = SimpleNamespace(**runpy.run_path(str(DAYS_DIR.parent / "casekit.py"), run_name="casekit"))


def _edges(case: dict[str, Any]) -> list[float]:
    agents = casekit.build(case).desired.agents.values()
    end = case["start"] + case["hours"] * 3600
    found, at = [], float(case["start"])
    while (edge := next_edge(agents, now=at)) is not None and edge <= end:
        found.append(edge)
        at = edge
    return found


def _walk(case: dict[str, Any]) -> list[str]:
    records = {item["key"]: dict(item) for item in case["state"]["records"]}
    live = {item["agent_id"] for item in case["observed"]["prod"]["live"]}
    lines = []
    for edge in _edges(case):
        for at in (edge - 1, edge):
            step = {
                **case,
                "now": at,
                "state": {"records": list(records.values())},
                "observed": {"prod": {"live": [{"agent_id": a} for a in sorted(live)]}},
            }
            made = casekit.build(step).plan()
            done = [f"{c.action} {c.key}" for c in made.changes] or ["nothing"]
            lines.append(f"{fleet_lines.when(at)}: {', '.join(done)}")
            for change in made.changes:
                agent_id = f"A-{change.key.partition('/')[2]}"
                if change.action is Action.CREATE:
                    records[change.key] = {"key": change.key}
                    live.add(agent_id)
                elif change.action is Action.STOP:
                    records.pop(change.key)
                    live.discard(agent_id)
    return lines


@pytest.mark.parametrize("path", sorted(DAYS_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_a_day_of_schedule_edges(path: Path) -> None:
    """Agents join at each window's start and leave at its end, to the second, DST included."""
    text = path.read_text()
    case = yaml.safe_load(text)
    lines = _walk(case)
    if os.environ.get("UPDATE_GOLDEN"):
        head = text.split("\nexpect:\n", 1)[0].rstrip("\n")
        path.write_text(head + "\n" + yaml.safe_dump({"expect": lines}, width=1000))
        return
    assert lines == case["expect"]
