"""The worker: a first pass at start, one pass at a time, bursts coalesce, failures back off."""

from __future__ import annotations

import asyncio
from pathlib import Path

from apply_harness import agent, write_fleet
from daemon_harness import ManualClock, ScriptedRunner, running, settings, until
from structlog.testing import capture_logs

from reconciler import daemon
from reconciler.daemon.metrics import Metrics


def _daemon(tmp_path: Path, runner: ScriptedRunner, clock: ManualClock) -> daemon.Daemon:
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    return daemon.Daemon(
        settings(tmp_path / "fleet", backoff=(1.0, 2.0, 5.0)),
        runner=runner,
        clock=clock,
        metrics=Metrics(),
    )


def _count(the_daemon: daemon.Daemon, result: str) -> float:
    value = the_daemon.metrics.registry.get_sample_value(
        "reconciler_reconcile_total", {"result": result}
    )
    return value or 0.0


async def test_a_first_pass_runs_at_start(tmp_path: Path) -> None:
    """Starting the daemon runs one pass at once, with the fleet from the manifests."""
    runner = ScriptedRunner()
    the_daemon = _daemon(tmp_path, runner, ManualClock())
    async with running(the_daemon):
        await until(lambda: _count(the_daemon, "success") == 1)
    assert runner.calls == 1
    assert sorted(runner.fleets[0].agents) == ["demo/a"]
    assert the_daemon.ready()


async def test_wakeups_during_a_pass_coalesce_into_one_more_pass(tmp_path: Path) -> None:
    """Five wake-ups while a pass runs give exactly one further pass, never two at once."""
    runner = ScriptedRunner(gate=asyncio.Event())
    the_daemon = _daemon(tmp_path, runner, ManualClock())
    async with running(the_daemon):
        await until(lambda: runner.calls == 1)
        for _ in range(5):
            the_daemon.wake()
        assert runner.gate is not None
        runner.gate.set()
        await until(lambda: _count(the_daemon, "success") == 2)
        await asyncio.sleep(0.05)
    assert runner.calls == 2


async def test_a_failing_pass_retries_along_the_backoff_and_resets_on_success(
    tmp_path: Path,
) -> None:
    """Failures wait 1, 2, 5, 5 s before each retry; a success starts the sequence over."""
    runner = ScriptedRunner(failures=4)
    clock = ManualClock()
    the_daemon = _daemon(tmp_path, runner, clock)
    async with running(the_daemon):
        waits = []
        for calls in range(1, 5):

            def waiting(calls: int = calls) -> bool:
                return runner.calls == calls and bool(clock.deadlines())

            await until(waiting)
            waits.append(clock.deadlines()[0])
            await clock.advance(waits[-1])
        await until(lambda: _count(the_daemon, "success") == 1)
        assert waits == [1.0, 2.0, 5.0, 5.0]
        assert clock.deadlines() == []
        runner.failures = 1
        the_daemon.wake()
        await until(lambda: runner.calls == 6 and bool(clock.deadlines()))
        assert clock.deadlines() == [1.0]
    assert _count(the_daemon, "error") == 5


async def test_a_wakeup_during_a_backoff_starts_the_retry_at_once(tmp_path: Path) -> None:
    """A trigger (a manifest edit, a resync) while a failed pass waits out its delay cuts the
    delay short: the retry runs without the clock moving, and the next failure backs off on."""
    runner = ScriptedRunner(failures=2)
    clock = ManualClock()
    the_daemon = _daemon(tmp_path, runner, clock)
    async with running(the_daemon):
        await until(lambda: runner.calls == 1 and clock.deadlines() == [1.0])
        the_daemon.wake()
        await until(lambda: runner.calls == 2 and clock.deadlines() == [2.0])
        for _ in range(3):
            the_daemon.wake()
        await until(lambda: _count(the_daemon, "success") == 1)
        await until(lambda: the_daemon.idle)
    assert runner.calls == 3


async def test_stop_lets_the_pass_in_flight_finish_and_starts_no_other(tmp_path: Path) -> None:
    """Stop during a pass: the pass sees ``stopping`` and ends; no pass follows; run returns."""
    runner = ScriptedRunner(gate=asyncio.Event())
    the_daemon = _daemon(tmp_path, runner, ManualClock())
    async with running(the_daemon) as stop:
        await until(lambda: runner.calls == 1)
        the_daemon.wake()
        stop.set()
        assert runner.gate is not None
        runner.gate.set()
    assert runner.stopping_seen == [True]
    assert runner.calls == 1
    assert _count(the_daemon, "success") == 1


async def test_readiness_lapses_three_intervals_after_the_last_success(tmp_path: Path) -> None:
    """Ready after a successful pass; not ready once three intervals pass without another."""
    runner = ScriptedRunner()
    clock = ManualClock()
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    the_daemon = daemon.Daemon(
        settings(tmp_path / "fleet", interval=10.0),
        runner=runner,
        clock=clock,
    )
    assert not the_daemon.ready()
    async with running(the_daemon):
        await until(the_daemon.ready)
        await clock.advance(30.0)
        assert the_daemon.ready()
        await clock.advance(0.5)
        assert not the_daemon.ready()


async def test_every_pass_logs_its_start_and_its_result(tmp_path: Path) -> None:
    """``pass_started`` and ``pass_finished`` frame each pass; a failure says why."""
    runner = ScriptedRunner(failures=1)
    clock = ManualClock()
    the_daemon = _daemon(tmp_path, runner, clock)
    with capture_logs() as logs:
        async with running(the_daemon):
            await until(lambda: bool(clock.deadlines()))
            await clock.advance(1.0)
            await until(lambda: _count(the_daemon, "success") == 1)
    events = [e["event"] for e in logs if e["event"].startswith(("pass_", "retry_"))]
    assert events == [
        "pass_started",
        "pass_failed",
        "pass_finished",
        "retry_scheduled",
        "pass_started",
        "pass_finished",
    ]
    failed = next(e for e in logs if e["event"] == "pass_failed")
    assert "503" in failed["error"]
    finished = [e["result"] for e in logs if e["event"] == "pass_finished"]
    assert finished == ["error", "success"]
