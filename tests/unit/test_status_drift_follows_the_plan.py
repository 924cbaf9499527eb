"""``status.build_status``: a row per agent, its live facts, and drift read off the plan."""

from __future__ import annotations

import copy
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from reconciler import plan
from reconciler.plan import status
from reconciler.plan.status import Drift

CASES_DIR = Path(__file__).parents[1] / "cases"
casekit = SimpleNamespace(**runpy.run_path(str(CASES_DIR / "casekit.py"), run_name="casekit"))
NOW = 1_700_000_000.0

FLEET: dict[str, Any] = {
    "projects": {"prod": {}},
    "desired": [
        {"key": "prod/sync"},
        {"key": "prod/upd", "properties": {"llm": {"params": {"model": "gpt-4o"}}}},
        # Its own rollout, so the two agents down elsewhere leave its budget alone.
        {"key": "prod/moved", "channel": "hall-2", "rollout": {"scope": "Agent prod/moved"}},
        {"key": "prod/new"},
        {"key": "prod/again", "restart_policy": "Always"},
        {"key": "prod/kept", "restart_policy": "Never"},
    ],
    "state": {
        "records": [
            {"key": "prod/sync", "generation": 3, "token_expires_at": NOW + 7200},
            {"key": "prod/upd", "applied": {"llm": {"params": {"model": "gpt-4o-mini"}}}},
            {"key": "prod/moved", "channel": "hall"},
            {"key": "prod/again"},
            {"key": "prod/kept"},
            {"key": "prod/old", "channel": "attic"},
        ]
    },
    "observed": {
        "prod": {
            "live": [
                {"agent_id": "A-sync", "start_ts": int(NOW) - 3600},
                {"agent_id": "A-upd"},
                {"agent_id": "A-moved"},
                {"agent_id": "A-old"},
                {"agent_id": "B-1", "name": "someone-elses-bot", "start_ts": int(NOW) - 60},
            ],
            "ended": [
                {"agent_id": "A-again", "status": "STOPPED"},
                {"agent_id": "A-kept", "status": "FAILED", "message": "LLM crashed"},
            ],
        }
    },
    "now": NOW,
}


def _status(case: dict[str, Any]) -> status.FleetStatus:
    inputs = casekit.build(case)
    return status.build_status(
        inputs.desired,
        inputs.observed,
        inputs.state,
        now=inputs.now,
        fingerprints=inputs.fingerprints,
    )


def _rows(found: status.FleetStatus) -> dict[str, status.AgentRow]:
    return {row.key: row for row in found.rows}


def test_each_agent_gets_the_drift_its_plan_change_means() -> None:
    """In sync, update, replace, create, recreate, kept stopped and delete each map to one drift."""
    drifts = {key: row.drift for key, row in _rows(_status(FLEET)).items()}
    assert drifts == {
        "prod/again": Drift.MISSING,
        "prod/kept": Drift.MISSING,
        "prod/moved": Drift.TO_REPLACE,
        "prod/new": Drift.MISSING,
        "prod/old": Drift.TO_DELETE,
        "prod/sync": Drift.IN_SYNC,
        "prod/upd": Drift.TO_UPDATE,
    }


def test_a_drifting_row_says_why_in_the_plans_words() -> None:
    """The reason is the plan change's reason, or the kept-stopped report's message."""
    rows = _rows(_status(FLEET))
    assert rows["prod/sync"].reason is None
    assert rows["prod/upd"].reason == "changes in place: llm.params"
    assert rows["prod/moved"].reason == "forces replacement: channel"
    assert rows["prod/kept"].reason is not None
    assert "restartPolicy Never leaves it so" in rows["prod/kept"].reason


def test_a_held_back_change_shows_as_held_with_its_rule_and_why() -> None:
    """A replace the rollout budget holds back is held, not drift to fix now, and says why."""
    case = copy.deepcopy(FLEET)
    case["desired"][2] = {"key": "prod/moved", "channel": "hall-2"}
    row = _rows(_status(case))["prod/moved"]
    assert row.drift is Drift.HELD
    assert row.held_rule is plan.HoldRule.ROLLOUT_BUDGET
    assert row.reason is not None
    assert row.reason.startswith("replace held back (rollout-budget): the rollout budget of ")
    assert row.reason.endswith("The replace: forces replacement: channel")


def test_a_row_shows_the_record_and_the_live_agent() -> None:
    """Remote name, id, generation and token come from the record; status and age from Agora."""
    row = _rows(_status(FLEET))["prod/sync"]
    assert row.remote_name == "rc-prod--sync-g3"
    assert row.agent_id == "A-sync"
    assert row.generation == 3
    assert row.status == "RUNNING"
    assert row.token_expires_at == NOW + 7200
    assert row.started_at == NOW - 3600
    assert row.age_seconds == 3600


def test_ended_and_never_started_agents_show_what_is_known() -> None:
    """An ended agent shows its final status; a key with no record shows no agent at all."""
    rows = _rows(_status(FLEET))
    assert rows["prod/kept"].status == "FAILED"
    assert rows["prod/again"].status == "STOPPED"
    new = rows["prod/new"]
    assert (new.agent_id, new.remote_name, new.status, new.generation, new.age_seconds) == (
        None,
        None,
        None,
        None,
        None,
    )


def test_an_agent_no_longer_desired_keeps_its_recorded_channel() -> None:
    """A row about to be deleted shows the channel its agent was joined to."""
    assert _rows(_status(FLEET))["prod/old"].channel == "attic"


def test_unmanaged_live_agents_are_listed_apart() -> None:
    """Someone else's agent is never a row, but is listed with its age among the others."""
    found = _status(FLEET)
    assert "someone-elses-bot" not in {row.remote_name for row in found.rows}
    (other,) = found.others
    assert (other.agent_id, other.name, other.kind, other.age_seconds) == (
        "B-1",
        "someone-elses-bot",
        plan.ReportKind.UNMANAGED,
        60,
    )


def test_an_agent_found_under_an_unconfirmed_joins_name_is_to_adopt() -> None:
    """A join whose answer was lost left a live agent under our name: the row shows it, to adopt."""
    case = yaml.safe_load((CASES_DIR / "adopt-unconfirmed-join.yaml").read_text())
    found = _status(case)
    adopted = [row for row in found.rows if row.drift is Drift.TO_ADOPT]
    assert adopted
    assert all(row.agent_id is not None and row.remote_name is not None for row in adopted)


@pytest.mark.parametrize("path", sorted(CASES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_status_never_disagrees_with_the_plan(path: Path) -> None:
    """On every golden planner case, a key drifts exactly when the plan has a change for it
    (a move apart: the row already shows the record under its new key, the agent unchanged),
    and is held back exactly when the plan (as apply runs it) holds its change back."""
    case = yaml.safe_load(path.read_text())
    inputs = casekit.build(case)
    # status holds back what an apply with no flags would.
    made = plan.hold_back(inputs.made(), limits=plan.for_fleet(plan.SafetyLimits(), inputs.desired))
    first: dict[str, plan.Action] = {}
    for change in (*made.changes, *(held.change for held in made.held)):
        if change.action is not plan.Action.MOVE:
            first.setdefault(change.key, change.action)
    held = {held.change.key: held for held in made.held}
    found = _status(case)
    assert {row.key for row in found.rows} >= set(first)
    for row in found.rows:
        if row.key in held:
            assert row.drift is Drift.HELD
            assert row.held_rule is held[row.key].rule
            assert row.reason is not None
            assert held[row.key].reason in row.reason
        elif row.key in first:
            assert row.drift is status.DRIFT_OF[first[row.key]]
            assert row.held_rule is None
        else:
            assert row.drift in (Drift.IN_SYNC, Drift.MISSING, Drift.WAITING, Drift.OFF_SCHEDULE)
            off = {w.key for w in made.windows if not w.open}
            assert (row.drift is Drift.OFF_SCHEDULE) == (row.key in off)
            assert (row.drift is Drift.WAITING) == (row.key in {w.key for w in made.waiting})
