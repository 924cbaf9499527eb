"""A pass stuck on the API is bounded: past its deadline it fails (and backs off like any
failure), and after a stop it is cancelled once the grace is over, so the daemon exits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from apply_harness import agent, write_fleet
from daemon_harness import ManualClock, ScriptedRunner, settings, until
from structlog.testing import capture_logs

from reconciler import daemon
from reconciler.errors import ReconcilerError
from reconciler.reconcile.bounds import Bounds


def _stuck(tmp_path: Path, **overrides: object) -> tuple[daemon.Daemon, ScriptedRunner]:
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    runner = ScriptedRunner(gate=asyncio.Event())  # never opened: every pass hangs
    the_daemon = daemon.Daemon(
        settings(tmp_path / "fleet", **overrides), runner=runner, clock=ManualClock()
    )
    return the_daemon, runner


async def test_a_pass_past_its_deadline_fails_and_backs_off(tmp_path: Path) -> None:
    """The runner never returns; the deadline ends the pass as a failure with a retry set."""
    the_daemon, _ = _stuck(tmp_path, pass_deadline=0.05)
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(the_daemon.run(stop=stop))
        await until(lambda: any(e["event"] == "retry_scheduled" for e in logs))
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    failed = next(e for e in logs if e["event"] == "pass_failed")
    assert failed["error"] == "the pass took longer than 0.05 s"
    assert not the_daemon.ready()


async def test_a_stop_cancels_the_stuck_pass_after_the_grace(tmp_path: Path) -> None:
    """Stop while the pass hangs: it is cancelled after the grace, and ``run`` returns."""
    the_daemon, runner = _stuck(tmp_path, stop_grace=0.05)
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(the_daemon.run(stop=stop))
        await until(lambda: runner.calls == 1)
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    cancelled = [e for e in logs if e["event"] == "pass_cancelled"]
    assert cancelled == [
        {"event": "pass_cancelled", "reason": "stop grace", "grace_s": 0.05, "log_level": "warning"}
    ]


def test_bounds_come_from_the_environment_and_bad_ones_are_one_clear_error() -> None:
    """Durations as the flags take them; a bad value names its variable."""
    bounds = Bounds.from_environ(
        {
            "RECONCILER_API_DEADLINE": "2s",
            "RECONCILER_PASS_DEADLINE": "1m",
            "RECONCILER_OBSERVE_FACTOR": "3",
        }
    )
    assert bounds == Bounds(api_deadline=2.0, pass_deadline=60.0, observe_factor=3)
    assert bounds.max_listed(20) == 60
    assert Bounds.from_environ({}) == Bounds()
    with pytest.raises(ReconcilerError, match=r"^RECONCILER_API_DEADLINE: expected a positive"):
        Bounds.from_environ({"RECONCILER_API_DEADLINE": "soon"})
    with pytest.raises(ReconcilerError, match=r"^RECONCILER_OBSERVE_FACTOR: expected a whole"):
        Bounds.from_environ({"RECONCILER_OBSERVE_FACTOR": "0"})
