"""The operator commands: fleet ``status``, and speak, interrupt, think, history on one agent.

An edge shell like ``reconcile``: it loads the manifests, reads a snapshot of the state without
taking its lock (as ``plan`` does, so it works while a daemon or an apply holds it), and talks to
Agora through the project's client. An agent is
addressed by its manifest key ``project/name``, or by ``name`` alone when only one project has it,
and only an agent the state owns is ever spoken to. Every refusal is a ``ReconcilerError`` with
the fields a person needs, raised before any call when it can be known without one.

It never joins, updates or leaves an agent, never writes the state, and decides nothing about
what the fleet should be: status's drift comes from the planner, through ``status``.
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from reconciler import observe, reconcile
from reconciler.agora import wire
from reconciler.agora.client import AgoraClient, Transport
from reconciler.errors import NotFoundError, ReconcilerError
from reconciler.manifest.desired import DesiredFleet
from reconciler.plan import status
from reconciler.reconcile import connect, state_commands
from reconciler.reconcile.bounds import Bounds
from reconciler.source import git_dir, read_record, record_path
from reconciler.state import StateSnapshot, StateTarget, anchor_path, read_state

T = TypeVar("T")

_SUGGESTIONS: Final = 3


class UnknownAgentError(ReconcilerError):
    """No manifest entry or owned agent has this name; ``suggestions`` are the closest keys."""

    def __init__(self, *, name: str, suggestions: tuple[str, ...]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no agent {name!r} in the manifests or the state{hint}")


class AmbiguousAgentError(ReconcilerError):
    """A short name that several projects use; ``keys`` are the full keys to choose from."""

    def __init__(self, *, name: str, keys: tuple[str, ...]) -> None:
        self.name = name
        self.keys = keys
        super().__init__(f"{name!r} is ambiguous; name one of {', '.join(keys)}")


class AgentNotRunningError(ReconcilerError):
    """The agent is not RUNNING, so it cannot be spoken to; ``status`` is None if never started."""

    def __init__(self, *, key: str, status: str | None, agent_id: str | None = None) -> None:
        self.key = key
        self.status = status
        self.agent_id = agent_id
        if status is None:
            why = "has no agent: it was never started (run `reconciler apply`)"
        elif status == observe.GONE:
            why = f"is not running: its agent {agent_id} is gone"
        else:
            why = f"is not running: its agent {agent_id} is {status}"
        super().__init__(f"{key} {why}")


class TextTooLongError(ReconcilerError):
    """Agora speaks at most ``limit`` bytes of UTF-8 at once."""

    def __init__(self, *, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"text is {size} bytes; speak takes at most {limit} bytes (UTF-8)")


class SpeakNotSupportedError(ReconcilerError):
    """The agent runs a multimodal LLM (mllm), which Agora's speak does not support."""

    def __init__(self, *, key: str) -> None:
        self.key = key
        super().__init__(f"{key} runs an mllm (multimodal) model, which cannot be asked to speak")


@dataclass(frozen=True)
class Workspace:
    """Where an operator command finds the manifests, the state and the API."""

    fleet: Path
    state: StateTarget | None
    api_url: str | None
    environ: Mapping[str, str] = field(repr=False)
    transport: Transport | None = None
    # The git source's directory, when a daemon keeps it elsewhere than beside the state.
    git_root: Path | None = None

    @classmethod
    def from_flags(
        cls,
        fleet: Path,
        *,
        api_url: str | None,
        state: StateTarget | None,
        environ: Mapping[str, str],
    ) -> Workspace:
        """The workspace the CLI flags name; ``AGORA_API_URL`` stands in for ``--api-url``."""
        return cls(
            fleet=fleet,
            state=state,
            api_url=connect.api_url_override(api_url, environ=environ),
            environ=environ,
        )


@dataclass(frozen=True)
class Done:
    """What one speak, interrupt or think reached."""

    action: str
    key: str
    agent_id: str
    channel: str

    def describe(self) -> str:
        return f"{self.action}: sent to {self.key} (agent {self.agent_id}, channel {self.channel})"


@dataclass(frozen=True)
class History:
    """An agent's short-term history, with the key it was asked for by."""

    key: str
    response: wire.HistoryResponse


@dataclass(frozen=True)
class _Running:
    key: str
    agent_id: str
    client: AgoraClient


async def fleet_status(
    workspace: Workspace, *, clock: Callable[[], float] = time.time
) -> status.FleetStatus:
    """Observe every project and compare: read-only (list and query only).

    When a git-sourced daemon runs against this state, its source is shown, and a manifest path
    that does not exist (the default ``fleet`` inside its container) stands for the checkout the
    daemon has in force.
    """
    root = workspace.git_root or git_dir(anchor_path(workspace.state))
    source = read_record(record_path(root))
    manifests = workspace.fleet
    if source is not None and not manifests.exists():
        manifests = root / "current" / source.path
    fleet = _load(manifests)
    state, secret_key = read_state(workspace.state)
    fingerprints = reconcile.fingerprint_secrets(fleet, environ=workspace.environ, key=secret_key)
    now = clock()
    async with connect.open_readers(
        fleet.projects,
        environ=workspace.environ,
        api_url=workspace.api_url,
        transport=workspace.transport,
    ) as readers:
        observed = await reconcile.observe_all(
            fleet,
            readers=readers,
            state=state,
            now=now,
            bounds=Bounds.from_environ(workspace.environ),
        )
    found = status.build_status(fleet, observed, state, now=now, fingerprints=fingerprints)
    return dataclasses.replace(found, source=source)


async def speak(
    workspace: Workspace,
    name: str,
    text: str,
    *,
    priority: wire.SpeakPriority | None = None,
    interruptable: bool | None = None,
) -> Done:
    """Have the agent say ``text``; refused for text over 512 bytes and for mllm agents."""
    size = len(text.encode())
    if size > wire.SPEAK_TEXT_MAX_BYTES:
        raise TextTooLongError(size=size, limit=wire.SPEAK_TEXT_MAX_BYTES)
    fields: dict[str, Any] = {"text": text}
    if priority is not None:
        fields["priority"] = priority
    if interruptable is not None:
        fields["interruptable"] = interruptable
    request = wire.SpeakRequest(**fields)
    async with _running(workspace, name, refuse_mllm=True) as agent:
        answer = await _act(agent, agent.client.speak(agent.agent_id, request))
    return Done(action="speak", key=agent.key, agent_id=agent.agent_id, channel=answer.channel)


async def interrupt(workspace: Workspace, name: str) -> Done:
    """Make the agent stop speaking or thinking now."""
    async with _running(workspace, name) as agent:
        answer = await _act(agent, agent.client.interrupt(agent.agent_id))
    return Done(action="interrupt", key=agent.key, agent_id=agent.agent_id, channel=answer.channel)


async def think(workspace: Workspace, name: str, text: str) -> Done:
    """Hand the agent ``text`` as if the user had said it, with the API's default actions."""
    request = wire.ThinkRequest(text=text)
    async with _running(workspace, name) as agent:
        answer = await _act(agent, agent.client.think(agent.agent_id, request))
    return Done(action="think", key=agent.key, agent_id=agent.agent_id, channel=answer.channel)


async def history(workspace: Workspace, name: str) -> History:
    """The agent's short-term history, which exists only while it runs."""
    async with _running(workspace, name) as agent:
        answer = await _act(agent, agent.client.history(agent.agent_id))
    return History(key=agent.key, response=answer)


def resolve_key(name: str, *, desired: DesiredFleet, state: StateSnapshot) -> str:
    """The key ``name`` stands for: a key itself, or the one key whose name part it is.

    Owned agents whose manifest entry is gone still count (their history is worth pulling before
    the next apply deletes them), as long as their project is still in the manifests.
    """
    keys = sorted(
        {
            *desired.agents,
            *(k for k, r in state.records.items() if r.project in desired.projects),
        }
    )
    if name in keys:
        return name
    matches = tuple(key for key in keys if key.partition("/")[2] == name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousAgentError(name=name, keys=matches)
    raise UnknownAgentError(name=name, suggestions=_close(name, keys))


@asynccontextmanager
async def _running(
    workspace: Workspace, name: str, *, refuse_mllm: bool = False
) -> AsyncIterator[_Running]:
    """The owned agent ``name`` stands for, checked RUNNING by query, with its project's client."""
    fleet = _load(workspace.fleet)
    state, _ = read_state(workspace.state)
    key = resolve_key(name, desired=fleet, state=state)
    record = state.records.get(key)
    if record is None or record.agent_id is None:
        raise AgentNotRunningError(key=key, status=None)
    if refuse_mllm and wire.mllm_enabled(record.applied_properties):
        raise SpeakNotSupportedError(key=key)
    client = connect.open_client(
        fleet.projects[record.project],
        environ=workspace.environ,
        api_url=workspace.api_url,
        transport=workspace.transport,
    )
    async with client:
        agent = _Running(key=key, agent_id=record.agent_id, client=client)
        seen = await _act(agent, client.query(record.agent_id))
        if seen.status != wire.AgentStatus.RUNNING:
            raise AgentNotRunningError(key=key, status=seen.status, agent_id=record.agent_id)
        yield agent


async def _act(agent: _Running, call: Awaitable[T]) -> T:
    """Await one call; a 404 means the agent stopped since we looked."""
    try:
        return await call
    except NotFoundError:
        raise AgentNotRunningError(
            key=agent.key, status=observe.GONE, agent_id=agent.agent_id
        ) from None


def _load(path: Path) -> DesiredFleet:
    """The desired fleet, or the first problem of the manifests as one error."""
    return state_commands.load_or_raise(path)


def _close(name: str, keys: Iterable[str]) -> tuple[str, ...]:
    """The keys closest to ``name``, compared as given and by their name part."""
    keys = list(keys)
    found = difflib.get_close_matches(name, keys, n=_SUGGESTIONS, cutoff=0.6)
    shorts = difflib.get_close_matches(
        name, {key.partition("/")[2] for key in keys}, n=_SUGGESTIONS, cutoff=0.6
    )
    found += [key for short in shorts for key in keys if key.partition("/")[2] == short]
    return tuple(dict.fromkeys(found))[:_SUGGESTIONS]
