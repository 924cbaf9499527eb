"""Saved plans round-trip, and apply can tell exactly what moved since the plan was made."""

from __future__ import annotations

import dataclasses
import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from reconciler import render
from reconciler.errors import StateError
from reconciler.plan import diff
from reconciler.reconcile import planfile

CASES_DIR = Path(__file__).parents[1] / "cases"
casekit = SimpleNamespace(**runpy.run_path(str(CASES_DIR / "casekit.py"), run_name="casekit"))


def _saved(name: str) -> planfile.PlanFile:
    inputs = casekit.build(yaml.safe_load((CASES_DIR / f"{name}.yaml").read_text()))
    return planfile.PlanFile(
        plan=inputs.plan(),
        lineage="lineage-1",
        serial=7,
        observed_fingerprint=planfile.observed_fingerprint(inputs.observed),
        manifests_digest="sha256:manifests",
    )


@pytest.mark.parametrize(
    "name",
    [
        "update-llm-params-in-place",
        "replace-forced-by-tts-vendor",
        "adopt-unconfirmed-join",
        "refuse-over-quota",
        "kept-stopped-onfailure",
        "create-new-agent",
        "replace-forced-by-removed-secret",
        "update-records-protect-and-archive",
    ],
)
def test_plan_file_round_trips(tmp_path: Path, name: str) -> None:
    """Writing and loading a plan file gives back the same plan and provenance."""
    saved = _saved(name)
    path = tmp_path / "plans" / "plan.json"
    planfile.write_planfile(path, saved)
    assert planfile.load_planfile(path) == saved
    assert list(path.parent.iterdir()) == [path]


@pytest.mark.parametrize(
    ("before", "after", "line"),
    [
        ("plain-old", diff.ABSENT, "- llm.api_key: (sensitive)"),
        (diff.ABSENT, "plain-new", "+ llm.api_key: (sensitive)"),
        ("plain-old", "plain-new", "~ llm.api_key: (sensitive, changed)"),
    ],
)
def test_a_secret_without_a_fingerprint_keeps_its_kind(
    before: object, after: object, line: str
) -> None:
    """A sensitive side stored with no fingerprint to show still reloads as existing."""
    field = diff.FieldDiff(
        path="llm.api_key", before=before, after=after, sensitive=True, in_place=False
    )
    saved = _saved("replace-forced-by-removed-secret")
    (change,) = saved.plan.changes
    changed = dataclasses.replace(change, fields=(field,))
    plan = dataclasses.replace(saved.plan, changes=(changed,))
    loaded = planfile.loads(json.loads(planfile.dumps(dataclasses.replace(saved, plan=plan))))
    assert f"      {line}  # forces replacement\n" in render.render_text(loaded.plan)
    assert render.render_json(loaded.plan) == render.render_json(plan)


def test_staleness_names_what_moved() -> None:
    """Each of lineage, serial, live agents and manifests is reported when it moved."""
    saved = _saved("update-llm-params-in-place")
    current = {
        "lineage": "lineage-1",
        "serial": 7,
        "observed_fp": saved.observed_fingerprint,
        "digest": "sha256:manifests",
    }
    assert planfile.staleness(saved, **current) == []
    moved = planfile.staleness(
        saved, lineage="other", serial=8, observed_fp="sha256:x", digest="sha256:y"
    )
    assert moved == [
        "the state is another one (lineage lineage-1 -> other)",
        "the state changed (serial 7 -> 8)",
        "the live agents changed since the plan was made",
        "the manifests changed since the plan was made",
    ]


def test_plan_made_without_a_state_accepts_a_fresh_one() -> None:
    """A plan made before the state existed is current against a new, untouched state."""
    saved = _saved("create-new-agent")
    fresh = planfile.PlanFile(
        plan=saved.plan,
        lineage=None,
        serial=0,
        observed_fingerprint=saved.observed_fingerprint,
        manifests_digest="d",
    )
    assert (
        planfile.staleness(
            fresh, lineage="new", serial=0, observed_fp=saved.observed_fingerprint, digest="d"
        )
        == []
    )


def test_observed_fingerprint_follows_status() -> None:
    """An agent changing status changes the fingerprint; input order does not."""
    case = {
        "projects": {"prod": {}},
        "observed": {"prod": {"live": [{"agent_id": "A"}, {"agent_id": "B"}]}},
    }
    one = planfile.observed_fingerprint(casekit.build(case).observed)
    case["observed"]["prod"]["live"].reverse()
    assert planfile.observed_fingerprint(casekit.build(case).observed) == one
    case["observed"]["prod"]["live"][0]["status"] = "STOPPING"
    assert planfile.observed_fingerprint(casekit.build(case).observed) != one


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"planfile_version": "9"}', "is damaged"),
        ('{"planfile_version": "1", "plan": {}}', "is damaged"),
    ],
)
def test_damaged_plan_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    """A damaged or foreign plan file raises StateError naming the file."""
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(StateError, match=message):
        planfile.load_planfile(path)
    with pytest.raises(StateError, match="cannot be read"):
        planfile.load_planfile(tmp_path / "missing.json")
