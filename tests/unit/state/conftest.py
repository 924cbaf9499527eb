"""Fixtures for the state store tests: each backend behind one contract, and value builders."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.state import (
    AgentRecord,
    Intent,
    IntentAction,
    MemoryStateStore,
    StateStore,
    open_state,
)

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]


@pytest.fixture
def postgres_state(postgres_url: str) -> str:
    """The ``--state`` URL of a new, empty state: a schema of its own on the session's server."""
    return f"{postgres_url}?schema=t_{uuid.uuid4().hex[:16]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def state_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What ``--state`` names for each backend that lives outside the process."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    return str(request.getfixturevalue("postgres_state"))


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """Every contract test runs against every backend, so they cannot drift apart."""
    backend: StateStore
    if request.param == "memory":
        backend = MemoryStateStore()
    elif request.param == "sqlite":
        backend = open_state(tmp_path / "s.db")
    else:
        backend = open_state(request.getfixturevalue("postgres_state"))
    with backend:
        yield backend


@pytest.fixture
def make_record() -> RecordFactory:
    """Build a plausible record for ``name`` in project ``prod``, overriding any field."""

    def build(name: str = "lobby", **overrides: Any) -> AgentRecord:
        fields: dict[str, Any] = {
            "key": f"prod/{name}",
            "project": "prod",
            "remote_name": f"rc-prod-{name}-g1",
            "generation": 1,
            "agent_id": f"agent-{name}",
            "channel": name,
            "agent_rtc_uid": "1001",
            "applied_properties": {
                "llm": {"params": {"model": "gpt-4o-mini"}, "api_key": "hmac:0a1b2c"},
                "asr": {"language": "en-US"},
            },
            "spec_hash": "sha256:feed",
            "token_expires_at": 90_000.0,
            "created_at": 1_000.0,
            "updated_at": 2_000.0,
            "git_revision": "abc123",
            "status_hint": "RUNNING",
        }
        return AgentRecord(**(fields | overrides))

    return build


@pytest.fixture
def make_intent() -> IntentFactory:
    """Build a pending join for ``name`` in project ``prod``, overriding any field."""

    def build(intent_id: str = "i-1", name: str = "lobby", **overrides: Any) -> Intent:
        fields: dict[str, Any] = {
            "id": intent_id,
            "key": f"prod/{name}",
            "project": "prod",
            "action": IntentAction.JOIN,
            "remote_name": f"rc-prod-{name}-g1",
            "agent_id": None,
            "channel": name,
            "created_at": 1_500.0,
            "payload": {"generation": 1},
        }
        return Intent(**(fields | overrides))

    return build
