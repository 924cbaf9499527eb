"""Change windows: which replaces and deletes of a plan wait for their project's window.

Argo CD's sync-window rules, per project and action (``manifest.windows``): while a deny window
listing the action is open, the action is held back; otherwise, when allow windows list the
action, it runs only while one of them is open; with no window listing it, it always runs. Deny
wins over allow. Only the held actions wait: creates, recreates, updates and renewals run in any
window. The reason of each hold names the windows and when they next open or close, and
``next_edge`` tells the daemon when to look again, so held changes run when their window allows.

Pure: a function of the changes, the desired fleet and ``now`` (Unix seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from reconciler.manifest.desired import DesiredFleet
from reconciler.manifest.windows import ChangeWindow
from reconciler.plan.model import Change, Held, HoldRule
from reconciler.recurrence import Recurrence


def hold_windowed(
    changes: Sequence[Change], *, desired: DesiredFleet, now: float
) -> tuple[tuple[Change, ...], tuple[Held, ...]]:
    """The changes their windows let run at ``now``, and those they hold back (in order)."""
    at = datetime.fromtimestamp(now, UTC)
    reasons: dict[tuple[str, str], str | None] = {}
    for change in changes:
        group = (change.project, str(change.action))
        if group not in reasons:
            project = desired.projects.get(change.project)
            found = () if project is None else project.windows
            reasons[group] = _why_held(change.project, group[1], found, at)
    holding = [c for c in changes if reasons[(c.project, str(c.action))] is not None]
    held = []
    for change in holding:
        group = (change.project, str(change.action))
        keys = ", ".join(c.key for c in holding if (c.project, str(c.action)) == group)
        held.append(
            Held(
                change=change,
                rule=HoldRule.WINDOW,
                reason=f"{reasons[group]}; held back: {group[1]} {keys}",
            )
        )
    taken = {id(h.change) for h in held}
    return tuple(c for c in changes if id(c) not in taken), tuple(held)


def next_edge(desired: DesiredFleet, *, now: float) -> float | None:
    """The next moment (Unix seconds) any project's change window opens or closes; None when
    no project has one."""
    at = datetime.fromtimestamp(now, UTC)
    edges = [
        window.recurrence.next_edge(at).timestamp()
        for project in desired.projects.values()
        for window in project.windows
    ]
    return min(edges, default=None)


def _why_held(
    project: str, action: str, windows: Sequence[ChangeWindow], at: datetime
) -> str | None:
    """Why ``action`` waits in ``project`` at ``at``, or None when it may run."""
    governing = [w for w in windows if action in w.actions]
    denying = [w for w in governing if w.deny and w.recurrence.is_open(at)]
    if denying:
        said = ", ".join(f"{w.describe()}, open until {_until(w.recurrence, at)}" for w in denying)
        return f"project {project} denies {action} now: {said}"
    allowing = [w for w in governing if not w.deny]
    if not allowing or any(w.recurrence.is_open(at) for w in allowing):
        return None
    opens = min(allowing, key=lambda w: w.recurrence.next_start(at))
    return (
        f"project {project} allows {action} only in its allow windows, none open now; the next "
        f"opens at {_time(opens.recurrence.next_start(at))} ({opens.describe()})"
    )


def _until(recurrence: Recurrence, at: datetime) -> str:
    closes = recurrence.open_until(at)
    assert closes is not None  # the window is open
    return _time(closes)


def _time(moment: datetime) -> str:
    """A moment as the window's own time zone shows it, to the minute (cron's resolution)."""
    return moment.strftime("%Y-%m-%d %H:%M %Z")
