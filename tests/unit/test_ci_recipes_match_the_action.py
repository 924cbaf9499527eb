"""The CI recipes agree with what they call: the action's script, its inputs and outputs, the CLI.

A typo in a workflow's ``with:`` or ``steps.plan.outputs`` fails silently on GitHub (an unknown
input is a warning, an unknown output is an empty string), so these are checked here. So are the
safety properties the examples promise: the validate workflow touches no secret, the plan
workflow never runs fork code with credentials, and applies never overlap or get cancelled.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
WORKFLOWS = {path.stem: path for path in sorted((ROOT / "examples" / "workflows").glob("*.yml"))}
OUR_ACTION = re.compile(r"[\w-]+/reconciler@\S+")


def _workflow(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(WORKFLOWS[name].read_text())
    return document


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """YAML 1.1 reads the key ``on`` as True; accept either spelling."""
    triggers: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]
    return triggers


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_the_three_recipes_exist() -> None:
    """Validate on pull requests, plan on pull requests, apply on main."""
    assert set(WORKFLOWS) == {"reconciler-validate", "reconciler-plan", "reconciler-apply"}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflows_use_only_real_inputs_and_outputs(name: str) -> None:
    """Every ``with:`` key is an action input; every ``steps.<id>.outputs.X`` an action output."""
    workflow = _workflow(name)
    ours = [step for step in _steps(workflow) if OUR_ACTION.fullmatch(step.get("uses", ""))]
    assert ours, "the recipe uses the action"
    for step in ours:
        assert set(step.get("with", {})) <= set(ACTION["inputs"])
    ids = {step["id"] for step in ours if "id" in step}
    text = WORKFLOWS[name].read_text()
    for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", text):
        assert step_id in ids
        assert output in ACTION["outputs"]


def test_validate_recipe_is_safe_for_forks() -> None:
    """No secret, no plan, no comment, and a read-only token."""
    workflow = _workflow("reconciler-validate")
    assert "secrets." not in WORKFLOWS["reconciler-validate"].read_text()
    assert set(_triggers(workflow)) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    (step,) = [s for s in _steps(workflow) if OUR_ACTION.fullmatch(s.get("uses", ""))]
    assert step["with"]["plan"] == "false"
    assert step["with"]["comment"] == "false"


def test_plan_recipe_never_gives_credentials_to_fork_code() -> None:
    """``pull_request`` only (never ``pull_request_target``), and forks are skipped."""
    workflow = _workflow("reconciler-plan")
    assert set(_triggers(workflow)) == {"pull_request"}
    (job,) = workflow["jobs"].values()
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_apply_recipe_runs_one_at_a_time_and_is_never_cancelled() -> None:
    """Pushes to main queue in one concurrency group; the saved plan is what gets applied."""
    workflow = _workflow("reconciler-apply")
    assert _triggers(workflow)["push"]["branches"] == ["main"]
    assert workflow["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    runs = [step.get("run", "") for step in _steps(workflow)]
    assert any(run.startswith('reconciler apply "$PLAN_FILE"') for run in runs)


@pytest.mark.parametrize("name", ["reconciler-plan", "reconciler-apply"])
def test_plan_and_apply_share_one_state_from_a_secret(name: str) -> None:
    """Both read the fleet's state from RECONCILER_STATE, not from a cache GitHub may evict."""
    text = WORKFLOWS[name].read_text()
    assert "RECONCILER_STATE: ${{ secrets.RECONCILER_STATE }}" in text
    assert "actions/cache" not in text


def test_action_passes_every_input_to_flags_the_script_knows() -> None:
    """Each input reaches the script, and each flag the action passes is one the script accepts."""
    steps = ACTION["runs"]["steps"]
    (run_step,) = [step for step in steps if step.get("id") == "run"]
    used = " ".join(str(step) for step in steps)
    for name in ACTION["inputs"]:
        assert f"inputs.{name} " in used + " ", f"input {name} is never used"
    usage = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "github_action.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in re.findall(r"(--[\w-]+) ", run_step["run"]):
        assert flag in usage


def test_action_outputs_are_read_from_the_script_step() -> None:
    """Each output maps to the script step's output of the same name."""
    for name, output in ACTION["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_pre_commit_hook_validates_the_fleet() -> None:
    """The hook's entry and arguments are a working ``reconciler validate`` of the fleet."""
    hooks: list[dict[str, Any]] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "reconciler-validate"
    assert hook["pass_filenames"] is False
    program, *arguments = hook["entry"].split()
    assert program == "reconciler"
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *arguments, *hook["args"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
