"""A small world for apply tests: manifests on disk, a state file, an emulator, and fake time.

``World`` runs whole passes through ``apply_pass.apply_command`` (the code ``reconciler apply``
runs) against an emulator reached in-process over ``httpx.ASGITransport``, or over a real socket
when given a base URL, and reads back what the emulator and the state hold. ``FakeClock`` makes
every wait of apply (rate limit, retries, polling) instant.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx
import yaml

from reconciler import plan, reconcile
from reconciler.apply.steps import ApplySettings
from reconciler.emulator import (
    DEMO_APP_CERTIFICATE,
    DEMO_APP_ID,
    DEMO_CUSTOMER_ID,
    DEMO_CUSTOMER_SECRET,
    EmulatorConfig,
    create_app,
)
from reconciler.reconcile import apply_pass
from reconciler.state import AgentRecord, StateSnapshot, open_state

SECRETS = {"OPENAI_API_KEY": "sk-test-openai-0123456789", "AZURE_TTS_KEY": "azure-test-key-98765"}
ENV = {
    "AGORA_APP_ID": DEMO_APP_ID,
    "AGORA_CUSTOMER_ID": DEMO_CUSTOMER_ID,
    "AGORA_CUSTOMER_SECRET": DEMO_CUSTOMER_SECRET,
    "AGORA_APP_CERTIFICATE": DEMO_APP_CERTIFICATE,
    **SECRETS,
}
LIVE = ("IDLE", "STARTING", "RUNNING", "STOPPING", "RECOVERING")


class FakeClock:
    """Unix time that moves only when someone sleeps; every sleep is recorded."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self.slept: list[float] = []
        self.on_sleep: Callable[[], Awaitable[None]] | None = None

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._now += max(0.0, seconds)
        if self.on_sleep is not None:
            await self.on_sleep()
        await asyncio.sleep(0)


def profile() -> dict[str, Any]:
    """The shared properties of test agents: an LLM and a TTS, their keys by reference."""
    return {
        "idle_timeout": 0,
        "llm": {
            "url": "https://llm.example/v1/chat/completions",
            "api_key": "${env:OPENAI_API_KEY}",
            "system_messages": [{"role": "system", "content": "You help."}],
            "params": {"model": "gpt-4o-mini"},
        },
        "tts": {"vendor": "microsoft", "params": {"key": "${env:AZURE_TTS_KEY}", "voice": "a"}},
    }


def agent(channel: str, *, uid: str = "1001", **spec: Any) -> dict[str, Any]:
    """An Agent spec in ``channel``; keyword arguments become spec fields (``protect``, ...)."""
    properties = {**profile(), "agent_rtc_uid": uid, "remote_rtc_uids": ["2001"]}
    properties.update(spec.pop("properties", {}))
    return {"channel": channel, "properties": properties, **spec}


def write_fleet(
    directory: Path,
    agents: Mapping[str, Mapping[str, Any]],
    *,
    certificate: bool = True,
    quota: int = 20,
    token_lifetime: int | None = None,
    notification_secret: str | None = None,
    rollout: Mapping[str, Any] | None = None,
    windows: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Write a project ``demo`` and one Agent document per entry of ``agents`` (name → spec)."""
    project: dict[str, Any] = {
        "appId": "${env:AGORA_APP_ID}",
        "customerId": "${env:AGORA_CUSTOMER_ID}",
        "customerSecret": "${env:AGORA_CUSTOMER_SECRET}",
        "maxConcurrentAgents": quota,
    }
    if certificate:
        project["appCertificate"] = "${env:AGORA_APP_CERTIFICATE}"
    if token_lifetime is not None:
        project["tokenLifetimeSeconds"] = token_lifetime
    if notification_secret is not None:
        project["notificationSecret"] = notification_secret
    if rollout is not None:
        project["rollout"] = dict(rollout)
    if windows:
        project["windows"] = [dict(window) for window in windows]
    documents = [
        {
            "apiVersion": "reconciler/v1",
            "kind": "Project",
            "metadata": {"name": "demo"},
            "spec": project,
        }
    ]
    documents.extend(
        {
            "apiVersion": "reconciler/v1",
            "kind": "Agent",
            "metadata": {"name": name, "project": "demo"},
            "spec": dict(spec),
        }
        for name, spec in sorted(agents.items())
    )
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    (directory / "fleet.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))


def split_into_teams(fleet: Path, *, team_b: set[str]) -> None:
    """Rewrite ``fleet/fleet.yaml`` as ``project.yaml``, ``team-a/`` and ``team-b/`` files."""
    documents = list(yaml.safe_load_all((fleet / "fleet.yaml").read_text()))
    (fleet / "fleet.yaml").unlink()
    project = [d for d in documents if d["kind"] == "Project"]
    agents = [d for d in documents if d["kind"] != "Project"]
    (fleet / "project.yaml").write_text(yaml.safe_dump_all(project))
    for team, docs in {
        "team-a": [d for d in agents if d["metadata"]["name"] not in team_b],
        "team-b": [d for d in agents if d["metadata"]["name"] in team_b],
    }.items():
        (fleet / team).mkdir()
        (fleet / team / "agents.yaml").write_text(yaml.safe_dump_all(docs))


@dataclass(frozen=True)
class Ran:
    """One ``reconciler apply``: its exit code and what it wrote."""

    code: int
    stdout: str
    stderr: str


class World:
    """Manifests, a state file and one emulator; passes run in-process on a fake clock."""

    def __init__(
        self, root: Path, *, config: EmulatorConfig | None = None, base_url: str | None = None
    ) -> None:
        self.fleet = root / "fleet"
        self.state_path = root / "state.db"
        self.clock = FakeClock()
        self.environ = dict(ENV)
        if base_url is None:
            self.transport: httpx.AsyncBaseTransport | None = httpx.ASGITransport(
                app=create_app(config or EmulatorConfig(stopping_seconds=0))
            )
            self.base_url = "http://emulator"
        else:
            self.transport = None
            self.base_url = base_url

    async def apply(
        self,
        *,
        settings: ApplySettings | None = None,
        allow_mass_delete: bool = False,
        auto_approve: bool = True,
        target: Path | None = None,
        stdin: TextIO | None = None,
    ) -> Ran:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = await apply_pass.apply_command(
            target or self.fleet,
            manifests=self.fleet,
            options=apply_pass.ApplyOptions(
                auto_approve=auto_approve,
                allow_mass_delete=allow_mass_delete,
                settings=settings or ApplySettings(),
            ),
            state_path=self.state_path,
            api_url=self.base_url,
            environ=self.environ,
            streams=apply_pass.Streams(stdin=stdin or io.StringIO(), stdout=stdout, stderr=stderr),
            transport=self.transport,
            clock=self.clock,
        )
        return Ran(code=code, stdout=stdout.getvalue(), stderr=stderr.getvalue())

    async def plan(self) -> plan.Plan:
        """The plan a fresh pass would make now (read-only)."""
        outcome = await reconcile.plan_pass(
            self.fleet,
            state_path=self.state_path,
            api_url=self.base_url,
            environ=self.environ,
            limits=plan.SafetyLimits(),
            transport=self.transport,
            clock=self.clock.now,
        )
        assert isinstance(outcome, reconcile.Planned), outcome
        return outcome.plan

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call one ``/_emulator`` control route."""
        async with httpx.AsyncClient(transport=self.transport, base_url=self.base_url) as http:
            response = await http.request(method, "/_emulator" + path, json=body)
            response.raise_for_status()
            return response.json()

    async def fault(self, **spec: Any) -> None:
        await self.control("POST", "/faults", spec)

    async def agents(self) -> list[dict[str, Any]]:
        """Every agent the emulator holds, in any state."""
        dump: list[dict[str, Any]] = (await self.control("GET", "/agents"))["agents"]
        return dump

    async def live(self) -> list[dict[str, Any]]:
        """The agents that are not STOPPED or FAILED."""
        return [a for a in await self.agents() if a["status"] in LIVE]

    def snapshot(self) -> StateSnapshot:
        with open_state(self.state_path) as store:
            return store.snapshot()

    def records(self) -> Mapping[str, AgentRecord]:
        return self.snapshot().records

    async def assert_converged(self) -> None:
        """One live agent per key, each the one its record names, no intent left, empty plan."""
        snapshot = self.snapshot()
        live = await self.live()
        names = [a["name"] for a in live]
        assert len(names) == len(set(names)), f"duplicate names live: {sorted(names)}"
        recorded = {r.agent_id for r in snapshot.records.values()}
        assert {a["agent_id"] for a in live} == recorded, "live agents and records differ"
        assert snapshot.intents == ()
        assert (await self.plan()).is_empty
