"""What happens to API calls besides being answered: injected faults, the rate limit, call counters.

Faults are rules posted to ``/_emulator/faults``; for each call ``FaultPlan.draw`` decides which
rules fire (the next N calls, or a seeded random fraction of them) and so what the call suffers:
added latency, an error status, or a dropped connection, before or after the action takes effect.
This module decides; it never builds a response nor touches the agents.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reconciler.agora.wire import Endpoint

FAULT_SEED = 0


class FaultSpec(BaseModel):
    """One fault rule, as posted to ``/_emulator/faults``.

    With neither ``count`` nor ``fraction`` the rule hits every matching call until the faults are
    cleared; with both, it hits a fraction of calls until it has hit ``count`` of them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: Endpoint | Literal["*"] = "*"
    status: Annotated[int, Field(ge=400, le=599)] | None = None
    drop_connection: bool = False
    count: Annotated[int, Field(ge=1)] | None = None
    fraction: Annotated[float, Field(gt=0, le=1)] | None = None
    when: Literal["before", "after"] = "before"
    retry_after: Annotated[float, Field(ge=0)] | None = None
    latency_ms: Annotated[int, Field(ge=0)] | None = None
    reason: str | None = None
    detail: str | None = None

    @model_validator(mode="after")
    def _does_something(self) -> Self:
        if self.status is not None and self.drop_connection:
            raise ValueError("a fault either answers with a status or drops the connection")
        if self.status is None and not self.drop_connection and not self.latency_ms:
            raise ValueError("a fault needs a status, drop_connection or latency_ms")
        return self

    @property
    def has_outcome(self) -> bool:
        return self.status is not None or self.drop_connection


@dataclass(frozen=True)
class Strike:
    """What the faults drawn for one call do to it; ``outcome`` replaces the answer."""

    latency_seconds: float = 0.0
    outcome: FaultSpec | None = None


class _ActiveRule:
    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.remaining = spec.count


class FaultPlan:
    """The fault rules in force, in the order they were posted."""

    def __init__(self) -> None:
        self._rules: list[_ActiveRule] = []
        self._random = random.Random(FAULT_SEED)

    def add(self, spec: FaultSpec) -> None:
        self._rules.append(_ActiveRule(spec))

    def clear(self) -> None:
        self._rules.clear()
        self._random = random.Random(FAULT_SEED)

    def specs(self) -> list[FaultSpec]:
        return [rule.spec for rule in self._rules]

    def draw(self, endpoint: Endpoint) -> Strike:
        """Fire the rules that hit this call: latencies add up, the first status or drop wins."""
        latency_ms = 0
        outcome: FaultSpec | None = None
        for rule in list(self._rules):
            spec = rule.spec
            if spec.endpoint not in ("*", endpoint):
                continue
            if spec.fraction is not None and self._random.random() >= spec.fraction:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
            latency_ms += spec.latency_ms or 0
            if outcome is None and spec.has_outcome:
                outcome = spec
        return Strike(latency_seconds=latency_ms / 1000, outcome=outcome)


class Counters:
    """Calls by endpoint and answer: a status code, or ``"dropped"`` for a dropped connection."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter[str]] = {}

    def record(self, endpoint: Endpoint, answer: int | Literal["dropped"]) -> None:
        self._counts.setdefault(endpoint.value, Counter())[str(answer)] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {endpoint: dict(counts) for endpoint, counts in sorted(self._counts.items())}


class TokenBucket:
    """A request-rate limit on emulator time: ``rate`` tokens a second, bursts up to ``rate``."""

    def __init__(self, *, rate: float, now: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._last = now

    def take(self, now: float) -> float | None:
        """Spend a token; when none is left, return the seconds until the next one instead."""
        self._tokens = min(self._capacity, self._tokens + max(0.0, now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return math.ceil((1 - self._tokens) / self._rate)
