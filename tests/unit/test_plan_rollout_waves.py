"""The planner's rollout waves: scopes, budgets, channels already down, and what never waits."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from reconciler.manifest.rollout import Rollout as RolloutBlock
from reconciler.manifest.rollout import RolloutSpec, resolve
from reconciler.plan import Action, HoldRule

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)
NEW_TTS = {"tts": {"vendor": "elevenlabs"}}
OLD_TTS = {"tts": {"vendor": "microsoft"}}


def _case(count: int, **agent: Any) -> dict[str, Any]:
    keys = [f"prod/a{index}" for index in range(count)]
    return {
        "projects": {"prod": {}},
        "desired": [{"key": key, "properties": NEW_TTS, **agent} for key in keys],
        "state": {"records": [{"key": key, "applied": OLD_TTS} for key in keys]},
        "observed": {"prod": {"live": [{"agent_id": f"A-a{i}"} for i in range(count)]}},
    }


def _waves(case: dict[str, Any]) -> list[int]:
    return [c.wave for c in casekit.build(case).plan().changes if c.action is Action.REPLACE]


@pytest.mark.parametrize(
    ("max_unavailable", "size", "budget"),
    [("25%", 8, 2), ("25%", 3, 1), ("10%", 5, 1), ("100%", 4, 4), ("50%", 7, 3), (3, 10, 3)],
)
def test_a_percentage_rounds_down_and_is_at_least_one(
    max_unavailable: int | str, size: int, budget: int
) -> None:
    """maxUnavailable as a share of the scope rounds down, as Kubernetes does, but never to 0."""
    assert RolloutSpec(scope="s", max_unavailable=max_unavailable).budget(size) == budget


def test_levels_merge_field_by_field() -> None:
    """An AgentSet's rollout overrides the Project's fields it sets and keeps the others."""
    project = RolloutBlock.model_validate({"maxUnavailable": 3, "pauseBetweenWaves": "10s"})
    own = RolloutBlock.model_validate({"maxUnavailable": "50%"})
    merged = resolve("set", project, own)
    assert (merged.max_unavailable, merged.pause_seconds, merged.deadline_seconds) == (
        "50%",
        10.0,
        300.0,
    )


def test_a_new_channel_does_not_use_up_the_budget() -> None:
    """A channel never served loses nothing while it waits for its create."""
    case = _case(4)
    case["desired"].append({"key": "prod/new"})
    assert _waves(case) == [1, 2, 3, 4]


def test_replacing_an_agent_that_is_down_already_takes_no_budget() -> None:
    """A STARTING agent's replace goes in the first wave; the down channel still counts."""
    case = _case(8)
    case["observed"]["prod"]["live"][0]["status"] = "STARTING"
    # Budget 2, one channel down: one RUNNING agent per wave, plus the STARTING one at once.
    assert _waves(case) == [1, 1, 2, 3, 4, 5, 6, 7]


def test_an_agent_with_its_own_rollout_rolls_out_alone() -> None:
    """Agents share their project's rollout unless they carry one of their own."""
    case = _case(4)
    case["desired"][0]["rollout"] = RolloutSpec(scope="Agent prod/a0", max_unavailable=1)
    planned = casekit.build(case).plan()
    assert [(r.scope, r.keys) for r in planned.rollouts] == [
        ("Agent prod/a0", ("prod/a0",)),
        ("the Agents of project prod", ("prod/a1", "prod/a2", "prod/a3")),
    ]


def test_a_protected_replace_leaves_the_rollout() -> None:
    """A replace held back by protect is not counted in the rollout the plan shows."""
    case = _case(4)
    case["desired"][0]["protect"] = True
    planned = casekit.build(case).plan()
    assert [h.rule for h in planned.held] == [HoldRule.PROTECT]
    assert planned.rollouts[0].keys == ("prod/a1", "prod/a2", "prod/a3")
