"""``reconciler run`` against a real emulator server: edits converge, failed agents heal, broken
edits delete nothing, and the HTTP endpoints say so."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_e2e_harness import harness
from daemon_e2e_harness import Daemon, Emulator, wait_until

from reconciler.emulator import EmulatorConfig, running_server


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        yield Emulator(url)


@pytest.fixture
def daemon(tmp_path: Path, emulator: Emulator) -> Iterator[Daemon]:
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    running = Daemon(tmp_path, api_url=emulator.url)
    try:
        running.wait_for("pass_finished")
        yield running
    finally:
        running.close()


def test_an_edit_converges_and_sigterm_leaves_agents_running(
    tmp_path: Path, emulator: Emulator, daemon: Daemon
) -> None:
    """A saved manifest change is applied without any command; SIGTERM exits 0, agents stay."""
    wait_until(lambda: emulator.channels() == ["ch-a"], what="agent a", daemon=daemon)
    fleet = {"a": harness.agent("ch-a"), "b": harness.agent("ch-b")}
    harness.write_fleet(tmp_path / "fleet", fleet)
    wait_until(lambda: emulator.channels() == ["ch-a", "ch-b"], what="agent b", daemon=daemon)
    assert daemon.stop(signal.SIGTERM) == 0
    assert daemon.named("stop_requested")[0]["signal"] == "SIGTERM"
    assert daemon.named("daemon_stopped")
    assert emulator.channels() == ["ch-a", "ch-b"]
    assert "Traceback" not in daemon.log()


def test_a_failed_agent_is_healed_by_the_periodic_pass(emulator: Emulator, daemon: Daemon) -> None:
    """An agent failed behind the daemon's back is re-created by the next resync, unasked."""
    wait_until(lambda: len(emulator.live()) == 1, what="agent a", daemon=daemon)
    (first,) = emulator.live()
    emulator.control("POST", f"/agents/{first['agent_id']}/fail", {"message": "crashed"})

    def healed() -> bool:
        return [a["agent_id"] != first["agent_id"] for a in emulator.live()] == [True]

    wait_until(healed, what="a new agent for a", daemon=daemon)

    def recreated() -> list[dict[str, object]]:
        return [e for e in daemon.named("apply_outcome") if e["action"] == "recreate"]

    # The emulator may show the new agent before the daemon's log line about it is read.
    wait_until(lambda: bool(recreated()), what="the recreate's outcome", daemon=daemon)
    outcome = recreated()[0]
    assert outcome["outcome"] == "done"
    assert "agent FAILED (crashed)" in daemon.log()


def test_a_broken_edit_deletes_nothing_and_the_fix_resumes(
    tmp_path: Path, emulator: Emulator, daemon: Daemon
) -> None:
    """Invalid manifests are logged with diagnostics; the agent stays; a fix is applied."""
    wait_until(lambda: emulator.channels() == ["ch-a"], what="agent a", daemon=daemon)
    manifest = tmp_path / "fleet" / "fleet.yaml"
    manifest.write_text(manifest.read_text().replace("kind: Agent", "kind: Agnet"))
    invalid = daemon.wait_for("manifests_invalid")
    assert invalid["using"] == "last good fleet"
    assert any("Agnet" in d for d in invalid["diagnostics"])
    passes = len(daemon.named("pass_finished"))
    daemon.wait_for("pass_finished", count=passes + 2)
    assert emulator.channels() == ["ch-a"]
    fixed = {"a": harness.agent("ch-a"), "b": harness.agent("ch-b")}
    harness.write_fleet(tmp_path / "fleet", fixed)
    wait_until(lambda: emulator.channels() == ["ch-a", "ch-b"], what="agent b", daemon=daemon)


def test_health_readiness_and_metrics_answer_over_http(emulator: Emulator, daemon: Daemon) -> None:
    """``/healthz`` 200, ``/readyz`` 200 after a good pass, ``/metrics`` counts passes and calls."""
    wait_until(lambda: len(emulator.live()) == 1, what="agent a", daemon=daemon)
    assert httpx.get(f"{daemon.url}/healthz").status_code == 200
    # The agent is live as soon as its join answers; the pass (and readiness) ends a moment later.
    wait_until(
        lambda: httpx.get(f"{daemon.url}/readyz").json() == {"ready": True},
        what="readiness after the first pass",
        daemon=daemon,
    )
    text = httpx.get(f"{daemon.url}/metrics").text
    assert 'reconciler_reconcile_total{result="success"}' in text
    assert 'reconciler_api_requests_total{code="200",endpoint="join"} 1.0' in text
    assert 'reconciler_actions_total{action="create",outcome="done"} 1.0' in text
    assert "reconciler_agents_desired 1.0" in text
    assert 'reconciler_agents{status="RUNNING"}' in text
    assert "reconciler_last_success_timestamp_seconds" in text


def test_sighup_wakes_a_pass(daemon: Daemon) -> None:
    """SIGHUP is taken as a wake-up, not as the end of the process."""
    daemon.send(signal.SIGHUP)
    wait_until(
        lambda: any(e.get("source") == "SIGHUP" for e in daemon.named("wakeup")),
        what="the SIGHUP wake-up",
        daemon=daemon,
    )
    assert daemon.process.poll() is None
    assert daemon.stop() == 0
