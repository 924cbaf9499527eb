"""What the daemon tells people: its happenings turned into notification events, once per change.

The controller reports each pass's end, the recreations flap protection holds back, the safety
refusals and a rejected commit; ``Alerts`` decides which of them are news and hands those to the
notifier as ``notify.Event`` values. It reports changes of condition, not every pass: the first
failing pass of a streak (``pass_failed``) and the first good one after it (``pass_recovered``),
an agent when flap protection starts holding it, a project when it first hits its quota, a
refusal when the set of refusals changes, a revision when a successful pass first applies it
(not the one a daemon starts with), and every commit rejected for its manifests. A pass held back
by a refusal is reported as that, not also as a failure.

Every text goes through the log masker before it leaves, as a last line of defence. Nothing here
delivers, retries or speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from reconciler import logs
from reconciler.apply.report import Outcome
from reconciler.clock import Clock
from reconciler.daemon.flap import Held
from reconciler.notify import Event, EventKind
from reconciler.reconcile.apply_pass import Done

Send = Callable[[Event], None]
# Enough diagnostics to act on; the log has them all.
_DIAGNOSTICS = 20


class Alerts:
    """Remembers the last condition reported, and sends an event when it changes."""

    def __init__(self, send: Send | None, *, clock: Clock) -> None:
        self._send = send
        self._clock = clock
        self._failing = False
        self._flapping: frozenset[str] = frozenset()
        self._refusals: tuple[str, ...] = ()
        self._quota: frozenset[str] = frozenset()
        self._applied: str | None = None
        self._revision: str | None = None

    def in_force(self, revision: str | None) -> None:
        """The revision this pass applies; every event until the next names it."""
        self._revision = revision

    def pass_finished(self, *, error: str | None, ran: Done | None) -> None:
        """A pass ended: with ``error`` (it raised), or with what it ``ran``."""
        revision = self._revision
        unfinished = () if ran is None else ran.report.unfinished
        failed = error is not None or bool(unfinished)
        if failed and not self._failing:
            keys = tuple(sorted({r.key for r in unfinished}))
            why = error or f"{len(keys)} change(s) did not finish: " + "; ".join(
                f"{r.key}: {r.detail}" for r in unfinished[:_DIAGNOSTICS]
            )
            projects = sorted({r.project for r in unfinished})
            self._emit(
                EventKind.PASS_FAILED, why, revision=revision, agents=keys, projects=projects
            )
        elif not failed and self._failing:
            self._emit(EventKind.PASS_RECOVERED, "a pass succeeded again", revision=revision)
        self._failing = failed
        if ran is None:
            return
        quota = frozenset(ran.report.quota_stopped)
        reached = quota - self._quota
        if reached:
            # The join that got the 422 and those skipped after it in the same project.
            stopped = sorted(
                r.key
                for r in ran.report.results
                if r.project in reached and r.outcome is not Outcome.DONE
            )
            self._emit(
                EventKind.QUOTA_REACHED,
                "the project answered 422: its concurrent-agent quota is reached",
                revision=revision,
                projects=sorted(reached),
                agents=tuple(stopped),
            )
        self._quota = quota
        ok = not failed and not self._refusals
        if ok and revision is not None and revision != self._applied:
            if self._applied is not None:
                done = [r for r in ran.report.results if r.outcome is Outcome.DONE]
                self._emit(
                    EventKind.REVISION_APPLIED,
                    f"revision {revision[:12]} applied ({len(done)} change(s))",
                    revision=revision,
                    agents=tuple(sorted({r.key for r in done})),
                    previous=self._applied,
                )
            self._applied = revision

    def held(self, held: Sequence[Held]) -> None:
        """Flap protection holds these recreations back this pass."""
        keys = frozenset(h.key for h in held)
        new = sorted(keys - self._flapping)
        if new:
            self._emit(
                EventKind.AGENT_FLAPPING,
                "recreation held back: the agent keeps stopping",
                revision=self._revision,
                agents=tuple(new),
            )
        self._flapping = keys

    def refused(self, refusals: Sequence[str]) -> None:
        """The safety rules refused this pass's plan (an empty list: nothing refused)."""
        current = tuple(refusals)
        if current and current != self._refusals:
            self._emit(
                EventKind.PLAN_HELD_BACK,
                "the plan is held back by a safety rule",
                revision=self._revision,
                refusals=list(current),
            )
        self._refusals = current

    def rejected(self, commit: str | None, *, diagnostics: Iterable[str], kept: str | None) -> None:
        """A commit's manifests failed to load; ``kept`` is the revision still in force."""
        found = list(diagnostics)
        self._emit(
            EventKind.REVISION_REJECTED,
            f"commit {commit or '(unknown)'} was not applied: its manifests do not load"
            + _stays(kept),
            revision=commit,
            kept_revision=kept,
            diagnostics=found[:_DIAGNOSTICS],
            errors=len(found),
        )

    def unverified(self, commit: str, *, reason: str, kept: str | None) -> None:
        """The commit the ref (or pin) points at is not signed by an allowed key."""
        self._emit(
            EventKind.REVISION_UNVERIFIED,
            f"commit {commit} was not deployed: {reason}" + _stays(kept),
            revision=commit,
            kept_revision=kept,
            reason=reason,
        )

    def _emit(
        self,
        kind: EventKind,
        summary: str,
        *,
        revision: str | None,
        agents: Sequence[str] = (),
        projects: Sequence[str] = (),
        **details: object,
    ) -> None:
        if self._send is None:
            return
        masked = {
            name: [logs.redact(str(v)) for v in value] if isinstance(value, list) else value
            for name, value in details.items()
        }
        self._send(
            Event(
                kind=kind,
                summary=logs.redact(summary),
                at=self._clock.now(),
                revision=revision,
                projects=tuple(projects) or tuple(sorted({a.split("/")[0] for a in agents})),
                agents=tuple(agents),
                details=masked,
            )
        )


def _stays(kept: str | None) -> str:
    """``; <kept> stays in force`` when a revision stays in force, else nothing."""
    return f"; {kept[:12]} stays in force" if kept else ""
