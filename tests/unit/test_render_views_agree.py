"""The text and JSON views say the same thing, deterministically; colour only when asked."""

from __future__ import annotations

import io
import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import yaml

from reconciler import reconcile, render
from reconciler.render import common

CASES_DIR = Path(__file__).parents[1] / "cases"
casekit = SimpleNamespace(**runpy.run_path(str(CASES_DIR / "casekit.py"), run_name="casekit"))


def _every_case_plan() -> list[object]:
    return [
        casekit.build(yaml.safe_load(path.read_text())).plan()
        for path in sorted(CASES_DIR.glob("*.yaml"))
    ]


def test_json_matches_text_for_every_golden_case() -> None:
    """For each case, JSON carries the same actions, keys, reasons and summary as the text."""
    for plan in _every_case_plan():
        document = json.loads(render.render_json(plan))
        text = render.render_text(plan)
        assert document["format_version"] == "1"
        assert [(c["action"], c["key"]) for c in document["changes"]] == [
            (str(c.action), c.key) for c in plan.changes
        ]
        for change in document["changes"]:
            assert f"{change['key']} " in text
            assert f"({change['reason']})" in text
        summary = document["summary"]
        if plan.changes:
            assert (
                f"Plan: {summary['create']} to create, {summary['update']} to update, "
                f"{summary['replace']} to replace, {summary['delete']} to delete" in text
            )
        else:
            assert common.empty_headline(plan) in text


def test_rendering_is_byte_identical_for_equal_plans() -> None:
    """Rendering the same inputs twice gives the same bytes in every format."""
    first, second = _every_case_plan(), _every_case_plan()
    for one, two in zip(first, second, strict=True):
        assert render.render_text(one) == render.render_text(two)
        assert render.render_json(one) == render.render_json(two)
        assert render.render_markdown(one) == render.render_markdown(two)


def test_colour_only_when_asked() -> None:
    """ANSI escapes appear with color=True and never without."""
    plan = casekit.build(
        yaml.safe_load((CASES_DIR / "delete-removed-agent.yaml").read_text())
    ).plan()
    assert "\x1b[" not in render.render_text(plan)
    assert "\x1b[31m" in render.render_text(plan, color=True)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color() -> None:
    """A terminal gets colour unless NO_COLOR is set; a pipe or file never does."""
    assert reconcile.color_wanted(_Terminal(), environ={})
    assert not reconcile.color_wanted(_Terminal(), environ={"NO_COLOR": "1"})
    assert not reconcile.color_wanted(io.StringIO(), environ={})
