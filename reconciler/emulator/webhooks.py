"""The emulator's Notification Center: signed NCS events on agent transitions, with retries.

The store calls ``Announcer`` at each transition: 101 when an agent is RUNNING, 102, 103 (the
history it held) and 112 (its turns, if any) when it stops or fails, 110 when it is failed on
purpose (the failure as the error of module ``agent``), 111 after each turn speak or think
records (fixed, plausible latencies: the emulator has no voices).
``/_emulator/agents/{id}/events`` sends any other event.

``Sender`` posts each notice with both signature headers (``events.signatures``) to the one
configured URL and retries an answer other than 200 (or no answer) ``webhook_retries`` times,
waiting ``webhook_retry_seconds`` and then twice as long each time, as Agora resends with growing
intervals. First attempts go out in order, one at a time; retries wait aside. Its task starts on
the first call after a URL is configured, and also settles the stores' lazy timers every
``TICK_SECONDS``, so an agent that idles out is announced without anyone calling the API.
Delivery runs on real time, not the virtual clock, which may be frozen.

Nothing here decides an agent's fate; the store does, and this only tells the world about it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

import httpx
import structlog

from reconciler.agora import events, wire
from reconciler.emulator.agent import Agent
from reconciler.emulator.clock import VirtualClock
from reconciler.emulator.config import EmulatorConfig

TICK_SECONDS: Final = 0.2
DELIVERY_TIMEOUT_SECONDS: Final = 10.0
REMEMBERED_DELIVERIES: Final = 1000
TURNS_PER_EVENT: Final = 200
# What every 111 reports per turn, in milliseconds.
TURN_LATENCY_MS: Final = {"asr_ttlw": 220, "llm_ttfb": 410, "llm_ttfs": 520, "tts_ttfb": 180}

_log = structlog.get_logger(__name__)


class Sender:
    """Signs, posts and retries notices; remembers how each delivery went."""

    def __init__(self, *, config: Callable[[], EmulatorConfig], tick: Callable[[], None]) -> None:
        self._config = config
        self._tick = tick
        self._queue: asyncio.Queue[events.Notice] | None = None
        self._task: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=REMEMBERED_DELIVERIES)

    @property
    def enabled(self) -> bool:
        return self._config().webhook_url is not None

    def send(self, notice: events.Notice) -> None:
        """Queue ``notice`` for delivery (dropped when no URL is configured)."""
        if not self.enabled:
            return
        self.ensure_running()
        assert self._queue is not None
        self._queue.put_nowait(notice)

    def ensure_running(self) -> None:
        """Start the delivery task on the running loop, if a URL is set and it is not running."""
        if not self.enabled or (self._task is not None and not self._task.done()):
            return
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(self._queue))

    async def stop(self) -> None:
        """Cancel delivery and pending retries (queued notices are dropped)."""
        tasks = [task for task in (self._task, *self._retries) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task, self._queue = None, None
        self._retries.clear()

    async def _run(self, queue: asyncio.Queue[events.Notice]) -> None:
        # One getter kept across ticks: cancelling a get that just took a notice would lose it.
        getter: asyncio.Future[events.Notice] | None = None
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as http:
            try:
                while self.enabled:
                    getter = getter or asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter}, timeout=TICK_SECONDS)
                    if not done:
                        self._tick()
                        continue
                    notice, getter = getter.result(), None
                    await self._deliver(http, notice)
                await asyncio.gather(*self._retries, return_exceptions=True)
            finally:
                if getter is not None:
                    getter.cancel()

    async def _deliver(self, http: httpx.AsyncClient, notice: events.Notice) -> None:
        """The first attempt now; retries, if it failed, on a task of their own."""
        record: dict[str, Any] = {
            "notice_id": notice.notice_id,
            "event_type": notice.event_type,
            "agent_id": notice.payload.get("agent_id"),
            "statuses": [],
            "delivered": False,
        }
        self.deliveries.append(record)
        if not await self._attempt(http, notice, record):
            retry = asyncio.create_task(self._retry(http, notice, record))
            self._retries.add(retry)
            retry.add_done_callback(self._retries.discard)

    async def _retry(
        self, http: httpx.AsyncClient, notice: events.Notice, record: dict[str, Any]
    ) -> None:
        config = self._config()
        delay = config.webhook_retry_seconds
        for _ in range(config.webhook_retries):
            await asyncio.sleep(delay)
            delay *= 2
            if await self._attempt(http, notice, record):
                return

    async def _attempt(
        self, http: httpx.AsyncClient, notice: events.Notice, record: dict[str, Any]
    ) -> bool:
        config = self._config()
        if config.webhook_url is None:
            return True
        body = notice.to_body()
        headers = {"Content-Type": "application/json"}
        headers.update(events.signatures(body, secret=config.webhook_secret or ""))
        try:
            response = await http.post(config.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            record["statuses"].append(type(exc).__name__)
            _log.warning("webhook_failed", notice=notice.notice_id, error=type(exc).__name__)
            return False
        record["statuses"].append(response.status_code)
        record["delivered"] = response.status_code == 200
        return bool(record["delivered"])


class Announcer:
    """Builds the notice for each transition the store reports, and hands it to the sender."""

    def __init__(self, sender: Sender, *, clock: VirtualClock) -> None:
        self._sender = sender
        self._clock = clock

    def joined(self, agent: Agent) -> None:
        self.announce(events.EventType.AGENT_JOINED, agent, {"start_ts": agent.start_ts})

    def left(self, agent: Agent, *, history: Sequence[wire.HistoryEntry]) -> None:
        """102 with the status and message, 103 with the history the agent held, and 112 with
        its turns when it had any (at most ``TURNS_PER_EVENT``, flagged truncated beyond)."""
        if not self._sender.enabled:
            return  # dumping history and turns for nobody would slow big fleets down
        self.announce(
            events.EventType.AGENT_LEFT,
            agent,
            {
                "start_ts": agent.start_ts,
                "stop_ts": agent.stop_ts,
                "status": agent.status.name,
                "message": agent.message or "",
            },
        )
        contents = [entry.model_dump(mode="json", exclude_none=True) for entry in history]
        self.announce(
            events.EventType.HISTORY,
            agent,
            {"start_ts": agent.start_ts, "stop_ts": agent.stop_ts, "contents": contents},
        )
        if agent.turns:
            turns = [turn.model_dump(mode="json", exclude_none=True) for turn in agent.turns]
            self.announce(
                events.EventType.TURNS,
                agent,
                {
                    "total_turn_count": len(turns),
                    "is_truncated": len(turns) > TURNS_PER_EVENT,
                    "turns": turns[:TURNS_PER_EVENT],
                },
            )

    def failed(self, agent: Agent, *, message: str) -> None:
        turn_id = agent.turns[-1].turn_id if agent.turns else None
        error = {"module": "agent", "turn_id": turn_id, "code": 500, "message": message}
        self.announce(events.EventType.AGENT_ERROR, agent, {"turn_id": turn_id, "errors": [error]})

    def turn(self, agent: Agent) -> None:
        if agent.turns:
            metric = {"turn_id": agent.turns[-1].turn_id, **TURN_LATENCY_MS}
            self.announce(events.EventType.AGENT_METRICS, agent, {"metrics": [metric]})

    def announce(self, event_type: int, agent: Agent, fields: dict[str, Any]) -> None:
        """Send event ``event_type`` about ``agent`` with ``fields`` added to its payload."""
        if not self._sender.enabled:
            return
        labels = agent.properties.get("labels")
        payload = {
            "agent_id": agent.agent_id,
            "name": agent.name,
            "channel": agent.channel,
            "labels": labels if isinstance(labels, dict) else {},
            **fields,
        }
        self._sender.send(
            events.Notice(
                notice_id=uuid.uuid4().hex,
                product_id=events.PRODUCT_ID,
                event_type=event_type,
                notify_ms=int(self._clock.now() * 1000),
                sid=uuid.uuid4().hex,
                payload=payload,
            )
        )
