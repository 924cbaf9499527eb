"""The ``schedule:``, ``priority:`` and ``pricing:`` fields: when agents should exist, which
come first under the quota, and what a minute of one costs.

A schedule is one window (``{cron, duration, timezone}``), a list of them, or ``always`` (the
default): outside every window the agent is not desired, so the daemon makes it leave at the
window's end and joins it again at the next start (``recurrence`` walks the windows). An Agent
takes its own schedule, else its profile's; an AgentSet member takes the set's per-channel
schedule, else the template's, else the profile's. ``pricing`` defaults to Agora's published
standard price (docs/decisions.md, "Cost"). Pure: validation and conversion only.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Discriminator, Field, Tag

from reconciler.manifest.fields import OwnModel
from reconciler.manifest.timing import Cron, Duration, TimeZoneName, as_timedelta
from reconciler.recurrence import Recurrence

ALWAYS: Final = "always"
# Agora's pricing page (https://www.agora.io/en/pricing/conversational-ai/), as of 2026-12-02
# (quoted by issue 19; not fetched from this offline machine, so re-check it):
# the Conversational AI Engine standard tier is USD 0.10 per minute an agent runs.
DEFAULT_PRICE_PER_MINUTE: Final = 0.10
DEFAULT_CURRENCY: Final = "USD"


class ScheduleWindow(OwnModel):
    """A window in which the agent should be running: from each cron time, for a duration."""

    cron: Cron = Field(
        description="A five-field cron expression: when each window starts, in timezone "
        "(e.g. '0 9 * * 1-5' for 09:00 Monday to Friday)."
    )
    duration: Duration = Field(
        description="How long each window lasts from its start, in elapsed time (9h stays 9 "
        "hours across a DST change), e.g. 9h or 90m."
    )
    timezone: TimeZoneName = Field(
        default="UTC",
        description="The IANA time zone the cron times are read in, e.g. Europe/Berlin; a "
        "09:00 start stays at 09:00 local time across DST changes.",
    )

    def recurrence(self) -> Recurrence:
        """The window as ``recurrence`` walks it."""
        return Recurrence(
            cron=self.cron, duration=as_timedelta(self.duration), time_zone=self.timezone
        )


UNION_TAGS: Final = frozenset({"<always>", "<window>", "<windows>"})
"""The labels pydantic puts in an error's location for the schedule's form; explain drops them."""


def _form(value: Any) -> str | None:
    """Which of the three forms ``value`` is written in, so errors speak of that form alone."""
    if isinstance(value, str):
        return "<always>"
    if isinstance(value, dict | ScheduleWindow):
        return "<window>"
    if isinstance(value, list):
        return "<windows>"
    return None


Schedule = Annotated[
    Annotated[Literal["always"], Tag("<always>")]
    | Annotated[ScheduleWindow, Tag("<window>")]
    | Annotated[list[ScheduleWindow], Field(min_length=1), Tag("<windows>")],
    Discriminator(
        _form,
        custom_error_type="schedule_form",
        custom_error_message="must be always, a window {cron, duration, timezone} or a list "
        "of windows",
    ),
]
SCHEDULE_DESCRIPTION: Final = (
    "When the agent should be running: a window {cron, duration, timezone}, a list of them, or "
    "always (the default). Outside every window the agent is not desired: it leaves at the "
    "window's end (a scheduled stop, not a delete) and joins again at the next start."
)
PRIORITY_DESCRIPTION: Final = (
    "When more agents of the project are desired at once than maxConcurrentAgents allows, the "
    "highest priorities run and the rest wait for quota (ties: the agent already running, then "
    "the first key). Default 0; negative allowed."
)
PREEMPTION_DESCRIPTION: Final = (
    "Let this agent, waiting for quota, make a running agent of lower priority leave to take "
    "its place; without it, it waits until a place is free."
)


def recurrences(schedule: Schedule | None) -> tuple[Recurrence, ...]:
    """The windows of ``schedule``; empty for ``always`` or none (always running)."""
    if schedule is None or schedule == ALWAYS:
        return ()
    windows = schedule if isinstance(schedule, list) else [schedule]
    assert all(isinstance(window, ScheduleWindow) for window in windows)
    return tuple(window.recurrence() for window in windows if isinstance(window, ScheduleWindow))


class Pricing(OwnModel):
    """What one agent costs per minute it runs, for the cost estimates of plans and status."""

    price_per_minute: Annotated[float, Field(ge=0, strict=False)] = Field(
        default=DEFAULT_PRICE_PER_MINUTE,
        description=(
            "The price of one agent running for one minute. Default 0.10, Agora's published "
            "standard price for Conversational AI (agora.io/en/pricing, as of 2026-12-02); set "
            "your contract's price, free minutes are not counted."
        ),
    )
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = Field(
        default=DEFAULT_CURRENCY, description="The ISO 4217 code the price is in. Default USD."
    )
