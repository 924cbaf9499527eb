"""The plan as text for a person at a terminal, shaped like ``terraform plan``.

Colour is the caller's decision (a terminal, and ``NO_COLOR`` unset): this function only obeys
``color``. It must not print or read anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from reconciler.plan import Action, Change, Plan
from reconciler.render import common

_RESET: Final = "\x1b[0m"
_BOLD: Final = "1"
_ACTION_COLOURS: Final = {
    Action.CREATE: "32",
    Action.ADOPT: "32",
    Action.UPDATE: "33",
    Action.RENEW_TOKEN: "33",
    Action.DELETE: "31",
    Action.REPLACE: "35",
    Action.RECREATE: "35",
}
_FIELD_SYMBOLS: Final = {"add": "+", "remove": "-", "change": "~"}
_FIELD_COLOURS: Final = {"add": "32", "remove": "31", "change": "33"}


def render_text(plan: Plan, *, refusals: Sequence[str] = (), color: bool = False) -> str:
    """The whole plan: legend, one block per change, the summary, then reports and refusals."""
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
        for change in plan.changes:
            lines.append("")
            lines.extend(_change_block(change, paint))
        lines.append("")
        lines.append(paint(common.summary(plan), _BOLD))
    paced = [rollout for rollout in plan.rollouts if rollout.waves > 1]
    if paced:
        lines.append("")
        lines.append("Replaces roll out in waves, each RUNNING before the next:")
        lines.extend(f"  {common.rollout_line(rollout)}" for rollout in paced)
    if plan.reports:
        lines.append("")
        lines.append("Left as they are (the plan never touches these):")
        lines.extend(f"  {common.report_line(report)}" for report in plan.reports)
    if refusals:
        lines.append("")
        lines.append(paint(common.HELD_BACK, "31;1"))
        lines.extend(f"  - {refusal}" for refusal in refusals)
    return "\n".join(lines) + "\n"


def _change_block(change: Change, paint: _Painter) -> list[str]:
    colour = _ACTION_COLOURS[change.action]
    lines = [
        paint(f"  # {common.heading(change)}", _BOLD),
        f"{paint(f'{common.SYMBOLS[change.action]:>3}', colour)} {change.key}",
    ]
    lines.extend(f"        {label}: {text}" for label, text in common.identity(change))
    for field in change.fields:
        line = common.field_line(field, action=change.action)
        symbol = paint(_FIELD_SYMBOLS[line.kind], _FIELD_COLOURS[line.kind])
        suffix = paint("  # forces replacement", "31") if line.forces_replacement else ""
        lines.append(f"      {symbol} {line.path}: {line.text}{suffix}")
    return lines


class _Painter:
    """Wraps text in an ANSI colour when colour is on; the identity otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}{_RESET}" if self._enabled else text
