"""The emulated ConvoAI service: agents, single-use names, uids, quota and a clock-driven lifecycle.

It decides every answer (which status, which ``ApiFailure``) and holds all agent state for one
service (the global API or the separate CN one), but knows nothing of routes, auth or JSON: that
is app.py's job. Timers are lazy: each operation first ``settle``s the events that fell due on the
virtual clock, in time order, so a clock jump takes effect at once and nothing runs in the
background (``timers``). Each App ID's agents are indexed by ``projects``, sorted by status for
listing, so a page costs a bisect and its own items: paging 50,000 agents stays cheap.
"""

from __future__ import annotations

import math
import random
import string
from typing import Any, Final

from reconciler.agora import wire
from reconciler.agora.wire import AgentStatus, Reason
from reconciler.emulator import conversation, listing, rules
from reconciler.emulator.agent import Agent, AgentSeed
from reconciler.emulator.clock import VirtualClock
from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.failure import ApiFailure, invalid, not_found
from reconciler.emulator.projects import Project
from reconciler.emulator.timers import Due, Timer, Timers
from reconciler.emulator.webhooks import Announcer

ID_ALPHABET: Final = string.ascii_uppercase + string.digits
ID_LENGTH: Final = 32
TURNS_RETENTION_SECONDS: Final = 7 * 86400
STOPPED_BY_LEAVE: Final = "OK"
STOPPED_IDLE: Final = "Idle for too long"
STOPPED_LIFETIME: Final = "Task lifetime limit exceeded"
_LAST_ID: Final = "\x7f"  # sorts after every agent id, to bound a bisect on start_ts alone


class AgentStore:
    """One ConvoAI service: every App ID's agents, with the API's rules applied to each call."""

    def __init__(
        self, *, region: str, clock: VirtualClock, config: EmulatorConfig, announcer: Announcer
    ) -> None:
        self.region = region
        self.announce = announcer
        self.config = config
        self._clock = clock
        self._agents: dict[str, Agent] = {}
        self._projects: dict[str, Project] = {}
        self._timers = Timers()
        self._ids = random.Random()

    # --- the API ---

    def join(self, app_id: str, request: wire.JoinRequest) -> wire.AgentStateResponse:
        now = self.settle()
        props = request.properties
        properties = props.to_wire()
        rules.check_not_null(properties)
        rules.check_uids(props)
        if self.config.require_llm_and_tts:
            rules.check_llm_and_tts(request, properties=properties)
        project = self._project(app_id)
        self._check_name_free(project, request.name)
        self._check_uid_free(project, channel=props.channel, uid=props.agent_rtc_uid)
        if len(project.live) >= self.config.quota:
            raise ApiFailure(
                status=422,
                reason=Reason.RESOURCE_QUOTA_LIMIT_EXCEEDED,
                detail=f"access limit exceeded: {self.config.quota} concurrent agents per app id",
            )
        agent = Agent(
            agent_id=self._new_id(),
            app_id=app_id,
            name=request.name,
            channel=props.channel,
            agent_rtc_uid=props.agent_rtc_uid,
            remote_rtc_uids=tuple(props.remote_rtc_uids),
            properties=properties,
            status=AgentStatus(self.config.join_status),
            start_ts=int(now),
        )
        self._register(agent, now=now)
        if agent.status == AgentStatus.RUNNING:
            self.announce.joined(agent)
        return wire.AgentStateResponse(
            agent_id=agent.agent_id, create_ts=agent.start_ts, status=agent.status
        )

    def leave(self, app_id: str, agent_id: str) -> None:
        now = self.settle()
        agent = self._agent(app_id, agent_id)
        if agent.winding_down:
            raise not_found(agent_id)
        self._project(app_id).restatus(agent, AgentStatus.STOPPING)
        self._schedule(now + self.config.stopping_seconds, Due.STOPPED, agent)

    def query(self, app_id: str, agent_id: str) -> wire.QueryResponse:
        now = self.settle()
        agent = self._agent(app_id, agent_id)
        if self._stopped_longer_than(agent, self.config.query_retention_seconds, now=now):
            raise not_found(agent_id)
        return wire.QueryResponse(
            agent_id=agent.agent_id,
            status=agent.status,
            start_ts=agent.start_ts,
            stop_ts=agent.stop_ts,
            message=agent.message,
            name=agent.name,
        )

    def list_agents(self, app_id: str, query: wire.ListQuery) -> wire.ListResponse:
        now = self.settle()
        statuses = rules.parse_states(query.state)
        from_time = (
            now - wire.LIST_DEFAULT_WINDOW_SECONDS if query.from_time is None else query.from_time
        )
        to_time = now if query.to_time is None else query.to_time
        limit = query.limit or wire.LIST_DEFAULT_LIMIT
        if self.config.max_list_limit is not None:
            limit = min(limit, self.config.max_list_limit)
        project = self._project(app_id)
        low = (math.ceil(from_time), "")
        high = (math.floor(to_time), _LAST_ID)
        start = low
        if query.cursor:
            anchor = self._agents.get(query.cursor)
            if anchor is None or anchor.app_id != app_id:
                raise invalid("cursor", f"unknown agent id {query.cursor!r}")
            start = max(low, (anchor.start_ts, anchor.agent_id))
        runs = project.runs(statuses, channel=query.channel, agents=self._agents)
        keys, following, total = listing.page_of(runs, low=low, high=high, start=start, limit=limit)
        page = [self._agents[agent_id] for _, agent_id in keys]
        return wire.ListResponse(
            data=wire.ListData(
                count=len(page),
                list=tuple(
                    wire.ListItem(agent_id=a.agent_id, status=a.status, start_ts=a.start_ts)
                    for a in page
                ),
            ),
            meta=wire.ListMeta(cursor="" if following is None else following[1], total=total),
        )

    def update(
        self, app_id: str, agent_id: str, request: wire.UpdateRequest
    ) -> wire.AgentStateResponse:
        now = self.settle()
        agent = self._running(app_id, agent_id)
        change = request.properties or wire.UpdateProperties()
        rules.check_not_null(change.to_wire())
        if change.token is not None:
            agent.properties["token"] = change.token
        if change.llm is not None:
            agent.properties["llm"] = rules.replaced(
                agent.properties.get("llm"), change.llm, ("system_messages", "params")
            )
        if change.mllm is not None:
            agent.properties["mllm"] = rules.replaced(
                agent.properties.get("mllm"), change.mllm, ("params",)
            )
        return wire.AgentStateResponse(agent_id=agent_id, create_ts=int(now), status=agent.status)

    def speak(
        self, app_id: str, agent_id: str, request: wire.SpeakRequest
    ) -> wire.ChannelActionResponse:
        now = self.settle()
        agent = self._running(app_id, agent_id)
        if wire.mllm_enabled(agent.properties):
            raise invalid("properties.mllm", "speak is not supported when mllm is enabled")
        conversation.record_speak(agent, text=request.text, now=now)
        self.announce.turn(agent)
        return _channel_action(agent, now=now)

    def interrupt(self, app_id: str, agent_id: str) -> wire.ChannelActionResponse:
        now = self.settle()
        agent = self._running(app_id, agent_id)
        conversation.record_interrupt(agent, now=now)
        return _channel_action(agent, now=now)

    def think(
        self, app_id: str, agent_id: str, request: wire.ThinkRequest
    ) -> wire.ChannelActionResponse:
        now = self.settle()
        agent = self._running(app_id, agent_id)
        conversation.record_think(agent, text=request.text, now=now)
        self.announce.turn(agent)
        return _channel_action(agent, now=now)

    def history(self, app_id: str, agent_id: str) -> wire.HistoryResponse:
        now = self.settle()
        agent = self._running(app_id, agent_id)
        conversation.catch_up(agent, now=now)
        return wire.HistoryResponse(
            agent_id=agent_id,
            start_ts=agent.start_ts,
            status=agent.status,
            contents=tuple(agent.history),
        )

    def turns(self, app_id: str, agent_id: str, query: wire.TurnsQuery) -> wire.TurnsResponse:
        now = self.settle()
        agent = self._agent(app_id, agent_id)
        if self._stopped_longer_than(agent, TURNS_RETENTION_SECONDS, now=now):
            raise not_found(agent_id)
        conversation.catch_up(agent, now=now)
        return conversation.turns_page(
            agent, page_index=query.page_index, page_size=query.page_size
        )

    # --- the control surface (/_emulator/...) ---

    def seed(self, seed: AgentSeed) -> str:
        """Plant an agent as given, bypassing name, uid and quota checks; returns its id."""
        now = self.settle()
        if seed.agent_id is not None and seed.agent_id in self._agents:
            raise invalid("agent_id", f"{seed.agent_id} already exists")
        live = not wire.is_terminal(seed.status)
        agent = Agent(
            agent_id=seed.agent_id or self._new_id(),
            app_id=seed.app_id or self.config.app_id,
            name=seed.name,
            channel=seed.channel,
            agent_rtc_uid=seed.agent_rtc_uid,
            remote_rtc_uids=tuple(seed.remote_rtc_uids),
            properties={
                **seed.properties,
                "channel": seed.channel,
                "agent_rtc_uid": seed.agent_rtc_uid,
                "remote_rtc_uids": seed.remote_rtc_uids,
            },
            status=seed.status,
            start_ts=int(now) if seed.start_ts is None else seed.start_ts,
            stop_ts=None if live else (seed.stop_ts or int(now)),
            message=seed.message if live else (seed.message or STOPPED_BY_LEAVE),
        )
        self._register(agent, now=now)
        return agent.agent_id

    def user_joins(self, *, app_id: str, channel: str, uid: str) -> list[str]:
        """A remote user enters the channel: agents listening to it stop counting idle time."""
        self.settle()
        project = self._project(app_id)
        present = project.present.setdefault(channel, set())
        present.add(uid)
        for agent in self._live_in(project, channel):
            if agent.listens_to(uid):
                agent.idle_since = None
        return sorted(present)

    def user_leaves(self, *, app_id: str, channel: str, uid: str) -> list[str]:
        """A remote user leaves: agents left with none of their users start their idle timer."""
        now = self.settle()
        project = self._project(app_id)
        present = project.present.setdefault(channel, set())
        present.discard(uid)
        for agent in self._live_in(project, channel):
            if agent.listens_to(uid):
                self._start_idle_timer(agent, project=project, now=now)
        return sorted(present)

    def fail(self, agent_id: str, *, message: str) -> bool:
        """Move a live agent to FAILED; False when this service has no such live agent."""
        now = self.settle()
        agent = self._agents.get(agent_id)
        if agent is None or not agent.live:
            return False
        self.announce.failed(agent, message=message)
        self._finish(agent, status=AgentStatus.FAILED, message=message, at=now)
        return True

    def find(self, agent_id: str) -> Agent | None:
        """The agent with that id, in any state, for control routes that act on one."""
        self.settle()
        return self._agents.get(agent_id)

    def describe(self) -> list[dict[str, Any]]:
        self.settle()
        agents = sorted(self._agents.values(), key=lambda a: (a.start_ts, a.agent_id))
        return [agent.describe(region=self.region) for agent in agents]

    # --- lifecycle ---

    def settle(self) -> float:
        """Apply, in time order, every timer that fell due; returns the current emulator time."""
        now = self._clock.now()
        while (timer := self._timers.pop_due(now)) is not None:
            agent = self._agents.get(timer.agent_id)
            if agent is not None:
                self._fire(timer, agent)
        return now

    def _fire(self, timer: Timer, agent: Agent) -> None:
        if timer.kind is Due.RUNNING:
            if agent.status == AgentStatus.STARTING:
                self._project(agent.app_id).restatus(agent, AgentStatus.RUNNING)
                self.announce.joined(agent)
        elif timer.kind is Due.STOPPED:
            if agent.status == AgentStatus.STOPPING:
                self._finish(
                    agent, status=AgentStatus.STOPPED, message=STOPPED_BY_LEAVE, at=timer.due
                )
        elif agent.winding_down:
            return
        elif timer.kind is Due.IDLE:
            if agent.idle_since == timer.idle_since:
                self._finish(agent, status=AgentStatus.STOPPED, message=STOPPED_IDLE, at=timer.due)
        else:
            self._finish(agent, status=AgentStatus.STOPPED, message=STOPPED_LIFETIME, at=timer.due)

    def _register(self, agent: Agent, *, now: float) -> None:
        project = self._project(agent.app_id)
        self._agents[agent.agent_id] = agent
        project.add(agent)
        if not agent.live:
            return
        if agent.status == AgentStatus.STARTING:
            self._schedule(now + self.config.starting_seconds, Due.RUNNING, agent)
        if agent.status == AgentStatus.STOPPING:
            self._schedule(now + self.config.stopping_seconds, Due.STOPPED, agent)
        self._schedule(agent.start_ts + wire.LIFETIME_CAP_SECONDS, Due.LIFETIME, agent)
        if self.config.idle_timer_without_user:
            self._start_idle_timer(agent, project=project, now=now)

    def _start_idle_timer(self, agent: Agent, *, project: Project, now: float) -> None:
        present = project.present.get(agent.channel, set())
        if agent.idle_since is not None or any(agent.listens_to(uid) for uid in present):
            return
        agent.idle_since = now
        if agent.idle_timeout > 0:
            self._schedule(now + agent.idle_timeout, Due.IDLE, agent, idle_since=now)

    def _finish(self, agent: Agent, *, status: AgentStatus, message: str, at: float) -> None:
        conversation.catch_up(agent, now=at)
        project = self._project(agent.app_id)
        project.restatus(agent, status)
        agent.stop_ts = int(at)
        agent.message = message
        self.announce.left(agent, history=tuple(agent.history))
        agent.history.clear()
        project.release(agent)

    def _schedule(
        self, due: float, kind: Due, agent: Agent, *, idle_since: float | None = None
    ) -> None:
        self._timers.set(due, kind, agent.agent_id, idle_since=idle_since)

    # --- lookups and checks ---

    def _project(self, app_id: str) -> Project:
        return self._projects.setdefault(app_id, Project())

    def _agent(self, app_id: str, agent_id: str) -> Agent:
        agent = self._agents.get(agent_id)
        if agent is None or agent.app_id != app_id:
            raise not_found(agent_id)
        return agent

    def _running(self, app_id: str, agent_id: str) -> Agent:
        agent = self._agent(app_id, agent_id)
        if agent.status != AgentStatus.RUNNING:
            raise not_found(agent_id)
        return agent

    def _live_in(self, project: Project, channel: str) -> list[Agent]:
        return [self._agents[agent_id] for agent_id in project.live_ids_in(channel)]

    def _stopped_longer_than(self, agent: Agent, seconds: float, *, now: float) -> bool:
        return agent.stop_ts is not None and now - agent.stop_ts > seconds

    def _check_name_free(self, project: Project, name: str) -> None:
        holder = project.name_holder(name, strict=self.config.strict_names)
        if holder is None:
            return
        raise ApiFailure(
            status=409,
            reason=Reason.TASK_CONFLICT,
            detail=f"an agent named {name!r} already exists",
            extra={"agent_id": holder} if self.config.conflict_body_includes_agent_id else None,
        )

    def _check_uid_free(self, project: Project, *, channel: str, uid: str) -> None:
        # "0" asks the engine to pick a random uid, so two of them never collide.
        if uid != "0" and (channel, uid) in project.uid_holders:
            raise ApiFailure(
                status=409,
                reason=Reason.TASK_CONFLICT,
                detail=f"a running agent already uses agent_rtc_uid {uid} in channel {channel!r}",
            )

    def _new_id(self) -> str:
        while True:
            agent_id = "".join(self._ids.choices(ID_ALPHABET, k=ID_LENGTH))
            if agent_id not in self._agents:
                return agent_id


def _channel_action(agent: Agent, *, now: float) -> wire.ChannelActionResponse:
    return wire.ChannelActionResponse(
        agent_id=agent.agent_id, channel=agent.channel, start_ts=int(now)
    )
