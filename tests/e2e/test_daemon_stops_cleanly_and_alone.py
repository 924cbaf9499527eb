"""SIGTERM during an apply finishes the joins in flight and exits 0 with a consistent state; a
second daemon on the same state exits at once, naming the holder."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_e2e_harness import cli, harness
from daemon_e2e_harness import Daemon, Emulator, wait_until

from reconciler.emulator import EmulatorConfig, running_server
from reconciler.state import open_state

JOIN_LATENCY_MS = 2000


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        yield Emulator(url)


def test_sigterm_mid_apply_finishes_what_is_in_flight_and_exits_0(
    tmp_path: Path, emulator: Emulator
) -> None:
    """Four joins in flight finish and are recorded, two never start; no intent is left over."""
    # A one-shot marker fault tells when the first join reached the emulator; the other fault
    # keeps every join in flight for a while.
    emulator.control("POST", "/faults", {"endpoint": "join", "latency_ms": 1, "count": 1})
    emulator.control("POST", "/faults", {"endpoint": "join", "latency_ms": JOIN_LATENCY_MS})
    agents = {f"a{i}": harness.agent(f"ch-{i}") for i in range(6)}
    harness.write_fleet(tmp_path / "fleet", agents)
    daemon = Daemon(tmp_path, api_url=emulator.url, interval="1h")
    try:
        wait_until(
            lambda: len(emulator.control("GET", "/faults")["faults"]) == 1,
            what="the first join",
            daemon=daemon,
        )
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.close()
    outcomes = sorted(e["outcome"] for e in daemon.named("apply_outcome"))
    assert outcomes == ["done"] * 4 + ["skipped"] * 2
    live = {a["agent_id"] for a in emulator.live()}
    with open_state(tmp_path / "state.db") as store:
        snapshot = store.snapshot()
    assert snapshot.intents == ()
    assert {r.agent_id for r in snapshot.records.values()} == live
    assert len(live) == 4
    planned = cli(
        "plan", "fleet", "-o", "json", "--state", "state.db", url=emulator.url, cwd=tmp_path
    )
    assert planned.returncode == 0, planned.stderr
    actions = sorted(change["action"] for change in json.loads(planned.stdout)["changes"])
    assert actions == ["create", "create"]


def test_a_second_daemon_on_the_same_state_exits_naming_the_holder(
    tmp_path: Path, emulator: Emulator
) -> None:
    """The second one exits 1 before any pass, saying which pid and host hold the lock."""
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    first = Daemon(tmp_path, api_url=emulator.url)
    try:
        first.wait_for("pass_finished")
        second = Daemon(tmp_path, api_url=emulator.url)
        try:
            code = second.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            second.close()
            raise
        second.close()
        assert code == 1
        assert f"state is locked by pid {first.process.pid} on host" in second.log()
        assert not second.named("pass_started")
        assert first.process.poll() is None
    finally:
        first.close()
