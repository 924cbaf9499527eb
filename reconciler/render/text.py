"""The plan as text for a person at a terminal, shaped like ``terraform plan``.

Colour is the caller's decision (a terminal, and ``NO_COLOR`` unset): this function only obeys
``color``. It must not print or read anything.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

from reconciler.identity_memo import KeptBy
from reconciler.plan import Action, Change, Plan
from reconciler.plan.diff import FieldDiff
from reconciler.render import common, fleet_lines

_RESET: Final = "\x1b[0m"
_BOLD: Final = "1"
_ACTION_COLOURS: Final = {
    Action.MOVE: "36",
    Action.CREATE: "32",
    Action.ADOPT: "32",
    Action.UPDATE: "33",
    Action.RENEW_TOKEN: "33",
    Action.DELETE: "31",
    Action.STOP: "34",
    Action.REPLACE: "35",
    Action.RECREATE: "35",
}
_FIELD_SYMBOLS: Final = {"add": "+", "remove": "-", "change": "~"}
_FIELD_COLOURS: Final = {"add": "32", "remove": "31", "change": "33"}
_LINE_COLOURS: Final = {"+": _FIELD_COLOURS["add"], "-": _FIELD_COLOURS["remove"]}


def render_text(
    plan: Plan, *, refusals: Sequence[str] = (), color: bool = False, show_unowned: bool = False
) -> str:
    """The whole plan: legend, one block per change, the summary, then reports and refusals.

    Unmanaged agents beyond a few per project are counted, not listed, unless ``show_unowned``.
    """
    paint = _Painter(enabled=color)
    lines: list[str] = []
    if plan.is_empty:
        lines.append(paint(common.empty_headline(plan), _BOLD))
    else:
        counts = plan.counts()
        present = [action for action in Action if counts[action]]
        lines.append("Actions are shown with these symbols:")
        for action in present:
            symbol = paint(f"{common.SYMBOLS[action]:>3}", _ACTION_COLOURS[action])
            lines.append(f"{symbol} {common.LEGEND[action]}")
        lines.append("")
        lines.append("Reconciler will perform the following actions:")
        shown: KeptBy[list[str]] = KeptBy()
        for change in plan.changes:
            lines.append("")
            lines.extend(_change_block(change, paint, shown))
        lines.append("")
        lines.append(paint(common.summary(plan), _BOLD))
    paced = [r for r in plan.rollouts if r.waves > 1 or r.defer_seconds]
    if paced:
        lines.append("")
        lines.append("Replaces roll out in waves, each RUNNING before the next:")
        lines.extend(f"  {common.rollout_line(rollout)}" for rollout in paced)
    if fleet_lines.shows_fleet(plan):
        for title, group in fleet_lines.sections(plan):
            lines.append("")
            lines.append(title)
            lines.extend(f"  {line}" for line in group)
    if plan.reports:
        lines.append("")
        lines.append("Left as they are (the plan never touches these):")
        lines.extend(f"  {line}" for line in common.report_lines(plan.reports, every=show_unowned))
    if refusals:
        lines.append("")
        lines.append(paint(common.HELD_BACK, "31;1"))
        lines.extend(f"  - {refusal}" for refusal in refusals)
    return "\n".join(lines) + "\n"


def _change_block(change: Change, paint: _Painter, shown: KeptBy[list[str]]) -> list[str]:
    """The change's block; ``shown`` holds the lines of each field already rendered, since the
    agents of one AgentSet share most of their field diffs (``diff.Views``)."""
    colour = _ACTION_COLOURS[change.action]
    lines = [
        paint(f"  # {common.heading(change)}", _BOLD),
        f"{paint(f'{common.SYMBOLS[change.action]:>3}', colour)} {change.key}",
    ]
    lines.extend(f"        {label}: {text}" for label, text in common.identity(change))
    action = change.action
    for field in change.fields:
        made = functools.partial(_field_lines, field, action, paint)
        lines.extend(shown.get(field, action, made))
    return lines


def _field_lines(field: FieldDiff, action: Action, paint: _Painter) -> list[str]:
    line = common.field_line(field, action=action)
    symbol = paint(_FIELD_SYMBOLS[line.kind], _FIELD_COLOURS[line.kind])
    suffix = paint("  # forces replacement", "31") if line.forces_replacement else ""
    shown = common.line_diff_of(field)
    if shown is None:
        return [f"      {symbol} {line.path}: {line.text}{suffix}"]
    lines = [f"      {symbol} {line.path}:{suffix}"]
    for diff_line in shown:
        mark = diff_line[:1]
        text = f"          {mark or ' '} {diff_line[1:]}"
        lines.append(paint(text, _LINE_COLOURS[mark]) if mark in _LINE_COLOURS else text)
    return lines


class _Painter:
    """Wraps text in an ANSI colour when colour is on; the identity otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}{_RESET}" if self._enabled else text
