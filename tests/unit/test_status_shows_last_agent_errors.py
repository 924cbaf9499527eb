"""The daemon keeps the last error per key (event 110) and serves it; ``status`` shows it.

The whole loop (the emulator's signed 110s, ``status --daemon``) runs end to end in
``tests/e2e/test_daemon_heals_on_emulator_events.py``; here are the rules around it.
"""

from __future__ import annotations

import socket

import pytest
from receiver_harness import receiving

from reconciler import logs
from reconciler.daemon.last_errors import DaemonUnreachableError, LastErrors, fetch
from reconciler.plan.status import AgentError, AgentRow, Drift, FleetStatus, with_errors
from reconciler.render.status import render_status_text


def _error(key: str = "demo/a", *, at: float, message: str = "boom") -> AgentError:
    return AgentError(
        key=key,
        project="demo",
        agent_id=f"agent-{at:g}",
        module="tts",
        code="2001",
        message=message,
        at=at,
    )


def test_the_latest_error_per_key_is_kept_masked_and_bounded() -> None:
    """A late-arriving older error does not replace a newer one; the oldest key goes first."""
    logs.register_secret("sk-live-abcdef123456")
    errors = LastErrors(remember=2)
    errors.record(_error(at=20.0, message="tts rejected sk-live-abcdef123456"))
    errors.record(_error(at=10.0))
    errors.record(_error("demo/b", at=5.0))
    assert [(e.key, e.at) for e in errors.all()] == [("demo/a", 20.0), ("demo/b", 5.0)]
    assert "sk-live-abcdef123456" not in errors.all()[0].message
    errors.record(_error("demo/c", at=1.0))
    assert [e.key for e in errors.all()] == ["demo/b", "demo/c"]


def test_status_shows_each_rows_last_error_relative_to_its_now() -> None:
    row = AgentRow(
        key="demo/a",
        project="demo",
        channel="ch-a",
        remote_name="rc-a-1",
        agent_id="agent-2",
        status="RUNNING",
        generation=1,
        token_expires_at=None,
        drift=Drift.IN_SYNC,
        reason=None,
        started_at=None,
        age_seconds=None,
    )
    status = FleetStatus(now=200.0, rows=(row,), others=())
    assert "Last errors" not in render_status_text(status)
    shown = with_errors(status, [_error(at=80.0), _error(at=20.0), _error("demo/gone", at=1.0)])
    assert shown.rows[0].last_error == _error(at=80.0)
    text = render_status_text(shown)
    assert (
        'Last errors (Agora\'s event 110):\n  demo/a: tts 2001 "boom" (agent agent-80, 2m ago)'
        in text
    )


def test_a_daemon_that_does_not_answer_is_one_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(DaemonUnreachableError, match="cannot read the daemon's errors at"):
        fetch(closed)
    with receiving() as stranger, pytest.raises(DaemonUnreachableError):
        fetch(stranger.url)  # answers GET with 501: not a reconciler daemon
