"""The apply display: counts and per-action lines from what apply reports, plain lines off a
terminal, and the changes an interrupted apply did not start. Time is a fake clock."""

from __future__ import annotations

import io

from reconciler.apply.report import Outcome, StepResult
from reconciler.plan import Action, Change
from reconciler.reconcile.progress import ApplyDisplay, DisplayMode, display_mode


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _change(name: str, action: Action = Action.CREATE) -> Change:
    return Change(
        action=action, key=f"demo/{name}", project="demo", reason="", remote_name=f"rc-{name}",
        generation=1,
    )  # fmt: skip


def _result(change: Change, outcome: Outcome, reason: str | None = None) -> StepResult:
    return StepResult(
        key=change.key, project="demo", action=change.action.value, outcome=outcome,
        remote_name=change.remote_name, agent_id=None, detail=outcome.value, reason=reason,
    )  # fmt: skip


async def test_the_live_view_sums_up_each_action() -> None:
    clock, out = Clock(), io.StringIO()
    display = ApplyDisplay(mode=DisplayMode.LIVE, stdout=out, stderr=io.StringIO(), now=clock)
    a, b, c, d = _change("a"), _change("b"), _change("c"), _change("d", Action.DELETE)
    display.planned([d, a, b, c])
    display.started(d)
    clock.now += 2
    display.finished(d, _result(d, Outcome.DONE))
    display.started(a)
    display.started(b)
    clock.now += 3
    display.finished(a, _result(a, Outcome.DONE))
    display.finished(b, _result(b, Outcome.FAILED))
    display.finished(c, _result(c, Outcome.SKIPPED, reason="stopping"))
    assert display.not_started() == [c]
    assert display.in_flight() == []
    await display.close()
    shown = out.getvalue()
    assert "Applied 4 changes: 2 done, 1 failed, 1 skipped, 0 running, 0 pending" in shown
    assert "delete       done     1/1 done" in shown
    assert "create       failed   1/3 done, 1 failed, 1 skipped" in shown


async def test_an_action_skipped_before_any_start_is_shown_without_a_clock() -> None:
    out = io.StringIO()
    display = ApplyDisplay(mode=DisplayMode.LIVE, stdout=out, stderr=io.StringIO(), now=Clock())
    a, b = _change("a"), _change("b")
    display.planned([a, b])
    display.finished(a, _result(a, Outcome.SKIPPED, reason="stopping"))
    display.notice("stopping")
    await display.close()
    [line] = [line for line in out.getvalue().splitlines() if "create " in line]
    assert line.split() == ["create", "running", "0/2", "done,", "1", "skipped"]
    assert "Applying 2 changes: 0 done, 0 failed, 1 skipped, 0 running, 1 pending" in out.getvalue()


async def test_off_a_terminal_each_change_is_a_line() -> None:
    clock, out = Clock(), io.StringIO()
    display = ApplyDisplay(mode=DisplayMode.PLAIN, stdout=out, stderr=io.StringIO(), now=clock)
    a, b = _change("a"), _change("b")
    display.planned([a, b])
    display.started(a)
    clock.now += 1.5
    display.finished(a, _result(a, Outcome.DONE))
    display.finished(b, _result(b, Outcome.SKIPPED, reason="stopping"))
    await display.close()
    assert out.getvalue().splitlines() == [
        "demo/a: create rc-a: started",
        "demo/a: create rc-a: done in 1.5s  [1/2]",
        "demo/b: create rc-b: skipped  [2/2]",
    ]


def test_the_live_view_only_where_it_can_be_redrawn() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert display_mode(Tty(), environ={"TERM": "xterm"}) is DisplayMode.LIVE
    assert display_mode(Tty(), environ={"NO_COLOR": "1"}) is DisplayMode.PLAIN
    assert display_mode(Tty(), environ={"CI": "true"}) is DisplayMode.PLAIN
    assert display_mode(Tty(), environ={"TERM": "dumb"}) is DisplayMode.PLAIN
    assert display_mode(io.StringIO(), environ={}) is DisplayMode.PLAIN
