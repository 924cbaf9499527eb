"""Apply logs one event per attempt and one per outcome (with its attempts), with context, and
never a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from apply_harness import ENV, World, agent, write_fleet
from structlog.testing import capture_logs

from reconciler import logs
from reconciler.apply.steps import ApplySettings

CONTEXT = ("project", "channel", "key", "remote_name", "agent_id", "action")
SECRET_VALUES = [
    value for name, value in ENV.items() if name not in ("AGORA_APP_ID", "AGORA_CUSTOMER_ID")
]


@pytest.fixture
def _structlog_restored() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _events(captured: list[dict[str, object]], name: str) -> list[dict[str, object]]:
    return [event for event in captured if event["event"] == name]


async def test_each_join_attempt_and_each_outcome_is_one_event(tmp_path: Path) -> None:
    """A join lost once (502) logs two attempts and one outcome, all with the change's context."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")})
    await world.fault(endpoint="join", status=502, count=1)
    with capture_logs() as captured:
        ran = await world.apply(settings=ApplySettings(concurrency=1))
    assert ran.code == 0, ran.stdout + ran.stderr
    attempts = _events(captured, "apply_attempt")
    assert [(e["key"], e["attempt"], e["outcome"]) for e in attempts] == [
        ("demo/a", 1, "error"),
        ("demo/a", 2, "ok"),
        ("demo/b", 1, "ok"),
    ]
    assert attempts[0]["status"] == 502
    assert attempts[0]["reason"]
    # A failed attempt is a warning; a successful one says nothing its outcome does not.
    assert [e["log_level"] for e in attempts] == ["warning", "debug", "debug"]
    outcomes = _events(captured, "apply_outcome")
    assert [(e["key"], e["outcome"], e["attempts"], e["log_level"]) for e in outcomes] == [
        ("demo/a", "done", 2, "info"),
        ("demo/b", "done", 1, "info"),
    ]
    for event in (*attempts, *outcomes):
        assert all(field in event for field in CONTEXT), event
        assert event["action"] == "create"
        assert event["channel"] in ("room-a", "room-b")
        assert isinstance(event["duration_ms"], float)
    assert all(isinstance(e["agent_id"], str) for e in outcomes)


async def test_a_failed_outcome_carries_its_reason_and_detail(tmp_path: Path) -> None:
    """A refused join ends in one failed outcome event naming the API's reason."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", status=403, reason="ServiceNotEnabled", count=1)
    with capture_logs() as captured:
        assert (await world.apply()).code == 1
    [outcome] = _events(captured, "apply_outcome")
    assert outcome["outcome"] == "failed"
    assert outcome["reason"] == "ServiceNotEnabled"
    assert "HTTP 403" in str(outcome["detail"])


@pytest.mark.usefixtures("_structlog_restored")
async def test_json_logs_hold_no_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With JSON logs at debug level, no key, secret, certificate or minted token is written."""
    logs.configure_logging(json=True, level="debug")
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", status=502, count=1)
    assert (await world.apply()).code == 0
    [minted] = [a["properties"]["token"] for a in await world.agents()]
    assert minted.startswith("007")
    written = capsys.readouterr()
    lines = [json.loads(line) for line in written.err.splitlines() if line.startswith("{")]
    assert any(line["event"] == "apply_outcome" for line in lines)
    for text in (written.out, written.err):
        for secret in (*SECRET_VALUES, minted):
            assert secret not in text
