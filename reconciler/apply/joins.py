"""One crash-safe join: intent first, retries under the same name, a 409 resolved by name.

The rules (design §4, API notes §14.5-8), in the order they apply:

- The join's intent is committed before the first attempt; its outcome replaces it.
- An attempt refused for now (429, 500, 503, a connection never made) was already resent by the
  client, which gives up only after its own retries: it is not sent again here. An attempt whose
  answer may be lost (a dropped connection or timeout after sending, 502, 504, an answer off the
  contract), which the client never resends, is sent again under the same name: the name is
  single-use, so a join that did happen turns into a 409 instead of a second agent.
- A 409 on our own name means an agent already carries it: it is found by name (list the
  channel, query the candidates) and recorded. A 409 with no agent under that name is a real
  conflict (say, another agent holds the uid): reported, not retried, and the name is kept.
- A 422 means the project is at its quota: reported, and the caller stops further joins there.
- Any other 4xx, and a 429 or a connection never made that the client gave up on, is a definite
  failure: no agent started, so the name is spent and the next pass joins the next generation.
- A failure after which an agent may exist (a 5xx the client gave up on, or an answer lost on
  every attempt) is settled by name (``intents.settle_join``): the agent found is recorded, and
  with none the name is kept for the next pass; if the lookup itself fails, the intent stays
  pending for the next pass to resolve.

It never joins under any name but the ticket's, and never records an agent that does not carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.agora import wire
from reconciler.apply import readiness
from reconciler.apply.intents import SUPERSEDED, JoinTicket, Settled, may_write, settle_join
from reconciler.apply.steps import StepContext
from reconciler.errors import ApiError, ConflictError, QuotaExceededError, TransportError
from reconciler.state import Intent


@dataclass(frozen=True)
class Joined:
    """How a join ended: the agent now recorded for its key, or why there is none."""

    agent_id: str | None
    detail: str
    reason: str | None = None
    quota: bool = False


async def join(ctx: StepContext, ticket: JoinTicket, request: wire.JoinRequest) -> Joined:
    """Join under ``ticket.remote_name`` and record what happened, per the module's rules."""
    intent = ticket.intent(now=ctx.clock.now())
    await ctx.ledger.begin(intent)
    retry = ctx.settings.join_retry
    maybe_joined = False
    attempt = 0
    while True:
        attempt += 1
        try:
            answer = await ctx.attempt("join", attempt, lambda: ctx.api.join(request))
        except ConflictError as exc:
            return await _conflict(ctx, ticket, intent, exc)
        except QuotaExceededError as exc:
            await _spend(ctx, ticket, intent)
            return Joined(None, str(exc), reason=exc.reason or "quota", quota=True)
        except ApiError as exc:
            maybe_joined = maybe_joined or _may_have_joined(exc)
            if _answer_lost(exc) and attempt < retry.attempts:
                await ctx.clock.sleep(retry.delay(attempt, retry_after=None))
                continue
            if maybe_joined:
                return await _lost(ctx, ticket, intent, exc)
            await _spend(ctx, ticket, intent)
            return Joined(None, f"{exc}; its name is spent", reason=_reason(exc))
        await ctx.ledger.settle(
            intent.id,
            put=ticket.joined(agent_id=answer.agent_id, status=answer.status, now=ctx.clock.now()),
        )
        return Joined(answer.agent_id, f"joined ({answer.status})")


async def _conflict(
    ctx: StepContext, ticket: JoinTicket, intent: Intent, error: ConflictError
) -> Joined:
    found = await _find(ctx, ticket, hint=error.existing_agent_id)
    if isinstance(found, ApiError):
        return _pending(error, found)
    settled = await settle_join(ctx.ledger, ctx.api, intent.id, ticket, found, now=ctx.clock.now())
    if settled is Settled.KEPT:
        return Joined(
            None,
            f"{error}; no agent carries the name {ticket.remote_name}, so something else "
            f"conflicts (is uid {ticket.agent_rtc_uid} taken in channel {ticket.channel}?)",
            reason=error.reason or "conflict",
        )
    return _found(settled, found, how="already carried its name (409)")


async def _lost(ctx: StepContext, ticket: JoinTicket, intent: Intent, error: ApiError) -> Joined:
    found = await _find(ctx, ticket, hint=None)
    if isinstance(found, ApiError):
        return _pending(error, found)
    settled = await settle_join(ctx.ledger, ctx.api, intent.id, ticket, found, now=ctx.clock.now())
    if settled is Settled.KEPT:
        return Joined(
            None,
            f"{error}; no agent carries its name, so the next pass retries it",
            reason=_reason(error),
        )
    return _found(settled, found, how="answer was lost; found by name")


def _found(settled: Settled, found: wire.QueryResponse | None, *, how: str) -> Joined:
    """The result of a join settled on the agent that carries its name."""
    assert found is not None  # only KEPT settles without an agent
    if settled is Settled.SUPERSEDED:
        return Joined(None, SUPERSEDED, "state-moved")
    return Joined(found.agent_id, f"{how} ({found.status})")


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


async def _spend(ctx: StepContext, ticket: JoinTicket, intent: Intent) -> None:
    writable = may_write(ctx.ledger.record(ticket.key), generation=ticket.generation)
    spent = ticket.spent(now=ctx.clock.now())
    await ctx.ledger.settle(intent.id, put=spent if writable else None)


def _pending(error: ApiError, lookup: ApiError) -> Joined:
    return Joined(
        None,
        f"{error}; looking the agent up by name failed too ({lookup}); the next pass resolves it",
        reason=_reason(error),
    )


def _may_have_joined(error: ApiError) -> bool:
    """Whether an agent may exist although this attempt failed: no answer, or a 5xx."""
    if isinstance(error, TransportError):
        return error.may_have_reached_server
    return error.status is None or error.status >= 500 or error.status < 400


def _answer_lost(error: ApiError) -> bool:
    """Whether the join may have taken effect and the client, by its rule, did not resend it.

    The client resends a join only when it surely took no effect (``is_retryable`` and not
    ``may_have_reached_server``); whatever it resent, it resent until it gave up.
    """
    resent_by_client = error.is_retryable and not error.may_have_reached_server
    return _may_have_joined(error) and not resent_by_client


def _reason(error: ApiError) -> str:
    return error.reason or type(error).__name__
