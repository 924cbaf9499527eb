"""The status table and JSON, and the history as a transcript, JSON and JSON lines."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from reconciler import plan
from reconciler.agora import wire
from reconciler.plan.status import AgentRow, Drift, FleetStatus, OtherAgent
from reconciler.render.history import (
    render_history_json,
    render_history_lines,
    render_history_text,
)
from reconciler.render.status import duration, render_status_json, render_status_text

NOW = 1_700_000_000.0


BASE = AgentRow(
    key="prod/lobby",
    project="prod",
    channel="lobby",
    remote_name="rc-prod--lobby-g1",
    agent_id="A1",
    status="RUNNING",
    generation=1,
    token_expires_at=NOW + 3 * 3600 + 120,
    drift=Drift.IN_SYNC,
    reason=None,
    started_at=NOW - 90,
    age_seconds=90,
)


def _row(key: str, **fields: Any) -> AgentRow:
    name = key.partition("/")[2]
    identity: dict[str, Any] = {"key": key, "channel": name, "remote_name": f"rc-prod--{name}-g1"}
    return replace(BASE, **{**identity, **fields})


FLEET = FleetStatus(
    now=NOW,
    rows=(
        _row("prod/lobby"),
        _row(
            "prod/desk",
            drift=Drift.TO_UPDATE,
            reason="changes in place: llm.params",
            token_expires_at=NOW - 300,
        ),
        _row(
            "prod/new",
            remote_name=None,
            agent_id=None,
            status=None,
            generation=None,
            token_expires_at=None,
            drift=Drift.MISSING,
            reason="not in the state",
            started_at=None,
            age_seconds=None,
        ),
    ),
    others=(
        OtherAgent(
            project="prod",
            kind=plan.ReportKind.UNMANAGED,
            agent_id="B1",
            name="someone-elses-bot",
            status="RUNNING",
            age_seconds=7200,
            message="not managed by this reconciler; never touched",
        ),
    ),
)


def test_the_wide_table_has_one_line_per_agent_under_a_header() -> None:
    """Header, one unfolded line per row with every column, dashes for what is not known."""
    lines = render_status_text(FLEET, wide=True).splitlines()
    assert lines[0].split() == [
        "KEY",
        "CHANNEL",
        "REMOTE",
        "NAME",
        "AGENT",
        "ID",
        "STATUS",
        "GEN",
        "TOKEN",
        "EXPIRES",
        "DRIFT",
        "AGE",
    ]
    assert lines[1].split() == [
        "prod/lobby",
        "lobby",
        "rc-prod--lobby-g1",
        "A1",
        "RUNNING",
        "1",
        "in",
        "3h",
        "2m",
        "in",
        "sync",
        "1m",
    ]
    assert "expired 5m ago" in lines[2]
    assert lines[3].split() == ["prod/new", "new", "-", "-", "-", "-", "-", "missing", "-"]


def test_the_default_table_fits_100_columns() -> None:
    """Without the remote name and agent id; a long key is cut with an ellipsis, not folded."""
    lines = render_status_text(FLEET).splitlines()
    assert " ".join(lines[0].split()) == "KEY CHANNEL STATUS GEN TOKEN EXPIRES DRIFT AGE"
    assert " ".join(lines[1].split()) == "prod/lobby lobby RUNNING 1 in 3h 2m in sync 1m"
    long = replace(FLEET.rows[0], key="prod/" + "x" * 120, channel="c" * 80)
    text = render_status_text(replace(FLEET, rows=(long, *FLEET.rows[1:])))
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "…" in text
    assert "someone-elses-bot" in text


def test_the_table_says_why_lists_others_apart_and_sums_up() -> None:
    """Reasons under the table, other agents in their own table, then a one-line summary."""
    text = render_status_text(FLEET)
    assert "  prod/desk: changes in place: llm.params" in text
    assert "Live agents no manifest entry stands for (never touched):" in text
    assert "someone-elses-bot" in text
    assert text.endswith("3 agents: 1 in sync, 1 to update, 1 missing.\n")


def test_colour_only_when_asked() -> None:
    """No escape codes by default (pipes, NO_COLOR); coloured drift when the caller asks."""
    assert "\x1b[" not in render_status_text(FLEET)
    assert "\x1b[" in render_status_text(FLEET, color=True)


def test_an_empty_fleet_says_so() -> None:
    """No rows: a sentence instead of an empty table."""
    text = render_status_text(FleetStatus(now=NOW, rows=(), others=()))
    assert text == "No agents in the manifests or the state.\n\n0 agents.\n"


def test_json_holds_every_field_with_times_in_unix_seconds() -> None:
    """Versioned JSON: every row field, the others and the per-drift summary."""
    document = json.loads(render_status_json(FLEET))
    assert document["format_version"] == "1"
    assert document["now"] == NOW
    first = document["agents"][0]
    assert first == {
        "key": "prod/lobby",
        "project": "prod",
        "channel": "lobby",
        "remote_name": "rc-prod--lobby-g1",
        "agent_id": "A1",
        "status": "RUNNING",
        "generation": 1,
        "token_expires_at": NOW + 3 * 3600 + 120,
        "drift": "in sync",
        "reason": None,
        "held_rule": None,
        "started_at": NOW - 90,
        "age_seconds": 90,
        "last_error": None,
    }
    assert document["others"][0]["kind"] == "unmanaged"
    assert document["summary"] == {
        "in sync": 1,
        "to update": 1,
        "to replace": 0,
        "missing": 1,
        "to adopt": 0,
        "to delete": 0,
        "held back": 0,
        "to stop": 0,
        "off schedule": 0,
        "waiting for quota": 0,
    }


def test_durations_are_short() -> None:
    """Seconds, minutes, hours and minutes, days and hours."""
    assert [duration(s) for s in (0, 45, 720, 3600, 11_040, 86_400, 190_800)] == [
        "0s",
        "45s",
        "12m",
        "1h",
        "3h 4m",
        "1d",
        "2d 5h",
    ]


HISTORY = wire.HistoryResponse(
    agent_id="A1",
    start_ts=1_700_000_000,
    status="RUNNING",
    contents=(
        wire.HistoryEntry(role="assistant", content="Welcome!\nThe lifts are on the left."),
        wire.HistoryEntry(
            role="user", content="Où est le café ?", speech_start_ms=1, speech_end_ms=2
        ),
    ),
)


def test_the_transcript_reads_as_a_conversation() -> None:
    """A heading, then ``role: content``, later lines of an entry indented."""
    assert render_history_text("prod/lobby", HISTORY) == (
        "prod/lobby (agent A1, RUNNING): 2 entries\n"
        "assistant: Welcome!\n"
        "  The lifts are on the left.\n"
        "user: Où est le café ?\n"
    )


def test_history_json_and_lines_carry_the_same_entries() -> None:
    """The JSON view's contents and the archive's JSON lines agree entry for entry."""
    document = json.loads(render_history_json("prod/lobby", HISTORY))
    lines = [json.loads(line) for line in render_history_lines(HISTORY).splitlines()]
    assert document["contents"] == lines
    assert lines[1] == {
        "role": "user",
        "content": "Où est le café ?",
        "speech_start_ms": 1,
        "speech_end_ms": 2,
    }
    assert (document["key"], document["agent_id"], document["status"]) == (
        "prod/lobby",
        "A1",
        "RUNNING",
    )
