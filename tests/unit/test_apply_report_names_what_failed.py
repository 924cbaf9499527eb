"""The apply summary counts what was done and names each step that failed or was skipped."""

from __future__ import annotations

from reconciler.apply.report import ApplyReport, Outcome, StepResult, render_report


def _step(action: str, outcome: Outcome, key: str = "demo/a", detail: str = "ok") -> StepResult:
    return StepResult(
        key=key,
        project="demo",
        action=action,
        outcome=outcome,
        remote_name=f"rc-{key.replace('/', '--')}-g1",
        agent_id=None,
        detail=detail,
    )


def test_a_clean_apply_says_what_it_did() -> None:
    """Counts by action, in plan order, and exit-worthy success."""
    report = ApplyReport(
        results=(
            _step("delete", Outcome.DONE),
            _step("create", Outcome.DONE),
            _step("create", Outcome.DONE),
        )
    )
    assert report.ok
    assert render_report(report) == "Apply complete: 1 deleted, 2 created."


def test_a_partial_failure_names_each_failed_and_skipped_step() -> None:
    """Failed and skipped steps are listed with their reason; the report is not ok."""
    report = ApplyReport(
        results=(
            _step("create", Outcome.DONE, key="demo/a"),
            _step("create", Outcome.FAILED, key="demo/b", detail="HTTP 422 quota"),
            _step("create", Outcome.SKIPPED, key="demo/c", detail="the project answered 422"),
        ),
        quota_stopped=("demo",),
    )
    assert not report.ok
    assert render_report(report).splitlines() == [
        "Apply incomplete: 1 created; 1 failed, 1 skipped.",
        "Project demo reached its agent quota: its remaining joins were skipped.",
        "  ✗ demo/b: create rc-demo--b-g1: HTTP 422 quota",
        "  - demo/c: create rc-demo--c-g1: the project answered 422",
    ]


def test_a_leftover_of_a_project_gone_from_the_manifests_is_shown_but_does_not_fail() -> None:
    """Such an intent waits for its project; the pass itself still succeeds."""
    waiting = _step("resolve-join", Outcome.SKIPPED, detail="its project is not in the manifests")
    report = ApplyReport(leftovers=(waiting,), results=(_step("update", Outcome.DONE),))
    assert report.ok
    assert render_report(report).splitlines() == [
        "Resolved 0 of 1 intents left by an interrupted apply.",
        "Apply complete: 1 updated.",
        "  - demo/a: resolve-join rc-demo--a-g1: its project is not in the manifests",
    ]
