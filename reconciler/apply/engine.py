"""Execute a plan against Agora and the state, safely, and report what happened.

``apply_plan`` runs the changes in the plan's order (the pass has already resolved the intents a
killed pass left behind, through the same ``Ledger``), one action at a time, each action's
changes concurrently under a bound whose slots the projects take in turn: moves (re-keying
records, no call), deletes (to free quota), recreates, replaces (leave, wait until gone, join
the next generation; in the plan's rollout waves, each scope's waves one after another and
every wave RUNNING before the next), creates, adopts, updates, token renewals.
Every call to a project passes its token bucket. Before a delete or replace makes an agent
leave, its history is archived where its manifest asks (``archive``), since Agora forgets it at
stop. The crash-safety rules of joins and leaves live in ``joins``, ``leaves`` and ``intents``,
adopts and in-place updates in ``in_place``; this module decides which steps a change takes,
keeps going when one fails, stops joining in a project that answered 422, and turns each outcome
into the report.

It trusts the plan's safety check to have run, never looks at an agent the plan does not name,
and never decides what the fleet should be. Secrets reach the requests here, at apply time only,
from the pass's ``SecretValues``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.agora import wire
from reconciler.apply import (
    archive,
    deferral,
    in_place,
    joins,
    leaves,
    payloads,
    readiness,
    recovered,
    rollout,
    rtc_tokens,
    steps,
)
from reconciler.apply.intents import JoinTicket, LeaveTicket, Ledger
from reconciler.apply.progress import ApplyProgress, NoProgress
from reconciler.apply.ratelimit import AgentApi, GatedApi, TokenBucket, projects_in_turn
from reconciler.apply.readiness import Polling
from reconciler.apply.report import ApplyReport, Outcome, StepResult
from reconciler.apply.results import applied as _applied
from reconciler.apply.results import moved as _moved
from reconciler.apply.results import result as _result
from reconciler.apply.steps import ApplySettings, StepContext
from reconciler.clock import Clock, SystemClock
from reconciler.errors import ApiError, ManifestError
from reconciler.manifest.desired import DesiredAgent, DesiredFleet
from reconciler.plan import Action, Change, Plan, diff
from reconciler.state import AgentRecord

__all__ = ["ApplySettings", "apply_plan"]


async def apply_plan(
    plan: Plan,
    *,
    desired: DesiredFleet,
    apis: Mapping[str, AgentApi],
    ledger: Ledger,
    fingerprints: Mapping[str, str],
    values: payloads.SecretValues,
    settings: ApplySettings | None = None,
    clock: Clock | None = None,
    stopping: Callable[[], bool] | None = None,
    progress: ApplyProgress | None = None,
) -> ApplyReport:
    """Execute ``plan``; failures are in the report, not raised.

    ``apis`` maps each project name to its client; ``ledger`` is the pass's view of the state,
    its leftover intents resolved; ``fingerprints`` is what the plan was made with (secret
    reference to keyed fingerprint), so records store the same view the next plan compares, and
    ``values`` the secrets those fingerprints were made from. Once ``stopping`` turns true (the
    daemon got SIGTERM, ``apply`` a first Ctrl-C), changes in flight finish and the rest are
    skipped; ``progress`` hears of each change as it starts and ends. Raises only
    ``StateError``: when the state cannot be written, nothing may go on.
    """
    run = _Run(
        desired=desired,
        apis=apis,
        ledger=ledger,
        fingerprints=fingerprints,
        settings=settings or ApplySettings(),
        clock=clock or SystemClock(),
        values=values,
        stopping=stopping or (lambda: False),
        progress=progress or NoProgress(),
    )
    return await run.execute(plan)


class _Run:
    """The bookkeeping of one ``apply_plan`` call; lives only inside it."""

    def __init__(
        self,
        *,
        desired: DesiredFleet,
        apis: Mapping[str, AgentApi],
        ledger: Ledger,
        fingerprints: Mapping[str, str],
        settings: ApplySettings,
        clock: Clock,
        values: payloads.SecretValues,
        stopping: Callable[[], bool],
        progress: ApplyProgress,
    ) -> None:
        self._desired = desired
        self._stopping = stopping
        self._progress = progress
        self._fingerprints = fingerprints
        # One set of views for the run: the parts its agents share are converted once.
        self._views = diff.Views(fingerprints)
        self._settings = settings
        self._clock = clock
        self._values = values
        self._ledger = ledger
        self._apis = {
            name: GatedApi(api, bucket=TokenBucket(settings.rate_limit, clock=clock))
            for name, api in apis.items()
        }
        self._gate = asyncio.Semaphore(settings.concurrency)
        self._quota_stopped: set[str] = set()

    async def execute(self, plan: Plan) -> ApplyReport:
        results: dict[int, StepResult] = {}
        self._progress.planned(plan.changes)
        for action in Action:
            batch = [(i, c) for i, c in enumerate(plan.changes) if c.action is action]
            if not batch:
                continue
            if action is Action.REPLACE:
                results.update(
                    await rollout.run_replaces(
                        batch,
                        desired=self._desired,
                        start=lambda change, polling: self._guarded(change, must_run=polling),
                        skip=self._skip,
                        quiet=self._quiet,
                        clock=self._clock,
                        polling=self._settings.ready_polling,
                    )
                )
                continue
            batch = projects_in_turn(batch, project=lambda change: change.project)
            tasks = await rollout.together([self._guarded(change) for _, change in batch])
            results.update({i: result for (i, _), result in zip(batch, tasks, strict=True)})
        return ApplyReport(
            results=tuple(results[i] for i in sorted(results)),
            quota_stopped=tuple(sorted(self._quota_stopped)),
        )

    async def _quiet(self, change: Change) -> None:
        """Wait while the agent a replace or a scheduled stop retires is talking, up to its
        ``deferWhileTalking``."""
        limit = self._desired.agents[change.key].rollout.defer_seconds
        if limit > 0 and change.agent_id is not None and change.leaves_live:
            api, log = self._apis[change.project], self._context(change).log
            await deferral.wait_while_talking(
                api,
                change.agent_id,
                limit=limit,
                clock=self._clock,
                stopping=self._stopping,
                log=log,
            )

    def _skip(self, change: Change, why: str) -> StepResult:
        """A replace of a rollout that stopped before its wave: reported, not started."""
        return self._not_started(change, why, reason="rollout-stopped")

    def _not_started(self, change: Change, why: str, *, reason: str) -> StepResult:
        skipped = _result(change, Outcome.SKIPPED, why, reason=reason)
        self._progress.finished(change, skipped)
        return steps.outcome(self._context(change), skipped, started=time.perf_counter())

    async def _guarded(self, change: Change, *, must_run: Polling | None = None) -> StepResult:
        async with self._gate:
            if self._stopping():
                return self._not_started(change, "not started: stopping", reason="stopping")
            self._progress.started(change)
            result = await self._run(change, must_run=must_run)
            self._progress.finished(change, result)
            return result

    async def _run(self, change: Change, *, must_run: Polling | None) -> StepResult:
        started = time.perf_counter()
        ctx = self._context(change)
        try:
            result = await self._dispatch(change, ctx, must_run=must_run)
        except (ManifestError, ApiError) as exc:
            result = _result(change, Outcome.FAILED, str(exc), reason=type(exc).__name__)
        return steps.outcome(ctx, result, started=started)

    def _context(self, change: Change) -> StepContext:
        agent = self._desired.agents.get(change.key)
        record = self._ledger.record(change.key)
        channel = agent.channel if agent else (record.channel if record else None)
        return StepContext(
            api=self._apis[change.project],
            ledger=self._ledger,
            clock=self._clock,
            settings=self._settings,
            log=steps.new_logger(
                project=change.project,
                channel=channel,
                key=change.key,
                remote_name=change.remote_name,
                agent_id=change.agent_id,
                action=change.action.value,
            ),
        )

    async def _dispatch(
        self, change: Change, ctx: StepContext, *, must_run: Polling | None
    ) -> StepResult:
        if change.action is Action.MOVE:
            return await self._move(change)
        if change.action is Action.STOP:
            # A schedule's end is no emergency: a conversation in progress may finish first.
            await self._quiet(change)
        if change.action in (Action.DELETE, Action.STOP):
            return await self._delete(change, ctx)
        if change.action is Action.REPLACE:
            return await self._replace(change, ctx, must_run=must_run)
        if change.action in (Action.CREATE, Action.RECREATE):
            return await self._join(change, ctx)
        if change.action is Action.ADOPT and change.recovered:
            return await self._adopt_recovered(change, ctx)
        if change.action is Action.ADOPT:
            return await in_place.adopt(
                change,
                desired=self._desired,
                ledger=self._ledger,
                fingerprints=self._fingerprints,
                clock=self._clock,
                git_revision=self._settings.git_revision,
            )
        return await self._update(change, ctx)

    async def _move(self, change: Change) -> StepResult:
        """Re-key the record the plan saw under ``moved_from``; nothing is asked of Agora."""
        assert change.moved_from is not None  # every move names the key it takes the record from
        record = self._ledger.record(change.moved_from)
        if record is None or record.agent_id != change.agent_id:
            return _moved(change, record)
        if self._ledger.record(change.key) is not None:
            return _moved(change, self._ledger.record(change.key))
        renamed = dataclasses.replace(
            record, key=change.key, project=change.project, updated_at=self._clock.now()
        )
        await self._ledger.move(change.moved_from, renamed)
        return _result(change, Outcome.DONE, f"record moved from {change.moved_from}")

    async def _delete(self, change: Change, ctx: StepContext) -> StepResult:
        record = self._ledger.record(change.key)
        if record is None:
            return _result(change, Outcome.DONE, "already gone from the state")
        if record.agent_id not in (None, change.agent_id):
            return _moved(change, record)
        if change.agent_id is None or not change.leaves_live:
            await self._ledger.delete(change.key)
            return _result(change, Outcome.DONE, "its agent had already ended; record removed")
        ticket = LeaveTicket(
            key=change.key,
            project=change.project,
            agent_id=change.agent_id,
            remote_name=record.remote_name,
            channel=record.channel,
        )
        await archive.save_before_leave(ctx.api, record, agent=None)
        left = await leaves.leave(ctx, ticket)
        outcome = Outcome.DONE if left.gone else Outcome.FAILED
        return _result(change, outcome, left.detail, reason=left.reason)

    async def _replace(
        self, change: Change, ctx: StepContext, *, must_run: Polling | None
    ) -> StepResult:
        record = self._ledger.record(change.key)
        agent = self._desired.agents[change.key]
        if change.agent_id is None:
            return _moved(change, record)
        if change.recovered and recovered.still_recoverable(change, record):
            # No record owns the agent it leaves: the archive and the leave go by what the plan
            # found, and only the join that follows writes a record.
            record = self._recovered_record(change, agent, known={})
        elif record is None or record.agent_id != change.agent_id:
            return _moved(change, record)
        request, ticket = self._join_body(change, agent)
        await archive.save_before_leave(ctx.api, record, agent=agent)
        left = await leaves.leave(
            ctx,
            LeaveTicket(
                key=change.key,
                project=change.project,
                agent_id=change.agent_id,
                remote_name=record.remote_name,
                channel=record.channel,
                then_name=change.remote_name,
                then_generation=change.generation,
            ),
        )
        if not left.gone:
            return _result(change, Outcome.FAILED, f"old agent: {left.detail}", reason=left.reason)
        return await self._joined(
            change, ctx.bind(agent_id=None), request, ticket, must_run=must_run
        )

    async def _join(self, change: Change, ctx: StepContext) -> StepResult:
        if change.project in self._quota_stopped:
            return _result(
                change, Outcome.SKIPPED, "the project answered 422 (quota)", reason="quota"
            )
        record = self._ledger.record(change.key)
        if record is not None and record.agent_id is not None:
            if record.remote_name == change.remote_name:
                return _result(
                    change, Outcome.DONE, "already recorded from a leftover intent", record.agent_id
                )
            if change.action is Action.CREATE or record.agent_id != change.agent_id:
                return _moved(change, record)
        if record is not None and record.generation > change.generation:
            return _moved(change, record)
        request, ticket = self._join_body(change, self._desired.agents[change.key])
        return await self._joined(change, ctx, request, ticket)

    async def _joined(
        self,
        change: Change,
        ctx: StepContext,
        request: wire.JoinRequest,
        ticket: JoinTicket,
        *,
        must_run: Polling | None = None,
    ) -> StepResult:
        """Join; then, when asked (``--wait``, or a rollout wave that must be RUNNING before
        the next starts), wait until the new agent is RUNNING."""
        joined = await joins.join(ctx, ticket, request)
        if joined.quota:
            self._quota_stopped.add(change.project)
        if joined.agent_id is None:
            return _result(change, Outcome.FAILED, joined.detail, reason=joined.reason)
        polling = must_run or (self._settings.ready_polling if self._settings.wait else None)
        if polling is None:
            return _result(change, Outcome.DONE, joined.detail, joined.agent_id)
        seen = await readiness.wait_until_running(
            ctx.api, joined.agent_id, clock=self._clock, polling=polling
        )
        if seen.reached:
            return _result(change, Outcome.DONE, f"{joined.detail}; RUNNING", joined.agent_id)
        return _result(
            change,
            Outcome.FAILED,
            f"{joined.detail}; then {seen.describe()} instead of RUNNING",
            joined.agent_id,
            reason="not-running",
        )

    async def _adopt_recovered(self, change: Change, ctx: StepContext) -> StepResult:
        """Own a live agent found by its name and digest, then send it the in-place fields.

        The record first holds only what the name vouches for, so that if the update fails the
        next plan still sees the in-place fields as unsent and sends them.
        """
        record = self._ledger.record(change.key)
        if not recovered.still_recoverable(change, record):
            return _moved(change, record)
        agent = self._desired.agents[change.key]
        view = self._views.of(agent)
        await self._ledger.put(
            self._recovered_record(change, agent, known=diff.without_in_place(view.properties))
        )
        result = await self._update(change, ctx)
        return dataclasses.replace(result, detail=f"adopted; {result.detail}")

    def _recovered_record(
        self, change: Change, agent: DesiredAgent, *, known: Mapping[str, Any]
    ) -> AgentRecord:
        return recovered.recovered_record(
            change,
            agent,
            known=known,
            prefix=self._desired.projects[change.project].name_prefix,
            now=self._clock.now(),
            git_revision=self._settings.git_revision,
        )

    async def _update(self, change: Change, ctx: StepContext) -> StepResult:
        return await in_place.update(
            change,
            ctx,
            desired=self._desired,
            fingerprints=self._fingerprints,
            values=self._values,
            clock=self._clock,
            git_revision=self._settings.git_revision,
        )

    def _join_body(
        self, change: Change, agent: DesiredAgent
    ) -> tuple[wire.JoinRequest, JoinTicket]:
        """The join request (secrets resolved, token chosen) and the ticket its intent carries."""
        project = self._desired.projects[change.project]
        token = rtc_tokens.token_for(
            agent, project=project, app_id=self._apis[change.project].app_id, values=self._values
        )
        request = payloads.join_request(
            agent,
            remote_name=change.remote_name,
            generation=change.generation,
            token=token.value,
            values=self._values,
            fleet_id=self._settings.fleet_id,
        )
        view = self._views.of(agent)
        ticket = JoinTicket(
            key=change.key,
            project=change.project,
            prefix=project.name_prefix,
            remote_name=change.remote_name,
            generation=change.generation,
            channel=agent.channel,
            agent_rtc_uid=agent.agent_rtc_uid,
            applied_properties=_applied(view, agent),
            spec_hash=diff.spec_hash(view),
            token_expires_at=token.expires_at,
            git_revision=self._settings.git_revision,
        )
        return request, ticket
