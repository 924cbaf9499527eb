"""What an apply did, change by change, and the summary a person reads at the end.

``ApplyReport`` is a frozen value built by apply; ``render_report`` is a pure function of it, so the
CLI and the daemon say the same thing. Nothing here acts, prints or holds a secret: details are
built from API reasons and error messages that the client has already masked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Outcome(StrEnum):
    """How one step ended."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StepResult:
    """One change of the plan (or one leftover intent) and how it ended.

    ``detail`` says it in words; ``reason`` is a short machine-readable cause when it did not end
    well (the API's reason, ``quota``, ``timeout``, ``state-moved``, ...).
    """

    key: str
    project: str
    action: str
    outcome: Outcome
    remote_name: str
    agent_id: str | None
    detail: str
    reason: str | None = None


@dataclass(frozen=True)
class ApplyReport:
    """Leftover intents resolved first, then every change in plan order."""

    leftovers: tuple[StepResult, ...] = ()
    results: tuple[StepResult, ...] = ()
    quota_stopped: tuple[str, ...] = ()

    @property
    def unfinished(self) -> tuple[StepResult, ...]:
        """Every step that failed or never ran: each makes the apply a partial failure.

        A leftover intent skipped because its project left the manifests is not one: nothing
        this pass was asked to do depends on it, and it waits, reported, for its project.
        """
        failed = tuple(r for r in self.leftovers if r.outcome is Outcome.FAILED)
        return failed + tuple(r for r in self.results if r.outcome is not Outcome.DONE)

    @property
    def ok(self) -> bool:
        return not self.unfinished


_DONE_WORDS: Final = {
    "delete": "deleted",
    "replace": "replaced",
    "recreate": "recreated",
    "create": "created",
    "adopt": "adopted",
    "update": "updated",
    "renew-token": "token renewed",
}
_MARKS: Final = {Outcome.FAILED: "✗", Outcome.SKIPPED: "-"}


def render_report(report: ApplyReport) -> str:
    """A few lines: what was done, then each failed or skipped step with its reason."""
    lines = []
    if report.leftovers:
        settled = sum(1 for r in report.leftovers if r.outcome is Outcome.DONE)
        lines.append(
            f"Resolved {settled} of {len(report.leftovers)} intents left by an interrupted apply."
        )
    done = Counter(r.action for r in report.results if r.outcome is Outcome.DONE)
    words = [f"{done[action]} {word}" for action, word in _DONE_WORDS.items() if done[action]]
    summary = ", ".join(words) if words else "nothing changed"
    if report.ok:
        lines.append(f"Apply complete: {summary}.")
    else:
        failed = sum(1 for r in report.unfinished if r.outcome is Outcome.FAILED)
        skipped = len(report.unfinished) - failed
        lines.append(f"Apply incomplete: {summary}; {failed} failed, {skipped} skipped.")
    for project in report.quota_stopped:
        lines.append(
            f"Project {project} reached its agent quota: its remaining joins were skipped."
        )
    for result in (*report.leftovers, *report.results):
        if result.outcome is Outcome.DONE:
            continue
        target = result.remote_name + (f" ({result.agent_id})" if result.agent_id else "")
        lines.append(
            f"  {_MARKS[result.outcome]} {result.key}: {result.action} {target}: {result.detail}"
        )
    return "\n".join(lines)
