"""Resolving the intents a killed pass left behind, before a pass plans anything.

Design §4. A pass starts here (``resolve_leftovers``): a pending join is looked up by its name
(found: recorded, not found: its name is kept for a retry), a pending leave by its agent id
(gone: its outcome is recorded, still there: left again). Each resolution is one ``StepResult``
and one structured event; an intent whose project is not in the manifests, or whose look-up
fails, stays pending for a later pass.

This module only finishes bookkeeping that ``intents`` defines (tickets, slots, the
``settle_join`` rule). It never joins, and the only agents it asks to leave are ones its own
intents name.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from reconciler.apply import readiness
from reconciler.apply.intents import (
    SUPERSEDED,
    JoinTicket,
    LeaveTicket,
    Ledger,
    Settled,
    leave_quietly,
    settle_join,
)
from reconciler.apply.ratelimit import AgentApi
from reconciler.apply.report import Outcome, StepResult
from reconciler.clock import Clock
from reconciler.errors import ApiError
from reconciler.state import Intent, IntentAction

RESOLVE_JOIN = "resolve-join"
RESOLVE_LEAVE = "resolve-leave"


async def resolve_leftovers(
    ledger: Ledger,
    apis: Mapping[str, AgentApi],
    *,
    clock: Clock,
    polling: readiness.Polling,
) -> tuple[StepResult, ...]:
    """Resolve every intent a killed pass left, oldest first; unreachable ones stay pending."""
    results = []
    for intent in ledger.intents():
        api = apis.get(intent.project)
        if api is None:
            results.append(
                _result(
                    intent, Outcome.SKIPPED, "left pending: its project is not in the manifests"
                )
            )
            continue
        try:
            if intent.action is IntentAction.JOIN:
                result = await _resolve_join(ledger, api, intent, clock=clock)
            else:
                result = await _resolve_leave(ledger, api, intent, clock=clock, polling=polling)
        except ApiError as exc:
            result = _result(intent, Outcome.FAILED, f"left pending: {exc}")
        _log_resolution(intent, result)
        results.append(result)
    return tuple(results)


async def _resolve_join(
    ledger: Ledger, api: AgentApi, intent: Intent, *, clock: Clock
) -> StepResult:
    ticket = JoinTicket.from_intent(intent)
    now = clock.now()
    found = await readiness.find_by_name(
        api, channel=ticket.channel, name=ticket.remote_name, now=now
    )
    settled = await settle_join(ledger, api, intent.id, ticket, found, now=now)
    if settled is Settled.KEPT:
        return _result(intent, Outcome.DONE, "no agent carries its name; the name is kept")
    assert found is not None  # only KEPT settles without an agent
    if settled is Settled.SUPERSEDED:
        return _result(intent, Outcome.DONE, SUPERSEDED, found.agent_id)
    return _result(intent, Outcome.DONE, f"found {found.status} and recorded", found.agent_id)


async def _resolve_leave(
    ledger: Ledger, api: AgentApi, intent: Intent, *, clock: Clock, polling: readiness.Polling
) -> StepResult:
    ticket = LeaveTicket.from_intent(intent)
    seen = await readiness.look(api, ticket.agent_id)
    if not seen.ended:
        await leave_quietly(api, ticket.agent_id)
        seen = await readiness.wait_until_gone(api, ticket.agent_id, clock=clock, polling=polling)
    if not seen.ended:
        return _result(
            intent, Outcome.FAILED, f"left again, still {seen.describe()}", ticket.agent_id
        )
    await ticket.settle_gone(ledger, intent.id, now=clock.now())
    return _result(intent, Outcome.DONE, f"agent is {seen.describe()}", ticket.agent_id)


def _result(
    intent: Intent, outcome: Outcome, detail: str, agent_id: str | None = None
) -> StepResult:
    return StepResult(
        key=intent.key,
        project=intent.project,
        action=RESOLVE_JOIN if intent.action is IntentAction.JOIN else RESOLVE_LEAVE,
        outcome=outcome,
        remote_name=intent.remote_name,
        agent_id=agent_id if agent_id is not None else intent.agent_id,
        detail=detail,
    )


def _log_resolution(intent: Intent, result: StepResult) -> None:
    structlog.get_logger(__name__).info(
        "intent_resolved",
        project=intent.project,
        channel=intent.channel,
        key=intent.key,
        remote_name=intent.remote_name,
        agent_id=result.agent_id,
        action=result.action,
        outcome=result.outcome.value,
        detail=result.detail,
    )
