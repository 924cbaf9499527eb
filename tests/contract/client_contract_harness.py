"""Test-side helpers of the client contract suite: driving the emulator's control routes.

Lives beside conftest.py so that tests can import the types they annotate fixtures with. It must
not reach into the emulator's internals: everything goes through ``/_emulator`` over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from reconciler.agora import wire
from reconciler.agora.client import AgoraClient

EMULATOR_URL = "http://emulator.test"

JoinFactory = Callable[..., wire.JoinRequest]
ClientFactory = Callable[..., AgoraClient]


class Sleeps(list[float]):
    """The pauses the client's retry loop asked for, recorded instead of slept."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


class EmulatorControl:
    """The ``/_emulator`` routes: arrange faults and clock moves, read counters and end state."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def counters(self) -> dict[str, dict[str, int]]:
        """API calls seen so far, by endpoint and answer, e.g. ``{"join": {"200": 1}}``."""
        result: dict[str, dict[str, int]] = await self._call("GET", "/counters")
        return result

    async def add_fault(self, **spec: Any) -> None:
        """One fault rule, as the emulator's FaultSpec takes it."""
        await self._call("POST", "/faults", json=spec)

    async def agents(self) -> list[dict[str, Any]]:
        """Every agent of both services, with region, name, channel and status."""
        agents: list[dict[str, Any]] = (await self._call("GET", "/agents"))["agents"]
        return agents

    async def seed(self, agents: list[dict[str, Any]]) -> list[str]:
        """Plant agents directly, past the API's checks; returns their ids."""
        ids: list[str] = (await self._call("POST", "/agents", json={"agents": agents}))["agent_ids"]
        return ids

    async def now(self) -> int:
        """The emulator's clock, in whole Unix seconds."""
        return int((await self._call("GET", "/clock"))["now"])

    async def advance_clock(self, seconds: float) -> None:
        await self._call("POST", "/clock", json={"advance": seconds})

    async def configure(self, **knobs: Any) -> None:
        await self._call("POST", "/config", json=knobs)

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = await self.http.request(method, "/_emulator" + path, json=json)
        response.raise_for_status()
        return response.json()


def join_request(
    name: str, *, channel: str = "lobby", uid: str = "1001", **properties: Any
) -> wire.JoinRequest:
    """A minimal valid join request; tests pick the name, channel, uid and any extra property."""
    body = {
        "channel": channel,
        "token": "007agent-rtc-token",
        "agent_rtc_uid": uid,
        "remote_rtc_uids": ["2001"],
        "idle_timeout": 0,
        "llm": {"url": "https://llm.test/v1", "api_key": "sk-test", "params": {"model": "m"}},
        "tts": {"vendor": "microsoft", "params": {"key": "k", "region": "eastus"}},
        **properties,
    }
    return wire.JoinRequest.model_validate({"name": name, "properties": body})
