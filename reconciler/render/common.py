"""What every view of a plan says the same way: symbols, headings, values, the summary sentence.

Keeping these in one place makes the text, JSON and Markdown views agree word for word. Masking
lives here too: a sensitive value is never formatted, only the first characters of a fingerprint.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from reconciler.manifest import secrets
from reconciler.plan import Action, Change, Plan, Report, ReportKind, Rollout
from reconciler.plan.diff import ABSENT, FieldDiff
from reconciler.render.line_diff import line_diff

SYMBOLS: Final[Mapping[Action, str]] = {
    Action.MOVE: "->",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.STOP: "z",
    Action.RECREATE: "*",
    Action.RENEW_TOKEN: "^",
    Action.ADOPT: "<=",
}
LEGEND: Final[Mapping[Action, str]] = {
    Action.MOVE: "move the record to a new key (Moved); the agent stays",
    Action.CREATE: "create",
    Action.UPDATE: "update in-place",
    Action.REPLACE: "replace (leave, then join the next generation)",
    Action.DELETE: "delete",
    Action.STOP: "stop on schedule or for quota (joins again later; not a delete)",
    Action.RECREATE: "recreate a stopped agent (restartPolicy)",
    Action.RENEW_TOKEN: "renew the RTC token in place",
    Action.ADOPT: "adopt an agent of ours that the state lost track of",
}
_HEADINGS: Final[Mapping[Action, str]] = {
    Action.MOVE: "has moved",
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be deleted",
    Action.STOP: "will stop",
    Action.RECREATE: "will be recreated",
    Action.RENEW_TOKEN: "will get a fresh token",
    Action.ADOPT: "will be adopted",
}
_SUMMARY_WORDS: Final[Mapping[Action, str]] = {
    Action.MOVE: "to move",
    Action.CREATE: "to create",
    Action.UPDATE: "to update",
    Action.REPLACE: "to replace",
    Action.DELETE: "to delete",
    Action.STOP: "to stop",
    Action.RECREATE: "to recreate",
    Action.RENEW_TOKEN: "to renew token",
    Action.ADOPT: "to adopt",
}
# Always named, as Terraform does; the others only when the plan has some.
_ALWAYS_SUMMARISED: Final = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)
NO_CHANGES: Final = "No changes. The fleet matches the manifests."
# Unmanaged agents listed one by one per project in the text view; the rest are counted.
UNOWNED_LISTED: Final = 5
NOTHING_TO_APPLY: Final = "No changes to apply in this pass: every change is held back."
HELD_BACK: Final = "Held back by a safety rule (the rest of the plan runs; a later pass retries):"
_FINGERPRINT: Final = re.compile(f"[0-9a-f]{{{secrets.FINGERPRINT_HEX_CHARS}}}")
SHORT_FINGERPRINT: Final = 8

FieldKind = Literal["add", "remove", "change"]


@dataclass(frozen=True)
class FieldLine:
    """One field of a change, ready to print: its kind, path and the text after the path."""

    kind: FieldKind
    path: str
    text: str
    forces_replacement: bool


def empty_headline(plan: Plan) -> str:
    """What an empty plan says: in sync, everything held back, or agents waiting for quota."""
    if plan.held:
        return NOTHING_TO_APPLY
    if plan.waiting:
        return f"No changes to apply in this pass: {len(plan.waiting)} agent(s) wait for quota."
    return NO_CHANGES


def summary(plan: Plan) -> str:
    """``Plan: 2 to create, 1 to update, 1 to replace, 0 to delete.``, plus other actions if any."""
    counts = plan.counts()
    others = [a for a in Action if a not in _ALWAYS_SUMMARISED and counts[a]]
    named = [*_ALWAYS_SUMMARISED, *others]
    return "Plan: " + ", ".join(f"{counts[a]} {_SUMMARY_WORDS[a]}" for a in named) + "."


def heading(change: Change) -> str:
    """``prod/lobby must be replaced (forces replacement: tts.vendor)``."""
    return f"{change.key} {_HEADINGS[change.action]} ({change.reason})"


def identity(change: Change) -> list[tuple[str, str]]:
    """The remote name (old -> new for a new generation) and agent id, as label/value pairs."""
    pairs: list[tuple[str, str]] = []
    if change.previous_name is not None:
        pairs.append(("name", f"{change.previous_name} -> {change.remote_name}"))
    else:
        pairs.append(("name", change.remote_name))
    if change.agent_id is not None:
        pairs.append(("agent_id", change.agent_id))
    return pairs


def field_kind(field: FieldDiff) -> FieldKind:
    """Whether the field is added, removed or changed: which of its sides exist."""
    if field.before is ABSENT:
        return "add"
    if field.after is ABSENT:
        return "remove"
    return "change"


def field_line(field: FieldDiff, *, action: Action) -> FieldLine:
    """How one field diff reads; a sensitive one never shows its value."""
    kind = field_kind(field)
    if field.sensitive:
        text = _sensitive(field, kind=kind)
    elif kind == "add":
        text = value(field.after)
    elif kind == "remove":
        text = value(field.before)
    else:
        text = f"{value(field.before)} -> {value(field.after)}"
    forces = action is Action.REPLACE and not field.in_place
    return FieldLine(kind=kind, path=field.path, text=text, forces_replacement=forces)


def line_diff_of(field: FieldDiff) -> tuple[str, ...] | None:
    """A changed, non-sensitive field holding multi-line text, as diff lines; else None."""
    if field.sensitive or field_kind(field) != "change":
        return None
    return line_diff(field.before, field.after)


def value(data: Any) -> str:
    """A non-sensitive value as compact JSON, the way a person would write it in a manifest."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def short_fingerprint(data: Any) -> str | None:
    """The first characters of a keyed fingerprint; None for anything that is not one."""
    if isinstance(data, str) and _FINGERPRINT.fullmatch(data):
        return data[:SHORT_FINGERPRINT]
    return None


def _sensitive(field: FieldDiff, *, kind: FieldKind) -> str:
    if kind != "change":
        return "(sensitive)"
    before, after = short_fingerprint(field.before), short_fingerprint(field.after)
    if before is None or after is None:
        return "(sensitive, changed)"
    return f"(sensitive, changed: {before} -> {after})"


def report_lines(reports: Sequence[Report], *, every: bool) -> list[str]:
    """One line per report, but unmanaged agents past ``UNOWNED_LISTED`` in a project as a count.

    Another team's agents in a shared project are none of this plan's business; listing hundreds
    of them buries the changes. ``every`` lists them all (``--show-unowned``).
    """
    seen: Counter[str] = Counter()
    lines: list[str] = []
    for report in reports:
        if report.kind is ReportKind.UNMANAGED and not every:
            seen[report.project] += 1
            if seen[report.project] > UNOWNED_LISTED:
                continue
        lines.append(report_line(report))
    for project, count in sorted(seen.items()):
        more = count - UNOWNED_LISTED
        if more > 0:
            agents = "agent" if more == 1 else "agents"
            lines.append(
                f"[unmanaged] {project}: {more} more {agents} not managed by this reconciler; "
                "never touched (--show-unowned lists them)"
            )
    return lines


def rollout_line(rollout: Rollout) -> str:
    """``AgentSet prod/desk: 8 replaces in 4 waves of at most 2 (maxUnavailable 2 of 8, ...)``."""
    room = max(1, rollout.max_unavailable - rollout.unavailable)
    line = (
        f"{rollout.scope}: {rollout.replaces} to replace in {rollout.waves} wave(s) of at most "
        f"{room} (maxUnavailable {rollout.max_unavailable} of {rollout.size} channels, "
        f"{rollout.unavailable} already down)"
    )
    if rollout.pause_seconds:
        line += f", {rollout.pause_seconds:g}s between waves"
    if rollout.defer_seconds:
        line += f"; each replace waits up to {rollout.defer_seconds:g}s while its agent talks"
    return line


def report_line(report: Report) -> str:
    """``[unmanaged] prod: agent A9 (name "x", RUNNING): not managed ...; never touched``."""
    subject = report.key or report.project
    details = [f'name "{report.name}"'] if report.name else []
    if report.status:
        details.append(report.status)
    agent = f"agent {report.agent_id}" if report.agent_id else "agent"
    if details:
        agent += f" ({', '.join(details)})"
    return f"[{report.kind}] {subject}: {agent}: {report.message}"
