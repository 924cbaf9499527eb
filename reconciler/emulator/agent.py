"""What the emulated service remembers about one agent, and the seed shape that plants one.

Plain records with the few derived facts every rule asks about (is it live, how long may it idle,
whom does it listen to). The rules that change them live in store.py and conversation.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from reconciler.agora import wire
from reconciler.agora.wire import AgentStatus

IDLE_TIMEOUT_DEFAULT: Final = 30


class AgentSeed(BaseModel):
    """An agent planted through ``/_emulator/agents``, in any state, past every join check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    channel: str
    agent_rtc_uid: str = "0"
    remote_rtc_uids: list[str] = []
    status: AgentStatus = AgentStatus.RUNNING
    start_ts: int | None = None
    stop_ts: int | None = None
    message: str | None = None
    properties: dict[str, Any] = {}
    app_id: str | None = None
    agent_id: str | None = None


@dataclass(slots=True)
class Agent:
    """One agent as the service knows it; mutable because the service changes it over time."""

    agent_id: str
    app_id: str
    name: str
    channel: str
    agent_rtc_uid: str
    remote_rtc_uids: tuple[str, ...]
    properties: dict[str, Any]
    status: AgentStatus
    start_ts: int
    stop_ts: int | None = None
    message: str | None = None
    idle_since: float | None = None
    history: list[wire.HistoryEntry] = field(default_factory=list)
    turns: list[wire.Turn] = field(default_factory=list)
    talking_until: float | None = None
    talked_to: float | None = None

    @property
    def live(self) -> bool:
        return not wire.is_terminal(self.status)

    @property
    def winding_down(self) -> bool:
        """Terminal or STOPPING: no timer may stop it again."""
        return not self.live or self.status == AgentStatus.STOPPING

    @property
    def idle_timeout(self) -> int:
        value = self.properties.get("idle_timeout")
        return IDLE_TIMEOUT_DEFAULT if value is None else int(value)

    def listens_to(self, uid: str) -> bool:
        return uid in self.remote_rtc_uids or "*" in self.remote_rtc_uids

    def describe(self, *, region: str) -> dict[str, Any]:
        """The full record ``GET /_emulator/agents`` shows, for tests to assert end state on."""
        return {
            "agent_id": self.agent_id,
            "region": region,
            "app_id": self.app_id,
            "name": self.name,
            "channel": self.channel,
            "agent_rtc_uid": self.agent_rtc_uid,
            "remote_rtc_uids": list(self.remote_rtc_uids),
            "status": self.status.value,
            "properties": self.properties,
            "start_ts": self.start_ts,
            "stop_ts": self.stop_ts,
            "message": self.message,
        }
