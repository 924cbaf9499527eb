"""One crash-safe join: intent first, retries under the same name, a 409 resolved by name.

The rules (design §4, API notes §14.5-8), in the order they apply:

- The join's intent is committed before the first attempt; its outcome replaces it.
- An attempt refused for now (429) or whose answer may be lost (5xx, a dropped connection, a
  timeout, an answer off the contract) is retried under the same name: the name is single-use,
  so a join that did happen turns into a 409 instead of a second agent.
- A 409 on our own name means an agent already carries it: it is found by name (list the
  channel, query the candidates) and recorded. A 409 with no agent under that name is a real
  conflict (say, another agent holds the uid): reported, not retried, and the name is kept.
- A 422 means the project is at its quota: reported, and the caller stops further joins there.
- Any other 4xx is a definite failure: the name is spent and the next pass joins the next
  generation. Retries exhausted after a possible success: the agent is looked for by name; if the
  lookup itself fails, the intent stays pending for the next pass to resolve.

It never joins under any name but the ticket's, and never records an agent that does not carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler import readiness
from reconciler.agora import wire
from reconciler.errors import (
    ApiError,
    ConflictError,
    QuotaExceededError,
    RateLimitedError,
    TransportError,
)
from reconciler.intents import SUPERSEDED, JoinTicket, leave_quietly, may_write
from reconciler.state import AgentRecord, Intent
from reconciler.steps import StepContext


@dataclass(frozen=True)
class Joined:
    """How a join ended: the agent now recorded for its key, or why there is none."""

    agent_id: str | None
    status: str | None
    detail: str
    reason: str | None = None
    quota: bool = False


async def join(ctx: StepContext, ticket: JoinTicket, request: wire.JoinRequest) -> Joined:
    """Join under ``ticket.remote_name`` and record what happened, per the module's rules."""
    intent = ticket.intent(now=ctx.clock.now())
    ctx.ledger.begin(intent)
    retry = ctx.settings.join_retry
    maybe_joined = False
    last: ApiError | None = None
    for attempt in range(1, retry.attempts + 1):
        try:
            answer = await ctx.attempt("join", attempt, lambda: ctx.api.join(request))
        except ConflictError as exc:
            return await _conflict(ctx, ticket, intent, exc)
        except QuotaExceededError as exc:
            _spend(ctx, ticket, intent)
            return Joined(None, None, str(exc), reason=exc.reason or "quota", quota=True)
        except ApiError as exc:
            last = exc
            maybe_joined = maybe_joined or _may_have_joined(exc)
            if not exc.is_retryable and not _may_have_joined(exc):
                break
            if attempt < retry.attempts:
                retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
                delay = retry.delay(attempt, retry_after=retry_after)
                if retry_after is not None:
                    ctx.api.bucket.pause(delay)
                await ctx.clock.sleep(delay)
            continue
        ctx.ledger.settle(
            intent.id,
            put=ticket.joined(agent_id=answer.agent_id, status=answer.status, now=ctx.clock.now()),
        )
        return Joined(answer.agent_id, answer.status, f"joined ({answer.status})")
    assert last is not None  # the loop ran at least once and every pass through it failed
    if maybe_joined:
        return await _lost(ctx, ticket, intent, last)
    _spend(ctx, ticket, intent)
    return Joined(None, None, f"{last}; its name is spent", reason=_reason(last))


async def _conflict(
    ctx: StepContext, ticket: JoinTicket, intent: Intent, error: ConflictError
) -> Joined:
    found = await _find(ctx, ticket, hint=error.existing_agent_id)
    if isinstance(found, ApiError):
        return _pending(error, found)
    now = ctx.clock.now()
    if found is None:
        ctx.ledger.settle(intent.id, put=_unless_newer(ctx, ticket, ticket.unconfirmed(now=now)))
        return Joined(
            None,
            None,
            f"{error}; no agent carries the name {ticket.remote_name}, so something else "
            f"conflicts (is uid {ticket.agent_rtc_uid} taken in channel {ticket.channel}?)",
            reason=error.reason or "conflict",
        )
    return await _record_found(ctx, ticket, intent, found, how="already carried its name (409)")


async def _lost(ctx: StepContext, ticket: JoinTicket, intent: Intent, error: ApiError) -> Joined:
    found = await _find(ctx, ticket, hint=None)
    if isinstance(found, ApiError):
        return _pending(error, found)
    if found is None:
        now = ctx.clock.now()
        ctx.ledger.settle(intent.id, put=_unless_newer(ctx, ticket, ticket.unconfirmed(now=now)))
        return Joined(
            None,
            None,
            f"{error}; no agent carries its name, so the next pass retries it",
            reason=_reason(error),
        )
    return await _record_found(ctx, ticket, intent, found, how="answer was lost; found by name")


async def _record_found(
    ctx: StepContext, ticket: JoinTicket, intent: Intent, found: wire.QueryResponse, *, how: str
) -> Joined:
    if not may_write(ctx.ledger.record(ticket.key), generation=ticket.generation):
        await leave_quietly(ctx.api, found.agent_id)
        ctx.ledger.settle(intent.id)
        return Joined(None, None, SUPERSEDED, "state-moved")
    record = ticket.joined(agent_id=found.agent_id, status=found.status, now=ctx.clock.now())
    ctx.ledger.settle(intent.id, put=record)
    return Joined(found.agent_id, found.status, f"{how} ({found.status})")


async def _find(
    ctx: StepContext, ticket: JoinTicket, *, hint: str | None
) -> wire.QueryResponse | ApiError | None:
    """The agent carrying the ticket's name, None when there is none, or the error of looking."""
    try:
        if hint is not None:
            # Only an agent that carries our name is ours: a 409 for a taken uid may name another's.
            answer = await ctx.api.query(hint)
            if answer.name == ticket.remote_name:
                return answer
        return await readiness.find_by_name(
            ctx.api, channel=ticket.channel, name=ticket.remote_name, now=ctx.clock.now()
        )
    except ApiError as exc:
        return exc


def _spend(ctx: StepContext, ticket: JoinTicket, intent: Intent) -> None:
    ctx.ledger.settle(intent.id, put=_unless_newer(ctx, ticket, ticket.spent(now=ctx.clock.now())))


def _unless_newer(ctx: StepContext, ticket: JoinTicket, record: AgentRecord) -> AgentRecord | None:
    """``record``, unless the key already holds a newer generation that it must not overwrite."""
    return (
        record if may_write(ctx.ledger.record(ticket.key), generation=ticket.generation) else None
    )


def _pending(error: ApiError, lookup: ApiError) -> Joined:
    return Joined(
        None,
        None,
        f"{error}; looking the agent up by name failed too ({lookup}); the next pass resolves it",
        reason=_reason(error),
    )


def _may_have_joined(error: ApiError) -> bool:
    """Whether an agent may exist although this attempt failed: no answer, or a 5xx."""
    if isinstance(error, TransportError):
        return error.may_have_reached_server
    return error.status is None or error.status >= 500 or error.status < 400


def _reason(error: ApiError) -> str:
    return error.reason or type(error).__name__
