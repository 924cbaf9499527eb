"""Markdown plans: summary first, details collapsed, a warning for leaving agents, split to fit."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

from reconciler import render
from reconciler.render.common import HELD_BACK

casekit = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).parents[1] / "cases" / "casekit.py"), run_name="casekit")
)


def _big_plan_case(creates: int) -> dict[str, object]:
    long_prompt = "You are a helpful concierge. " * 40
    return {
        "projects": {"prod": {"max_concurrent_agents": 10_000}},
        "allow_mass_delete": True,
        "desired": [
            {
                "key": f"prod/agent-{index:04d}",
                "properties": {
                    "llm": {"system_messages": [{"role": "system", "content": long_prompt}]}
                },
            }
            for index in range(creates)
        ],
        "state": {"records": [{"key": "prod/retired"}]},
        "observed": {"prod": {"live": [{"agent_id": "A-retired"}]}},
    }


def test_small_plan_is_one_comment_with_summary_first() -> None:
    """One comment: title, then the summary line, then a warning naming the agent that leaves."""
    plan = casekit.build(_big_plan_case(2)).plan()
    (comment,) = render.render_markdown(plan)
    lines = comment.splitlines()
    assert lines[0] == "### Reconciler plan"
    assert lines[2] == "**Plan: 2 to create, 0 to update, 0 to replace, 1 to delete.**"
    assert "> [!WARNING]" in comment
    assert "> - `prod/retired` (delete; agent `A-retired`): no longer in the manifests" in comment
    assert comment.index("[!WARNING]") < comment.index("<details>")
    assert comment.count("<details>") == comment.count("</details>") == 2


def test_long_plan_is_split_into_comments_under_the_limit() -> None:
    """A plan past 65,000 characters becomes numbered comments, each under the limit and whole."""
    plan = casekit.build(_big_plan_case(120)).plan()
    comments = render.render_markdown(plan)
    assert len(comments) > 1
    for index, comment in enumerate(comments, start=1):
        assert len(comment) <= render.COMMENT_LIMIT
        assert comment.startswith(f"### Reconciler plan (part {index} of {len(comments)})")
        assert comment.count("<details>") == comment.count("</details>")
        assert comment.count("```") % 2 == 0
    assert "Plan: 120 to create" in comments[0]
    joined = "".join(comments)
    assert all(f"prod/agent-{index:04d} will be created" in joined for index in range(120))


def test_refusals_are_shown_as_a_caution() -> None:
    """Safety holds head the comment in a caution block."""
    plan = casekit.build(_big_plan_case(1)).plan()
    (comment,) = render.render_markdown(plan, refusals=("too many agents would leave",))
    assert f"> [!CAUTION]\n> {HELD_BACK}\n> - too many agents" in comment


def test_empty_plan_says_no_changes() -> None:
    """An empty plan says so in one short comment."""
    plan = casekit.build({"projects": {"prod": {}}}).plan()
    assert render.render_markdown(plan) == [
        "### Reconciler plan\n\n**No changes. The fleet matches the manifests.**\n"
    ]
