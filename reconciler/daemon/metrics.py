"""The daemon's Prometheus metrics: their names, their labels, and how a pass's outcome feeds them.

Each ``Metrics`` owns a dedicated ``CollectorRegistry``, so several daemons (as tests start) never
share or collide on a series; it also carries the standard ``process_*`` and ``python_*``
collectors. Every series of ours is prefixed ``reconciler_``, with controller-runtime's names and
labels after it (``reconciler_reconcile_total{result}``). The fleet gauges describe the fleet as
a pass *left* it (re-observed after an apply that changed anything), so right after a pass that
healed an agent they show it live and no drift. It records what it is told and renders the
exposition text; it must not decide anything, hold a secret, or serve HTTP (``health`` does).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from reconciler.agora import wire
from reconciler.apply.report import StepResult
from reconciler.plan import Cost, HoldRule

HOLD_RULES: Final = tuple(str(rule) for rule in HoldRule)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
NAMESPACE: Final = "reconciler"
# Pass durations run from milliseconds (in sync) to minutes (a big apply at the rate limit).
_PASS_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class PassResult(StrEnum):
    """How a pass ended, as ``reconciler_reconcile_total{result}`` counts it."""

    SUCCESS = "success"
    ERROR = "error"
    # No valid manifests have ever loaded, so there was no fleet to pass with.
    INVALID = "invalid"


class Metrics:
    """Every series the daemon exports, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.reconcile_total = Counter(
            "reconcile_total",
            "Passes by result: success, error, or invalid (no valid manifests yet).",
            ["result"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.reconcile_time = Histogram(
            "reconcile_time_seconds",
            "Duration of a pass, from load to the end of apply.",
            buckets=_PASS_BUCKETS,
            namespace=NAMESPACE,
            registry=registry,
        )
        self.agents_desired = Gauge(
            "agents_desired",
            "Agents the fleet in force asks for, at the end of the last pass.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.agents_live = Gauge(
            "agents",
            "Live agents by status (owned or not) as the last pass left them: observed after its "
            "apply when it changed anything, else as observed before planning.",
            ["status"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.actions_total = Counter(
            "actions_total",
            "Plan changes and leftover intents applied, by action and outcome.",
            ["action", "outcome"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.api_requests_total = Counter(
            "api_requests_total",
            "Attempts at Agora API calls, by endpoint and HTTP status (error: no answer).",
            ["endpoint", "code"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.drift_agents = Gauge(
            "drift_agents",
            "Agents that still differ from the manifests at the end of the last pass (a plan "
            "made from the fleet as the pass left it has a change for them).",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.last_success = Gauge(
            "last_success_timestamp_seconds",
            "Unix time the last successful pass finished.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.leader = Gauge(
            "leader",
            "1 while this process holds the state and acts; 0 while it stands by for the lease.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.manifests_valid = Gauge(
            "manifests_valid",
            "1 when the manifests last loaded cleanly; 0 while the last good fleet stands in.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.source_info = Gauge(
            "source_info",
            "1 for the revision of the manifests in force (the last that loaded), its ref, and "
            "whether --git-revision pins it.",
            ["revision", "ref", "pinned"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.source_fetches_total = Counter(
            "source_fetches_total",
            "Fetches of the git source, by result: success or error.",
            ["result"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.held_back = Gauge(
            "held_back_changes",
            "Changes the last pass held back, by the rule that holds them (mass-delete, "
            "protect, quota, rollout-budget, window); later passes try them again.",
            ["reason"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self.flapping_agents = Gauge(
            "flapping_agents",
            "Agents whose recreation flap protection is holding back.",
            namespace=NAMESPACE,
            registry=registry,
        )
        self.cost_per_hour = Gauge(
            "estimated_cost_per_hour",
            "What the agents the reconciler runs cost per hour at the project's pricing, as "
            "the last pass left them, by project and currency.",
            ["project", "currency"],
            namespace=NAMESPACE,
            registry=registry,
        )

    def on_request(
        self, *, endpoint: wire.Endpoint, status: int | None, attempt: int, duration_s: float
    ) -> None:
        """The Agora client's request hook: one count per attempt."""
        del attempt, duration_s
        code = "error" if status is None else str(status)
        self.api_requests_total.labels(endpoint=endpoint.value, code=code).inc()

    def observed(self, *, desired: int, live_statuses: Iterable[str], drift: int) -> None:
        """What one pass saw: desired agents, live agents by status, and keys with a change."""
        self.agents_desired.set(desired)
        # A status nobody holds any more must read 0, not keep its last value.
        self.agents_live.clear()
        for status, count in sorted(Tally(live_statuses).items()):
            self.agents_live.labels(status=status).set(count)
        self.drift_agents.set(drift)

    def held(self, rules: Iterable[str]) -> None:
        """The changes one pass held back, by rule; every rule is present, 0 when none held."""
        counts = Tally(rules)
        for rule in HOLD_RULES:
            self.held_back.labels(reason=rule).set(counts.get(rule, 0))

    def cost(self, costs: Iterable[Cost]) -> None:
        """Each project's burn rate: its running owned agents at its price; gone projects go."""
        self.cost_per_hour.clear()
        for cost in costs:
            labels = {"project": cost.project, "currency": cost.currency}
            self.cost_per_hour.labels(**labels).set(round(cost.hour_before, 4))

    def applied(self, results: Iterable[StepResult]) -> None:
        """Count every step of an apply (leftover intents included) by action and outcome."""
        for result in results:
            self.actions_total.labels(action=result.action, outcome=result.outcome.value).inc()

    def pass_finished(self, *, result: PassResult, seconds: float, finished_at: float) -> None:
        """One pass ended; a success also moves ``last_success_timestamp_seconds``."""
        self.reconcile_total.labels(result=result.value).inc()
        self.reconcile_time.observe(seconds)
        if result is PassResult.SUCCESS:
            self.last_success.set(finished_at)

    def source_in_force(self, revision: str, *, ref: str, pinned: bool) -> None:
        """The revision passes now apply; the one before reads no more."""
        self.source_info.clear()
        self.source_info.labels(revision=revision, ref=ref, pinned=str(pinned).lower()).set(1)

    def render(self) -> bytes:
        """The exposition text for ``/metrics``."""
        return generate_latest(self.registry)
