"""The planner's change windows: Argo CD's rules per project and action, at any moment."""

from __future__ import annotations

import runpy
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import plan
from reconciler.plan import Action, HoldRule

CASES_DIR = Path(__file__).parents[1] / "cases"
casekit = SimpleNamespace(**runpy.run_path(str(CASES_DIR / "casekit.py"), run_name="casekit"))
NOW = 1_700_000_000  # Tuesday 22:13:20 UTC
EVENING = {"schedule": "0 22 * * *", "duration": "1h"}  # open now, closes at 23:00 UTC
MORNING = {"schedule": "0 6 * * *", "duration": "1h"}  # closed now, opens at 06:00 UTC


def _case(windows: list[dict[str, Any]], *, now: float = NOW) -> dict[str, Any]:
    """A replace (a), an update (b), a create (c), a recreate (d) and a delete (old)."""
    return {
        "projects": {"prod": {"windows": windows}},
        "desired": [
            # Its own rollout: the failed prod/d leaves its budget alone.
            {
                "key": "prod/a",
                "properties": {"tts": {"vendor": "elevenlabs"}},
                "rollout": {"scope": "Agent prod/a"},
            },
            {"key": "prod/b", "properties": {"llm": {"params": {"model": "gpt-4o"}}}},
            {"key": "prod/c"},
            {"key": "prod/d"},
        ],
        "state": {
            "records": [
                {"key": "prod/a", "applied": {"tts": {"vendor": "microsoft"}}},
                {"key": "prod/b", "applied": {"llm": {"params": {"model": "gpt-4o-mini"}}}},
                {"key": "prod/d"},
                {"key": "prod/old"},
            ]
        },
        "observed": {
            "prod": {
                "live": [{"agent_id": "A-a"}, {"agent_id": "A-b"}, {"agent_id": "A-old"}],
                "ended": [{"agent_id": "A-d", "status": "FAILED"}],
            }
        },
        "now": now,
    }


def _held(windows: list[dict[str, Any]], *, now: float = NOW) -> set[str]:
    made = casekit.build(_case(windows, now=now)).made()
    assert {h.rule for h in made.held} <= {HoldRule.WINDOW}
    return {f"{h.change.action} {h.change.key}" for h in made.held}


def test_deny_wins_over_an_open_allow_window() -> None:
    """Open allow and open deny for replace: the replace waits."""
    windows = [{**EVENING, "allow": ["replace"]}, {**EVENING, "deny": ["replace"]}]
    assert _held(windows) == {"replace prod/a"}


def test_an_action_with_allow_windows_runs_only_inside_one() -> None:
    """Replace is allowed only in the morning: held at night; delete, not listed, runs."""
    assert _held([{**MORNING, "allow": ["replace"]}]) == {"replace prod/a"}
    assert _held([{**MORNING, "allow": ["replace"]}], now=NOW + 8 * 3600) == set()


def test_a_closed_deny_window_holds_nothing() -> None:
    assert _held([{**MORNING, "deny": ["replace", "delete"]}]) == set()


def test_the_daemon_wakes_at_the_next_edge_of_any_window() -> None:
    """The evening window closes at 23:00; the morning one opens at 06:00; no windows, None."""
    fleet = casekit.build(_case([{**EVENING, "deny": ["delete"]}, {**MORNING, "deny": ["delete"]}]))
    assert plan.window_edge(fleet.desired, now=NOW) == NOW + 2800
    assert plan.window_edge(fleet.desired, now=NOW + 2800) == NOW + 2800 + 7 * 3600
    assert plan.window_edge(casekit.build(_case([])).desired, now=NOW) is None


ACTIONS = st.lists(st.sampled_from(["replace", "delete"]), min_size=1, unique=True)
WINDOW = st.fixed_dictionaries(
    {
        "schedule": st.sampled_from(["0 22 * * *", "30 6 * * 1-5", "*/15 9-12 * * *", "0 0 1 * *"]),
        "duration": st.sampled_from(["5m", "1h", "8h", "20h"]),
        "timezone": st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    }
)
KIND = st.sampled_from(["deny", "allow"])


@settings(max_examples=60, deadline=None)
@given(
    windows=st.lists(st.tuples(WINDOW, KIND, ACTIONS), max_size=3),
    now=st.integers(min_value=NOW, max_value=NOW + 400 * 86_400),
)
def test_only_windowed_actions_wait_and_exactly_as_argo_cd_says(
    windows: list[tuple[dict[str, str], str, list[str]]], now: int
) -> None:
    """Creates, recreates and updates never wait; replace and delete wait exactly when an open
    deny window lists them, or allow windows list them and none is open."""
    documents = [{**window, kind: actions} for window, kind, actions in windows]
    inputs = casekit.build(_case(documents, now=now))
    made = inputs.made()
    held = {h.change.action for h in made.held}
    assert held <= {Action.REPLACE, Action.DELETE}
    assert {c.action for c in made.changes} >= {Action.CREATE, Action.RECREATE, Action.UPDATE}
    at = inputs.desired.projects["prod"].windows
    for action in (Action.REPLACE, Action.DELETE):
        listing = [w for w in at if str(action) in w.actions]
        opened = [w for w in listing if w.recurrence.is_open(_aware(now))]
        denied = any(w.deny for w in opened)
        allows = [w for w in listing if not w.deny]
        blocked = denied or (bool(allows) and not any(not w.deny for w in opened))
        assert (action in held) is blocked


def _aware(now: int) -> datetime:
    return datetime.fromtimestamp(now, UTC)
