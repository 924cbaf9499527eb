"""One crash-safe leave: intent first, then leave, then wait (bounded) until the agent is gone.

Leave is asynchronous (API notes §7.2): a 200 only means "stopping". Apply waits until query says
STOPPED, FAILED or 404 before it records the outcome, because what follows needs the agent
really gone: a replace joins the next generation with the same uid (unique per channel), and a
delete frees a quota slot for the joins after it. A 404 or 409 to the leave itself means the agent
is already gone or going, and the wait still confirms which: an agent answering 404 to leave while
STOPPING still holds its uid. When the wait runs out, or the leave got no answer, the intent stays
pending and the next pass resolves it (query; still there: leave again).

It leaves only the agent its ticket names, and never forgets a record before that agent is gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.apply import readiness
from reconciler.apply.intents import LeaveTicket
from reconciler.apply.steps import StepContext
from reconciler.errors import ApiError, ConflictError, NotFoundError


@dataclass(frozen=True)
class Left:
    """Whether the agent is gone (and its outcome recorded), and what was seen, in words."""

    gone: bool
    detail: str
    reason: str | None = None


async def leave(ctx: StepContext, ticket: LeaveTicket) -> Left:
    """Leave ``ticket.agent_id``, wait until it is gone, and record the outcome."""
    intent = ticket.intent(now=ctx.clock.now())
    await ctx.ledger.begin(intent)
    try:
        await ctx.attempt("leave", 1, lambda: ctx.api.leave(ticket.agent_id))
    except (NotFoundError, ConflictError):
        pass  # gone or going; query says which, since a STOPPING agent still holds its uid
    except ApiError as exc:
        return Left(
            gone=False,
            detail=f"{exc}; the next pass checks whether it left",
            reason=exc.reason or type(exc).__name__,
        )
    try:
        seen = await readiness.wait_until_gone(
            ctx.api, ticket.agent_id, clock=ctx.clock, polling=ctx.settings.leave_polling
        )
    except ApiError as exc:
        return Left(
            gone=False,
            detail=f"asked to leave, then could not confirm it: {exc}",
            reason=exc.reason or type(exc).__name__,
        )
    if not seen.reached:
        return Left(
            gone=False,
            detail=(
                f"asked to leave, still {seen.describe()} after "
                f"{ctx.settings.leave_polling.timeout:g} s; the next pass checks again"
            ),
            reason="timeout",
        )
    await ticket.settle_gone(ctx.ledger, intent.id, now=ctx.clock.now())
    return Left(gone=True, detail=f"left ({seen.describe()})")
