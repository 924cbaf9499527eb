"""Notification events as values, and the body each kind of target receives.

An ``Event`` names what happened (``EventKind``), a one-line summary a person reads, the revision
in force, the projects and agent keys it concerns, and a few details (counts, refusals,
diagnostics). ``render`` turns it into a generic JSON document or a Slack incoming-webhook
message. Pure: no I/O, no clock (the caller stamps the time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

FORMAT_VERSION: Final = "1"
# Slack shows long lists badly; the JSON body always carries them whole.
_SLACK_ITEMS: Final = 10


class EventKind(StrEnum):
    """What a notification is about; ``--notify URL#events=...`` picks some of them."""

    PASS_FAILED = "pass_failed"
    PASS_RECOVERED = "pass_recovered"
    AGENT_FLAPPING = "agent_flapping"
    QUOTA_REACHED = "quota_reached"
    PLAN_HELD_BACK = "plan_held_back"
    REVISION_APPLIED = "revision_applied"
    REVISION_REJECTED = "revision_rejected"
    REVISION_UNVERIFIED = "revision_unverified"


@dataclass(frozen=True)
class Event:
    """One thing worth telling: never a secret, only names, ids, counts and diagnostics."""

    kind: EventKind
    summary: str
    at: float
    revision: str | None = None
    projects: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


class Style(StrEnum):
    JSON = "json"
    SLACK = "slack"


def render(event: Event, *, style: Style) -> dict[str, Any]:
    """The request body for a target of ``style``."""
    if style is Style.SLACK:
        return {"text": _slack_text(event)}
    return {
        "format_version": FORMAT_VERSION,
        "source": "reconciler",
        "event": event.kind.value,
        "summary": event.summary,
        "at": event.at,
        "revision": event.revision,
        "projects": list(event.projects),
        "agents": list(event.agents),
        "details": dict(event.details),
    }


def _slack_text(event: Event) -> str:
    lines = [f"*reconciler: {event.kind.value.replace('_', ' ')}*: {event.summary}"]
    if event.revision:
        lines.append(f"revision `{event.revision[:12]}`")
    if event.projects:
        lines.append("projects: " + ", ".join(event.projects))
    if event.agents:
        shown = ", ".join(event.agents[:_SLACK_ITEMS])
        more = len(event.agents) - _SLACK_ITEMS
        lines.append("agents: " + shown + (f" and {more} more" if more > 0 else ""))
    for name, value in event.details.items():
        if isinstance(value, list | tuple):
            lines.append(f"{name}:")
            lines.extend(f"• {item}" for item in list(value)[:_SLACK_ITEMS])
        else:
            lines.append(f"{name}: {value}")
    return "\n".join(lines)
