"""The ``/_emulator`` control routes: what tests and demos do to the world around the API.

JSON in and out, no auth; a malformed control body gets FastAPI's own 422. ``region`` (``global``
or ``cn``) picks the service where it matters; ``app_id`` defaults to the configured one. Each
route's docstring is its documentation: docs/emulator.md is generated from them and from the body
models (``emulator.docs``), so the two cannot drift.

Nothing here implements an API rule: each route calls the backend or a store.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from reconciler.emulator.agent import AgentSeed
from reconciler.emulator.backend import Emulator, Region
from reconciler.emulator.config import JoinStatus
from reconciler.emulator.faults import FaultSpec

router = APIRouter(prefix="/_emulator", tags=["emulator control"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedRequest(_Body):
    agents: list[AgentSeed]
    region: Region = "global"


class ClockMove(_Body):
    advance: float | None = None
    set: float | None = None

    @model_validator(mode="after")
    def _one_move(self) -> ClockMove:
        if (self.advance is None) == (self.set is None):
            raise ValueError("give exactly one of 'advance' and 'set'")
        return self


class ConfigChange(_Body):
    """Runtime knobs; a field left out keeps its value. Credentials and the clock mode are fixed."""

    quota: Annotated[int, Field(ge=0)] = 0
    strict_names: bool = False
    join_status: JoinStatus = "RUNNING"
    starting_seconds: Annotated[float, Field(ge=0)] = 0
    stopping_seconds: Annotated[float, Field(ge=0)] = 0
    query_retention_seconds: Annotated[float, Field(ge=0)] = 0
    conflict_body_includes_agent_id: bool = False
    require_llm_and_tts: bool = False
    idle_timer_without_user: bool = False
    max_list_limit: Annotated[int, Field(ge=1)] | None = None
    rate_limit_per_second: Annotated[float, Field(gt=0)] | None = None
    more_app_ids: tuple[str, ...] = ()


class FailRequest(_Body):
    message: str


class TalkRequest(_Body):
    seconds: Annotated[float, Field(gt=0)]


class WebhookTarget(_Body):
    url: str
    secret: str = Field(repr=False)
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    retry_seconds: Annotated[float, Field(ge=0)] = 1.0


class EventRequest(_Body):
    event_type: int
    payload: dict[str, Any] = {}


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    """Forget agents, users, faults, counters and joins received, and restore the start
    config; the clock keeps its time. Returns ``{}``."""
    _emulator(request).reset()
    return {}


@router.post("/agents")
async def seed_agents(request: Request, body: SeedRequest) -> dict[str, Any]:
    """Plant agents in any state, past the name, uid and quota checks. Returns
    ``{"agent_ids": [...]}``."""
    store = _emulator(request).stores[body.region]
    return {"agent_ids": [store.seed(seed) for seed in body.agents]}


@router.get("/agents")
async def dump_agents(request: Request) -> dict[str, Any]:
    """Every agent of both services: agent_id, region, app_id, name, channel, uids, status,
    properties, start_ts, stop_ts, message. Returns ``{"agents": [...]}``."""
    stores = _emulator(request).stores.values()
    return {"agents": [record for store in stores for record in store.describe()]}


@router.get("/joins")
async def received_joins(request: Request) -> dict[str, Any]:
    """Every join body the API accepted, exactly as it arrived, in order: ``{"joins":
    [{region, app_id, agent_id, body}]}``."""
    return {"joins": list(_emulator(request).joins)}


@router.get("/clock")
async def read_clock(request: Request) -> dict[str, Any]:
    """The virtual clock: ``{"now": ts}``."""
    return {"now": _emulator(request).clock.now()}


@router.post("/clock")
async def move_clock(request: Request, body: ClockMove) -> dict[str, Any]:
    """Move the virtual clock by ``advance`` seconds or ``set`` it to a Unix time. Returns
    ``{"now": ts}``."""
    clock = _emulator(request).clock
    now = clock.advance(body.advance) if body.advance is not None else clock.set(body.set or 0.0)
    return {"now": now}


@router.post("/config")
async def change_config(request: Request, body: ConfigChange) -> dict[str, Any]:
    """Change runtime knobs; a field left out keeps its value. Returns the knobs now in
    force."""
    config = _emulator(request).reconfigure(body.model_dump(exclude_unset=True))
    return {name: getattr(config, name) for name in ConfigChange.model_fields}


@router.post("/channels/{channel}/users/{uid}/join")
async def user_joins(
    request: Request, channel: str, uid: str, app_id: str | None = None, region: Region = "global"
) -> dict[str, Any]:
    """A remote user enters the channel, which drives idle timeouts. Returns ``{"channel",
    "users"}`` with the uids now present."""
    emulator = _emulator(request)
    users = emulator.stores[region].user_joins(
        app_id=app_id or emulator.config.app_id, channel=channel, uid=uid
    )
    return {"channel": channel, "users": users}


@router.post("/channels/{channel}/users/{uid}/leave")
async def user_leaves(
    request: Request, channel: str, uid: str, app_id: str | None = None, region: Region = "global"
) -> dict[str, Any]:
    """A remote user leaves the channel. Returns ``{"channel", "users"}`` with the uids now
    present."""
    emulator = _emulator(request)
    users = emulator.stores[region].user_leaves(
        app_id=app_id or emulator.config.app_id, channel=channel, uid=uid
    )
    return {"channel": channel, "users": users}


@router.post("/agents/{agent_id}/fail")
async def fail_agent(request: Request, agent_id: str, body: FailRequest) -> dict[str, Any]:
    """Move a live agent to FAILED with ``message``. Returns ``{}``; 404 when no live agent
    has that id."""
    if not _emulator(request).fail_agent(agent_id, message=body.message):
        raise HTTPException(status_code=404, detail=f"no live agent {agent_id}")
    return {}


@router.post("/agents/{agent_id}/talk")
async def talk_with_agent(request: Request, agent_id: str, body: TalkRequest) -> dict[str, Any]:
    """A caller talks with a live agent for ``seconds`` on the virtual clock: a ``voice_input``
    turn, and a user and an assistant line of history, every 5 s meanwhile. Returns ``{}``; 404
    when no live agent has that id."""
    if not _emulator(request).talk_with(agent_id, seconds=body.seconds):
        raise HTTPException(status_code=404, detail=f"no live agent {agent_id}")
    return {}


@router.post("/webhooks")
async def send_webhooks(request: Request, body: WebhookTarget) -> dict[str, Any]:
    """Send signed Notification Center events to ``url`` from now on (see webhooks.py).
    Returns ``{}``."""
    emulator = _emulator(request)
    emulator.reconfigure(
        {
            "webhook_url": body.url,
            "webhook_secret": body.secret,
            "webhook_retries": body.retries,
            "webhook_retry_seconds": body.retry_seconds,
        }
    )
    emulator.webhooks.ensure_running()
    return {}


@router.get("/webhooks")
async def webhook_deliveries(request: Request) -> dict[str, Any]:
    """Where events go and what was delivered: ``{url, deliveries: [{notice_id, event_type,
    agent_id, statuses, delivered}]}`` (never the secret)."""
    emulator = _emulator(request)
    return {"url": emulator.config.webhook_url, "deliveries": list(emulator.webhooks.deliveries)}


@router.delete("/webhooks")
async def stop_webhooks(request: Request) -> dict[str, Any]:
    """Stop sending events. Returns ``{}``."""
    emulator = _emulator(request)
    emulator.reconfigure({"webhook_url": None, "webhook_secret": None})
    await emulator.webhooks.stop()
    return {}


@router.post("/agents/{agent_id}/events")
async def send_event(request: Request, agent_id: str, body: EventRequest) -> dict[str, Any]:
    """Send one event about that agent now (104, 110, 111, 112, ...). Returns ``{}``; 404
    for an unknown agent."""
    emulator = _emulator(request)
    for store in emulator.stores.values():
        agent = store.find(agent_id)
        if agent is not None:
            store.announce.announce(body.event_type, agent, body.payload)
            return {}
    raise HTTPException(status_code=404, detail=f"no agent {agent_id}")


@router.post("/faults")
async def add_fault(request: Request, body: FaultSpec) -> dict[str, Any]:
    """Add a fault rule (see faults.FaultSpec): an error status, a dropped connection or
    latency, for the next ``count`` calls or a seeded random ``fraction`` of them, before or
    after the action. Returns ``{"faults": [...]}``."""
    faults = _emulator(request).faults
    faults.add(body)
    return _faults(request)


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    """The fault rules in force: ``{"faults": [...]}``."""
    return _faults(request)


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    """Remove every fault rule. Returns ``{"faults": []}``."""
    _emulator(request).faults.clear()
    return _faults(request)


@router.get("/counters")
async def counters(request: Request) -> dict[str, Any]:
    """API calls by endpoint and answer, e.g. ``{"join": {"200": 3, "409": 1}, "leave":
    {"dropped": 1}}``."""
    return _emulator(request).counters.snapshot()


def _faults(request: Request) -> dict[str, Any]:
    return {"faults": [spec.model_dump(mode="json") for spec in _emulator(request).faults.specs()]}
