"""Views of a ``FleetStatus``: a table for a person (like ``kubectl get``) and versioned JSON.

The default table fits 100 columns (long keys and channels are cut with an ellipsis); ``wide``
adds the remote name and the agent id, at their natural width, as ``kubectl get -o wide`` does.

Pure functions to strings: they never print, read the clock (ages are relative to the status's
own ``now``) or the environment, and colour only when told to. Nothing here holds a secret: a
status carries names, ids, statuses and times only.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reconciler.plan import Cost
from reconciler.plan.status import AgentError, AgentRow, Drift, FleetStatus, OtherAgent
from reconciler.render import fleet_lines
from reconciler.source.record import SourceRecord

FORMAT_VERSION: Final = "1"
NO_AGENTS: Final = "No agents in the manifests or the state."
_NONE: Final = "-"
_DRIFT_STYLES: Final = {
    Drift.IN_SYNC: "green",
    Drift.TO_UPDATE: "yellow",
    Drift.TO_REPLACE: "magenta",
    Drift.MISSING: "red",
    Drift.TO_ADOPT: "cyan",
    Drift.TO_DELETE: "red",
    Drift.HELD: "yellow",
    Drift.TO_STOP: "blue",
    Drift.OFF_SCHEDULE: "blue",
    Drift.WAITING: "yellow",
}
_STATUS_STYLES: Final = {"RUNNING": "green", "FAILED": "red", "STOPPED": "red", "GONE": "red"}
_AGENT_COLUMNS: Final = (
    "KEY",
    "CHANNEL",
    "REMOTE NAME",
    "AGENT ID",
    "STATUS",
    "GEN",
    "TOKEN EXPIRES",
    "DRIFT",
    "AGE",
)
_OTHER_COLUMNS: Final = ("PROJECT", "AGENT ID", "NAME", "STATUS", "AGE", "KIND")
# Left out of the default view, which must fit DEFAULT_WIDTH; long values fold to an ellipsis.
_WIDE_ONLY: Final = frozenset({"REMOTE NAME", "AGENT ID"})
_SHRINKING: Final = frozenset({"KEY", "CHANNEL", "PROJECT", "NAME"})
DEFAULT_WIDTH: Final = 100


def render_status_text(status: FleetStatus, *, color: bool = False, wide: bool = False) -> str:
    """The git source (if any), the agents table, why each drifting agent drifts, the others
    apart, and a summary line; ``wide`` for every column."""
    blocks: list[str] = [] if status.source is None else [source_text(status.source)]
    if status.rows:
        table = _table(_AGENT_COLUMNS, wide=wide)
        for row in status.rows:
            table.add_row(*_shown(_AGENT_COLUMNS, _agent_cells(row, now=status.now), wide=wide))
        blocks.append(_draw(table, color=color, wide=wide))
        reasons = [f"  {row.key}: {row.reason}" for row in status.rows if row.reason]
        if reasons:
            blocks.append("\n".join(["Why:", *reasons]))
        errors = [_error_line(row.last_error, now=status.now) for row in status.rows]
        if any(errors):
            blocks.append("\n".join(["Last errors (Agora's event 110):", *filter(None, errors)]))
    else:
        blocks.append(NO_AGENTS)
    if status.others:
        table = _table(_OTHER_COLUMNS, wide=wide)
        for other in status.others:
            table.add_row(*_shown(_OTHER_COLUMNS, _other_cells(other, wide=wide), wide=wide))
        blocks.append(
            "Live agents no manifest entry stands for (never touched):\n"
            + _draw(table, color=color, wide=wide)
        )
    if status.windows:
        lines = [f"  {fleet_lines.window_line(window)}" for window in status.windows]
        blocks.append("\n".join([fleet_lines.WINDOWS_TITLE, *lines]))
    if status.costs:
        blocks.append(burn_rate(status.costs))
    blocks.append(summary(status.rows))
    return "\n\n".join(blocks) + "\n"


def burn_rate(costs: Sequence[Cost]) -> str:
    """``Burn rate: prod USD 12.00 per hour (2 running agents).``, projects comma-separated."""
    parts = ", ".join(
        f"{cost.project} {fleet_lines.money(cost.hour_before, cost.currency)} per hour "
        f"({cost.running_before} running)"
        for cost in costs
    )
    return f"Burn rate: {parts}."


def render_status_json(status: FleetStatus) -> str:
    """The status as JSON (``format_version`` 1): times in Unix seconds, keys sorted."""
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "now": status.now,
        "agents": [
            {
                "key": row.key,
                "project": row.project,
                "channel": row.channel,
                "remote_name": row.remote_name,
                "agent_id": row.agent_id,
                "status": row.status,
                "generation": row.generation,
                "token_expires_at": row.token_expires_at,
                "drift": row.drift.value,
                "reason": row.reason,
                "held_rule": None if row.held_rule is None else str(row.held_rule),
                "started_at": row.started_at,
                "age_seconds": row.age_seconds,
                "last_error": None if row.last_error is None else _error_json(row.last_error),
            }
            for row in status.rows
        ],
        "others": [
            {
                "project": other.project,
                "kind": other.kind.value,
                "agent_id": other.agent_id,
                "name": other.name,
                "status": other.status,
                "age_seconds": other.age_seconds,
                "message": other.message,
            }
            for other in status.others
        ],
        "summary": {drift.value: count for drift, count in _counts(status.rows).items()},
        "source": None if status.source is None else dataclasses.asdict(status.source),
        "windows": [dataclasses.asdict(window) for window in status.windows],
        "burn_rate": [
            {
                "project": cost.project,
                "currency": cost.currency,
                "running": cost.running_before,
                "per_hour": cost.hour_before,
            }
            for cost in status.costs
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def source_text(source: SourceRecord) -> str:
    """``Source: URL main at <commit>``, then the pin and a rejected newest commit, if any."""
    lines = [f"Source: {source.url} {source.ref} at {source.revision or '(none loaded yet)'}"]
    if source.pinned is not None:
        lines.append(f"  pinned to {source.pinned} by --git-revision")
    if source.rejected is not None:
        lines.append(f"  newest commit {source.rejected} rejected: its manifests do not load")
    if source.unverified is not None:
        why = source.unverified_reason or "its signature does not verify"
        lines.append(f"  newest commit {source.unverified} not deployed: {why}")
    return "\n".join(lines)


def summary(rows: Sequence[AgentRow]) -> str:
    """``5 agents: 4 in sync, 1 to update.``, drifts in declaration order."""
    counts = _counts(rows)
    parts = ", ".join(f"{count} {drift.value}" for drift, count in counts.items() if count)
    noun = "agent" if len(rows) == 1 else "agents"
    return f"{len(rows)} {noun}: {parts}." if parts else f"0 {noun}."


def duration(seconds: float) -> str:
    """A short human duration: ``45s``, ``12m``, ``3h 4m``, ``2d 5h``."""
    total = int(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


def _error_line(error: AgentError | None, *, now: float) -> str | None:
    """``  demo/a: llm 1401 "key rejected" (agent 1a2b, 3m ago)``."""
    if error is None:
        return None
    when = duration(max(0.0, now - error.at))
    message = json.dumps(error.message, ensure_ascii=False)
    return (
        f"  {error.key}: {error.module or '?'} {error.code or '?'} {message}"
        f" (agent {error.agent_id}, {when} ago)"
    )


def _error_json(error: AgentError) -> dict[str, Any]:
    fields = dataclasses.asdict(error)
    del fields["key"], fields["project"]
    return fields


def _counts(rows: Sequence[AgentRow]) -> dict[Drift, int]:
    found = Counter(row.drift for row in rows)
    return {drift: found.get(drift, 0) for drift in Drift}


def _agent_cells(row: AgentRow, *, now: float) -> tuple[Text, ...]:
    return (
        Text(row.key),
        Text(row.channel),
        Text(row.remote_name or _NONE),
        Text(row.agent_id or _NONE),
        _status_cell(row.status),
        Text(_NONE if row.generation is None else str(row.generation)),
        Text(_expiry(row.token_expires_at, now=now)),
        Text(row.drift.value, style=_DRIFT_STYLES[row.drift]),
        Text(_NONE if row.age_seconds is None else duration(row.age_seconds)),
    )


def _other_cells(other: OtherAgent, *, wide: bool) -> tuple[Text, ...]:
    # Without the AGENT ID column, an agent with no name is known by its id.
    name = other.name or (_NONE if wide else other.agent_id or _NONE)
    return (
        Text(other.project),
        Text(other.agent_id or _NONE),
        Text(name),
        _status_cell(other.status),
        Text(_NONE if other.age_seconds is None else duration(other.age_seconds)),
        Text(other.kind.value),
    )


def _status_cell(status: str | None) -> Text:
    if status is None:
        return Text(_NONE)
    return Text(status, style=_STATUS_STYLES.get(status, "yellow"))


def _expiry(expires_at: float | None, *, now: float) -> str:
    if expires_at is None:
        return _NONE
    if expires_at <= now:
        return f"expired {duration(now - expires_at)} ago"
    return f"in {duration(expires_at - now)}"


def _shown(columns: Sequence[str], cells: tuple[Text, ...], *, wide: bool) -> tuple[Text, ...]:
    return tuple(
        cell
        for column, cell in zip(columns, cells, strict=True)
        if wide or column not in _WIDE_ONLY
    )


def _table(columns: Sequence[str], *, wide: bool) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        if wide or column not in _WIDE_ONLY:
            shrinks = not wide and column in _SHRINKING
            table.add_column(column, no_wrap=True, overflow="ellipsis" if shrinks else "fold")
    return table


def _draw(table: Table, *, color: bool, wide: bool) -> str:
    """The table never folded, so that piped output stays one row per line: at its natural
    width when wide, else within ``DEFAULT_WIDTH``."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=100_000 if wide else DEFAULT_WIDTH,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
    )
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
