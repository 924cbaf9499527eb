"""Schedules seen from plan and status: where each agent stands, next edges, and the burn rate."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import yaml

from reconciler.plan import status
from reconciler.plan.cost import project
from reconciler.plan.schedules import standing
from reconciler.render import render_json
from reconciler.render.status import render_status_json, render_status_text

CASES_DIR = Path(__file__).parents[1] / "cases"
casekit = SimpleNamespace(**runpy.run_path(str(CASES_DIR / "casekit.py"), run_name="casekit"))


def _case() -> dict[str, object]:
    case: dict[str, object] = yaml.safe_load((CASES_DIR / "stop-outside-schedule.yaml").read_text())
    return case


def test_status_shows_next_edges_and_the_burn_rate() -> None:
    """Off-schedule rows, each scheduled agent's next start, and what the running ones cost."""
    inputs = casekit.build(_case())
    found = status.build_status(
        inputs.desired, inputs.observed, inputs.state, now=inputs.now, fingerprints={}
    )
    rows = {row.key: row.drift for row in found.rows}
    assert rows == {
        "prod/desk": status.Drift.TO_STOP,
        "prod/hall": status.Drift.OFF_SCHEDULE,
        "prod/lobby": status.Drift.IN_SYNC,
    }
    text = render_status_text(found)
    assert "prod/hall: off until 2026-03-29 07:00:00 UTC" in text
    assert "Burn rate: prod USD 12.00 per hour (2 running)." in text
    document = yaml.safe_load(render_status_json(found))
    assert document["burn_rate"] == [
        {"project": "prod", "currency": "USD", "running": 2, "per_hour": 12.0}
    ]


def test_an_open_window_says_when_it_stops_and_starts_again() -> None:
    """Inside the window: on until 18:00 Berlin, next start 09:00 the day after."""
    case = _case()
    case["now"] = 1774717200 - 3600  # 17:00 Berlin
    inputs = casekit.build(case)
    found = standing(inputs.desired.agents["prod/desk"].schedule, now=inputs.now)
    # Open until 18:00 Berlin; next start 09:00 CEST on the 29th, after the DST change.
    assert found == (True, 1774767600, 1774717200)
    made = inputs.plan()
    assert "create prod/hall" in [f"{c.action} {c.key}" for c in made.changes]
    assert '"next_stop": 1774717200' in render_json(made)


def test_thirty_days_of_a_weekday_window_count_its_hours() -> None:
    """9 hours on each of the weekdays in 30 days from a Monday: 22 × 9 hours of one agent."""
    inputs = casekit.build(
        {
            "projects": {"prod": {}},
            "desired": [{"key": "prod/a", "schedule": [{"cron": "0 9 * * 1-5", "duration": "9h"}]}],
        }
    )
    monday = 1774828800  # 2026-03-30 00:00 UTC
    schedules = [a.schedule for a in inputs.desired.agents.values()]
    projected = project(schedules * 3, capacity=2, now=monday)
    assert projected.minutes == 22 * 9 * 60 * 2
    assert projected.peak == 3
