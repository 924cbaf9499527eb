"""The steps that keep the live agent a change names: adopt it, update it in place, renew its
token.

Each checks that the state still holds what the plan saw (else the change is reported as moved),
makes at most one update call through the step's gated client, and writes the key's record. It
never joins or leaves an agent, and never touches an agent the change does not name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from reconciler.apply import payloads, rtc_tokens
from reconciler.apply.intents import Ledger
from reconciler.apply.report import Outcome, StepResult
from reconciler.apply.results import applied, moved, result
from reconciler.apply.steps import StepContext
from reconciler.clock import Clock
from reconciler.errors import NotFoundError
from reconciler.manifest.desired import DesiredFleet
from reconciler.plan import Action, Change, diff
from reconciler.state import AgentRecord


async def adopt(
    change: Change,
    *,
    desired: DesiredFleet,
    ledger: Ledger,
    fingerprints: Mapping[str, str],
    clock: Clock,
    git_revision: str | None,
) -> StepResult:
    """Record the live agent an unconfirmed join left under the key's name as the key's own."""
    record = ledger.record(change.key)
    if change.agent_id is None:
        return moved(change, record)
    if record is not None and record.agent_id == change.agent_id:
        return result(change, Outcome.DONE, "already recorded", change.agent_id)
    if record is not None and record.agent_id is not None:
        return moved(change, record)
    agent = desired.agents[change.key]
    view = diff.desired_view(agent, fingerprints=fingerprints)
    kept = applied(view, agent)
    spec_hash = diff.spec_hash(view)
    if record is not None and record.remote_name == change.remote_name:
        # The slot of an unconfirmed join holds what that join sent: trust it over today's spec.
        kept, spec_hash = dict(record.applied_properties), record.spec_hash
    now = clock.now()
    await ledger.put(
        AgentRecord(
            key=change.key,
            project=change.project,
            remote_name=change.remote_name,
            generation=change.generation,
            agent_id=change.agent_id,
            channel=agent.channel,
            agent_rtc_uid=agent.agent_rtc_uid,
            applied_properties=kept,
            spec_hash=spec_hash,
            token_expires_at=None,
            created_at=now,
            updated_at=now,
            git_revision=git_revision,
            status_hint="adopted",
        )
    )
    return result(change, Outcome.DONE, "adopted", change.agent_id)


async def update(
    change: Change,
    ctx: StepContext,
    *,
    desired: DesiredFleet,
    fingerprints: Mapping[str, str],
    values: payloads.SecretValues,
    clock: Clock,
    git_revision: str | None,
) -> StepResult:
    """Send the in-place fields (or a renewed token) and refresh the key's record."""
    record = ctx.ledger.record(change.key)
    if record is None or change.agent_id is None or record.agent_id != change.agent_id:
        return moved(change, record)
    agent = desired.agents[change.key]
    renew = change.action is Action.RENEW_TOKEN
    token = (
        rtc_tokens.token_for(
            agent,
            project=desired.projects[change.project],
            app_id=ctx.api.app_id,
            values=values,
        )
        if renew or "token" in change.update
        else None
    )
    agent_id = change.agent_id
    status_hint = record.status_hint
    # An update with nothing to send only refreshes the flags the record keeps (protect,
    # archiveHistory): Agora has nothing to change, so it is not called.
    if renew or change.update:
        fields = {} if renew else change.update
        request = payloads.update_request(
            agent, fields=fields, token=token.value if token else None, values=values
        )
        try:
            answer = await ctx.attempt("update", 1, lambda: ctx.api.update(agent_id, request))
        except NotFoundError:
            return result(
                change,
                Outcome.FAILED,
                "the agent is no longer running (404); the next plan recreates it",
                agent_id,
                reason="TaskNotFound",
            )
        status_hint = answer.status
    updated = dataclasses.replace(
        record,
        token_expires_at=token.expires_at if token else record.token_expires_at,
        updated_at=clock.now(),
        status_hint=status_hint,
    )
    if not renew:
        view = diff.desired_view(agent, fingerprints=fingerprints)
        updated = dataclasses.replace(
            updated,
            applied_properties=applied(view, agent),
            spec_hash=diff.spec_hash(view),
            git_revision=git_revision,
        )
    await ctx.ledger.put(updated)
    if renew:
        detail = "token renewed"
    elif change.update:
        detail = "updated " + ", ".join(sorted(change.update))
    else:
        detail = change.reason
    return result(change, Outcome.DONE, detail, agent_id)
