"""A broken manifest edit: logged with its diagnostics, the last good fleet stays in force."""

from __future__ import annotations

from pathlib import Path

from apply_harness import agent, write_fleet
from daemon_harness import ManualClock, ScriptedRunner, running, settings, until
from structlog.testing import capture_logs

from reconciler import daemon


def _gauge(the_daemon: daemon.Daemon, name: str) -> float | None:
    return the_daemon.metrics.registry.get_sample_value(name)


def _break(fleet: Path) -> None:
    manifest = fleet / "fleet.yaml"
    manifest.write_text(manifest.read_text().replace("restartPolicy", "restartPolicyy"))


async def test_a_broken_edit_keeps_passing_with_the_last_good_fleet(tmp_path: Path) -> None:
    """After an invalid edit, passes get the fleet of the last valid load; a fix takes over."""
    fleet = tmp_path / "fleet"
    write_fleet(fleet, {"a": agent("ch-a", restartPolicy="Always")})
    runner = ScriptedRunner()
    the_daemon = daemon.Daemon(settings(fleet), runner=runner, clock=ManualClock())
    with capture_logs() as logs:
        async with running(the_daemon):
            await until(lambda: runner.calls == 1)
            good = runner.fleets[0]
            _break(fleet)
            the_daemon.wake()
            await until(lambda: runner.calls >= 2)
            await until(lambda: _gauge(the_daemon, "reconciler_manifests_valid") == 0)
            assert all(seen is good for seen in runner.fleets)
            write_fleet(fleet, {"a": agent("ch-a"), "b": agent("ch-b")})
            the_daemon.wake()
            await until(lambda: sorted(runner.fleets[-1].agents) == ["demo/a", "demo/b"])
    invalid = [e for e in logs if e["event"] == "manifests_invalid"]
    assert len(invalid) == 1, "one broken content is reported once, not on every pass"
    assert invalid[0]["using"] == "last good fleet"
    assert any("restartPolicyy" in d for d in invalid[0]["diagnostics"])
    assert _gauge(the_daemon, "reconciler_manifests_valid") == 1


async def test_invalid_manifests_at_start_run_nothing_until_fixed(tmp_path: Path) -> None:
    """With no valid load yet, a pass runs nothing, is not retried on a timer, and is not ready."""
    fleet = tmp_path / "fleet"
    write_fleet(fleet, {"a": agent("ch-a", restartPolicy="Always")})
    _break(fleet)
    runner = ScriptedRunner()
    clock = ManualClock()
    the_daemon = daemon.Daemon(settings(fleet), runner=runner, clock=clock)
    async with running(the_daemon):
        invalid = {"result": "invalid"}
        await until(
            lambda: (
                the_daemon.metrics.registry.get_sample_value("reconciler_reconcile_total", invalid)
                == 1
            )
        )
        assert runner.calls == 0
        assert clock.deadlines() == []
        assert not the_daemon.ready()
        write_fleet(fleet, {"a": agent("ch-a")})
        the_daemon.wake()
        await until(lambda: runner.calls == 1)
        await until(the_daemon.ready)
