"""The indexes of one App ID's agents: by status for listing, by name, uid and channel for rules.

``store`` keeps one ``Project`` per App ID and tells it when an agent is added, changes status or
stops being live; the project keeps each status's agents sorted by (start_ts, agent_id), so a
list page is a bisect (``listing``), and answers who holds a name or a uid. It only indexes: it
decides no answer, raises no ``ApiFailure`` and knows nothing of timers or the clock.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.agora.wire import AgentStatus
from reconciler.emulator.agent import Agent
from reconciler.emulator.listing import Key


@dataclass
class Project:
    """The agents of one App ID and the indexes the rules need."""

    by_status: dict[AgentStatus, list[tuple[int, str]]] = field(default_factory=dict)
    live: set[str] = field(default_factory=set)
    holders: dict[str, str] = field(default_factory=dict)
    uid_holders: dict[tuple[str, str], str] = field(default_factory=dict)
    last_with_name: dict[str, str] = field(default_factory=dict)
    by_channel: dict[str, set[str]] = field(default_factory=dict)
    present: dict[str, set[str]] = field(default_factory=dict)

    def add(self, agent: Agent) -> None:
        """Index a new agent; a live one also holds its name and its uid in its channel."""
        insort(self.by_status.setdefault(agent.status, []), (agent.start_ts, agent.agent_id))
        self.by_channel.setdefault(agent.channel, set()).add(agent.agent_id)
        self.last_with_name[agent.name] = agent.agent_id
        if not agent.live:
            return
        self.live.add(agent.agent_id)
        self.holders[agent.name] = agent.agent_id
        self.uid_holders[agent.channel, agent.agent_rtc_uid] = agent.agent_id

    def restatus(self, agent: Agent, status: AgentStatus) -> None:
        """Change an agent's status and move it to that status's list index."""
        key = (agent.start_ts, agent.agent_id)
        old = self.by_status[agent.status]
        del old[bisect_left(old, key)]
        insort(self.by_status.setdefault(status, []), key)
        agent.status = status

    def release(self, agent: Agent) -> None:
        """An agent stopped being live: it no longer holds its name or its uid."""
        self.live.discard(agent.agent_id)
        if self.holders.get(agent.name) == agent.agent_id:
            del self.holders[agent.name]
        if self.uid_holders.get((agent.channel, agent.agent_rtc_uid)) == agent.agent_id:
            del self.uid_holders[agent.channel, agent.agent_rtc_uid]

    def runs(
        self, statuses: Collection[AgentStatus], *, channel: str | None, agents: Mapping[str, Agent]
    ) -> list[Sequence[Key]]:
        """The sorted key runs a list page is cut from: one per status, or the channel's agents."""
        if channel is None:
            return [self.by_status.get(status, []) for status in statuses]
        in_channel = self.by_channel.get(channel, ())
        return [sorted((agents[i].start_ts, i) for i in in_channel if agents[i].status in statuses)]

    def name_holder(self, name: str, *, strict: bool) -> str | None:
        """The live agent holding ``name``; with ``strict``, else the last agent that carried it."""
        holder = self.holders.get(name)
        if holder is None and strict:
            holder = self.last_with_name.get(name)
        return holder

    def live_ids_in(self, channel: str) -> list[str]:
        """The ids of the live agents in ``channel``, sorted."""
        return sorted(self.by_channel.get(channel, set()) & self.live)
