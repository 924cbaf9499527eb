"""One emulator instance's state: its config, clock, the two services, faults, rate limit, counters.

This is what ``app.state.emulator`` holds, the equivalent of a moto backend: the routes in app.py
and control.py read and change it, and in-process tests may inspect it. It owns resets and runtime
reconfiguration; the API's rules stay in store.py. Not thread-safe: all access goes through the
app's event loop.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from reconciler.agora.wire import Reason
from reconciler.emulator import conversation
from reconciler.emulator.clock import VirtualClock
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.failure import ApiFailure
from reconciler.emulator.faults import Counters, FaultPlan, TokenBucket
from reconciler.emulator.store import AgentStore
from reconciler.emulator.webhooks import Announcer, Sender

Region = Literal["global", "cn"]
REGIONS: tuple[Region, ...] = ("global", "cn")


class Emulator:
    """Everything an emulator remembers between calls."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.initial_config = config
        self.config = config
        self.clock = VirtualClock(frozen=config.frozen_clock, start=config.clock_start)
        self.faults = FaultPlan()
        self.counters = Counters()
        self.stores: dict[Region, AgentStore] = {}
        self.joins: list[dict[str, Any]] = []
        self._bucket: TokenBucket | None = None
        self.webhooks = Sender(config=lambda: self.config, tick=self.settle)
        self._announcer = Announcer(self.webhooks, clock=self.clock)
        self.reset()

    def reset(self) -> None:
        """Forget agents, users, faults, counters and joins received; restore the start config.

        The clock stays because time must not run backwards for clients that outlive a reset.
        """
        self.stores = {
            region: AgentStore(
                region=region,
                clock=self.clock,
                config=self.initial_config,
                announcer=self._announcer,
            )
            for region in REGIONS
        }
        self.faults.clear()
        self.counters = Counters()
        self.joins = []
        self._apply(self.initial_config)

    def reconfigure(self, changes: dict[str, Any]) -> EmulatorConfig:
        """Change runtime knobs (quota, strictness, timings, ...) for every later call."""
        self._apply(dataclasses.replace(self.config, **changes))
        return self.config

    def record_join(self, *, region: str, app_id: str, agent_id: str, body: Any) -> None:
        """Keep a join body the API accepted exactly as it arrived, for ``GET /_emulator/joins``."""
        self.joins.append({"region": region, "app_id": app_id, "agent_id": agent_id, "body": body})

    def take_rate_token(self) -> None:
        """Raise 429 with Retry-After when the request rate exceeds the configured limit."""
        if self._bucket is None:
            return
        wait = self._bucket.take(self.clock.now())
        if wait is not None:
            raise ApiFailure(
                status=429,
                reason=Reason.CONCURRENCY_LIMIT_EXCEEDED,
                detail="request rate limit exceeded",
                retry_after=wait,
            )

    def settle(self) -> None:
        """Let every service apply the timers that fell due (so their events go out)."""
        for store in self.stores.values():
            store.settle()

    def fail_agent(self, agent_id: str, *, message: str) -> bool:
        """Move a live agent of either service to FAILED; False when there is none."""
        return any(store.fail(agent_id, message=message) for store in self.stores.values())

    def talk_with(self, agent_id: str, *, seconds: float) -> bool:
        """Have a caller talk with a live agent of either service for ``seconds`` of the
        emulator's clock; False when there is no such live agent."""
        for store in self.stores.values():
            agent = store.find(agent_id)
            if agent is not None and agent.live:
                conversation.talk(agent, seconds=seconds, now=self.clock.now())
                return True
        return False

    def _apply(self, config: EmulatorConfig) -> None:
        self.config = config
        for store in self.stores.values():
            store.config = config
        rate = config.rate_limit_per_second
        self._bucket = None if rate is None else TokenBucket(rate=rate, now=self.clock.now())
