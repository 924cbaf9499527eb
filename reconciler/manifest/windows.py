"""The ``windows:`` of a Project: when its replaces and deletes may run (Argo CD's sync windows).

Each window opens at every ``schedule`` time in its ``timezone`` and lasts ``duration`` (elapsed
time; ``recurrence``). A ``deny`` window holds the actions it lists back while it is open; once a
project has ``allow`` windows for an action, that action runs only while one of them is open.
Deny wins over allow. Only the disruptive actions can be windowed: creates, recreates, updates
and token renewals always run, since they heal or keep agents up. This module holds the
document model (``WindowDocument``) and the resolved value the planner reads
(``ChangeWindow``); what a window holds back is the planner's (``plan.windows``). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field, model_validator

from reconciler.manifest.fields import OwnModel
from reconciler.manifest.timing import Cron, Duration, TimeZoneName, as_timedelta
from reconciler.recurrence import Recurrence

WindowAction = Literal["replace", "delete"]
"""The actions a window governs: the two that make a live agent leave."""

WINDOWED_ACTIONS: Final = ("replace", "delete")


def _positive(text: str) -> str:
    if as_timedelta(text).total_seconds() <= 0:
        raise ValueError(f"a window must last longer than zero, got {text!r}")
    return text


_Actions = Annotated[list[WindowAction], Field(min_length=1)]


class WindowDocument(OwnModel):
    """One change window: from each schedule time, for its duration, deny or allow actions."""

    schedule: Cron = Field(
        description="A five-field cron expression: when the window opens, in its timezone."
    )
    duration: Annotated[Duration, AfterValidator(_positive)] = Field(
        description="How long the window stays open from each start (elapsed time), e.g. 8h."
    )
    timezone: TimeZoneName = Field(
        default="UTC", description="The IANA time zone the schedule is read in. Default UTC."
    )
    deny: _Actions | None = Field(
        default=None,
        description="Actions held back while the window is open: replace, delete.",
    )
    allow: _Actions | None = Field(
        default=None,
        description=(
            "Actions that run only while one of the project's allow windows for them is open "
            "(and no deny window is): replace, delete."
        ),
    )

    @model_validator(mode="after")
    def _deny_or_allow(self) -> WindowDocument:
        if self.deny is None and self.allow is None:
            raise ValueError("a window lists the actions it governs: deny: [...] or allow: [...]")
        if self.deny is not None and self.allow is not None:
            raise ValueError("a window either denies or allows: set deny or allow, not both")
        return self


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """A resolved window: ``deny`` (else allow) ``actions`` while ``recurrence`` is open.

    ``duration`` is the text of the manifest, for plans to quote; ``index`` is the window's
    place in its Project's ``windows``, to name it by.
    """

    recurrence: Recurrence
    duration: str
    deny: bool
    actions: tuple[str, ...]
    index: int

    @property
    def kind(self) -> str:
        return "deny" if self.deny else "allow"

    def describe(self) -> str:
        """The window in words: ``deny window windows[0] '0 9 * * 1-5' for 9h (Europe/Berlin)``."""
        cron, zone = self.recurrence.cron, self.recurrence.time_zone
        return f"{self.kind} window windows[{self.index}] '{cron}' for {self.duration} ({zone})"


def resolve(document: WindowDocument, index: int) -> ChangeWindow:
    """The window ``document`` (validated) says, the ``index``-th of its Project."""
    actions = document.deny if document.deny is not None else document.allow
    assert actions is not None  # the model requires one of them
    return ChangeWindow(
        recurrence=Recurrence(
            cron=document.schedule,
            duration=as_timedelta(document.duration),
            time_zone=document.timezone,
        ),
        duration=document.duration,
        deny=document.deny is not None,
        actions=tuple(a for a in WINDOWED_ACTIONS if a in actions),
        index=index,
    )
