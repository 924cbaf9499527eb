"""The context one change of a plan runs in, and the log events every step emits.

Each change gets a ``StepContext``: the project's gated client, the ledger, the clock, the apply
settings and a logger bound to the change: project, channel, ``agent`` (the manifest key; a field
named ``key`` would be hidden by the log masking), remote name, agent id and action. ``attempt``
wraps every mutating API call so that each attempt is exactly one ``apply_attempt`` event, and
``outcome`` writes the one ``apply_outcome`` event of the change, with how many attempts it took.
An attempt that failed is a warning; one that succeeded is debug, since the change's outcome
says all it would (at info, an apply of N creates writes N lines, not 2N: logging was the largest
part of an apply's own CPU). No decisions live here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import structlog

from reconciler.agora.client import RetryPolicy
from reconciler.apply.intents import Ledger
from reconciler.apply.ratelimit import GatedApi, RateLimit
from reconciler.apply.readiness import Polling
from reconciler.apply.report import Outcome, StepResult
from reconciler.clock import Clock
from reconciler.errors import ApiError

T = TypeVar("T")


DEFAULT_CONCURRENCY: Final = 16
"""``reconciler apply``'s changes in flight by default: enough that the default rate limit (10
calls a second), not the API's latency, bounds an apply, even at a second per call. The daemon
keeps ``ApplySettings``' 4: its passes usually change little, and it has no flag to raise it."""


@dataclass(frozen=True)
class ApplySettings:
    """How an apply runs: how wide, how fast, how patient, and whether it waits for RUNNING.

    ``join_retry`` paces apply's own resends of a join whose answer may have been lost (a dropped
    connection, 502, 504), always under the same name: the client never resends those, and apply
    never resends what the client already retried (429, 500, 503), so the two never multiply.
    """

    concurrency: int = 4
    rate_limit: RateLimit = field(default_factory=RateLimit)
    wait: bool = False
    join_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(attempts=3, base_delay=0.5, max_delay=8.0)
    )
    leave_polling: Polling = field(default_factory=lambda: Polling(timeout=60.0))
    ready_polling: Polling = field(default_factory=lambda: Polling(timeout=120.0))
    git_revision: str | None = None
    # The state's lineage, labelled on every join (``run_pass`` fills it in from the state).
    fleet_id: str | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1 (got {self.concurrency})")


@dataclass
class _Attempts:
    """The API calls one change has made so far, shared by every context bound from its own."""

    made: int = 0


@dataclass(frozen=True)
class StepContext:
    """What one step needs; ``log`` is already bound to the change."""

    api: GatedApi
    ledger: Ledger
    clock: Clock
    settings: ApplySettings
    log: Any
    attempts: _Attempts = field(default_factory=_Attempts)

    def bind(self, **context: Any) -> StepContext:
        return StepContext(
            api=self.api,
            ledger=self.ledger,
            clock=self.clock,
            settings=self.settings,
            log=self.log.bind(**context),
            attempts=self.attempts,
        )

    async def attempt(self, call: str, attempt: int, send: Callable[[], Awaitable[T]]) -> T:
        """Make one API call, logging it as one attempt with its outcome and duration."""
        self.attempts.made += 1
        started = time.perf_counter()
        try:
            answer = await send()
        except ApiError as exc:
            self.log.warning(
                "apply_attempt",
                call=call,
                attempt=attempt,
                outcome="error",
                duration_ms=_ms(started),
                status=exc.status,
                reason=exc.reason or type(exc).__name__,
                detail=exc.detail,
            )
            raise
        self.log.debug(
            "apply_attempt", call=call, attempt=attempt, outcome="ok", duration_ms=_ms(started)
        )
        return answer


def new_logger(**context: Any) -> Any:
    """The logger of one change, bound to its identifying fields."""
    return structlog.get_logger("reconciler.apply").bind(**context)


def outcome(ctx: StepContext, result: StepResult, *, started: float) -> StepResult:
    """Log the one outcome event of a change and hand its result back."""
    fields: dict[str, Any] = {
        "outcome": result.outcome.value,
        "agent_id": result.agent_id,
        "remote_name": result.remote_name,
        "attempts": ctx.attempts.made,
        "duration_ms": _ms(started),
    }
    if result.outcome is Outcome.DONE:
        ctx.log.info("apply_outcome", **fields, detail=result.detail)
    else:
        ctx.log.warning("apply_outcome", **fields, reason=result.reason, detail=result.detail)
    return result


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
