"""Another team's agents in a shared project are counted past a few, not listed one per line."""

from __future__ import annotations

from reconciler import render
from reconciler.plan import Plan, Report, ReportKind
from reconciler.render import common


def _unmanaged(count: int, project: str = "prod") -> tuple[Report, ...]:
    return tuple(
        Report(
            kind=ReportKind.UNMANAGED,
            project=project,
            message="not managed by this reconciler; never touched",
            agent_id=f"U{index}",
            status="RUNNING",
        )
        for index in range(count)
    )


def test_two_hundred_unowned_agents_take_a_few_lines() -> None:
    """Five are listed, the other 195 are one line that says how to list them."""
    text = render.render_text(Plan(changes=(), reports=_unmanaged(200)))
    assert text.count("[unmanaged] prod: agent U") == common.UNOWNED_LISTED
    assert "[unmanaged] prod: 195 more agents not managed by this reconciler" in text
    assert "--show-unowned lists them" in text


def test_show_unowned_lists_every_one() -> None:
    """``--show-unowned`` gives the full list back."""
    text = render.render_text(Plan(changes=(), reports=_unmanaged(200)), show_unowned=True)
    assert text.count("[unmanaged] prod: agent U") == 200
    assert "more agent" not in text


def test_a_few_are_listed_as_before_and_other_reports_always() -> None:
    """Up to the limit nothing is folded, per project."""
    reports = (*_unmanaged(5), *_unmanaged(6, project="dev"))
    lines = common.report_lines(reports, every=False)
    assert sum(line.startswith("[unmanaged] prod: agent") for line in lines) == 5
    assert "[unmanaged] dev: 1 more agent not managed by this reconciler; never touched" in (
        " ".join(lines)
    )
