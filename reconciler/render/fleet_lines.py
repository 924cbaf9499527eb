"""Lines every view of a plan shares about the fleet as a whole: what it costs, where each
scheduled agent stands in its schedule, and who waits for quota.

Pure: instants are printed in UTC (the same on every machine), amounts to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from reconciler.plan import Cost, Plan, Waiting, Window

COSTS_TITLE: Final = "Estimated cost (running agents × pricing; schedules counted):"
WINDOWS_TITLE: Final = "Schedules (next start and stop):"
WAITING_TITLE: Final = "Waiting for quota (they join when a place is free):"


def when(at: float) -> str:
    """An instant as ``2026-03-29 07:00:00 UTC``."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def money(amount: float, currency: str) -> str:
    """``USD 1,234.50``."""
    return f"{currency} {amount:,.2f}"


def signed(amount: float) -> str:
    """``+24.00``, ``-6.00``, ``±0.00``."""
    if round(amount, 2) == 0:
        return "±0.00"
    return f"{amount:+,.2f}"


def cost_line(cost: Cost) -> str:
    """``prod: 16 -> 20 running agents (+4); USD 96.00 -> 120.00 per hour (+24.00); ...``."""
    moved = cost.running_after - cost.running_before
    line = (
        f"{cost.project}: {cost.running_before} -> {cost.running_after} running agents "
        f"({moved:+d}); {money(cost.hour_before, cost.currency)} -> {cost.hour_after:,.2f} "
        f"per hour ({signed(cost.hour_after - cost.hour_before)}); "
        f"{money(cost.month_before, cost.currency)} -> {cost.month_after:,.2f} per 30 days "
        f"({signed(cost.month_after - cost.month_before)})"
    )
    if cost.peak > cost.limit:
        line += (
            f"; up to {cost.peak} desired at once ({_first(cost.peak_at)}) over "
            f"maxConcurrentAgents {cost.limit}: the lowest priorities wait then"
        )
    return line


def _first(at: float | None) -> str:
    return "now" if at is None else f"first at {when(at)}"


def window_line(window: Window) -> str:
    """``prod/desk-a: running until ... (next start ...)`` or ``prod/desk-b: off until ...``."""
    if window.open and window.next_stop is not None:
        start = f" (next start {when(window.next_start)})" if window.next_start else ""
        return f"{window.key}: on until {when(window.next_stop)}{start}"
    if window.next_start is not None:
        return f"{window.key}: off until {when(window.next_start)}"
    return f"{window.key}: on"


def waiting_line(waiting: Waiting) -> str:
    return f"{waiting.key} (priority {waiting.priority}): {waiting.reason}"


def sections(plan: Plan) -> list[tuple[str, list[str]]]:
    """The titled groups of lines a plan view shows after its changes; empty groups left out."""
    found = [
        (WAITING_TITLE, [waiting_line(w) for w in plan.waiting]),
        (WINDOWS_TITLE, [window_line(w) for w in plan.windows]),
        (COSTS_TITLE, cost_lines(plan.costs)),
    ]
    return [(title, lines) for title, lines in found if lines]


def cost_lines(costs: Sequence[Cost]) -> list[str]:
    return [cost_line(cost) for cost in costs]


def shows_fleet(plan: Plan) -> bool:
    """Whether a view shows the fleet sections: a plan that changes, holds or waits, or whose
    fleet has schedules; an in-sync plan of an always-on fleet stays one line."""
    return not plan.is_empty or bool(plan.held or plan.waiting or plan.windows)
