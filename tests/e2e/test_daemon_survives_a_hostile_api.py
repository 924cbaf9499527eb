"""The daemon against a slow-loris API: SIGTERM ends a stuck pass after the grace period and
exits 0; a pass past the call deadline fails, and ``/readyz`` recovers once the API is honest."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from apply_e2e_harness import harness
from daemon_e2e_harness import Daemon, wait_until
from hostile_server import Mode, hostile_server


def _ready(daemon: Daemon) -> bool:
    return httpx.get(f"{daemon.url}/readyz", timeout=5).status_code == 200


def test_sigterm_cancels_a_call_stuck_on_a_slow_body_after_the_grace(tmp_path: Path) -> None:
    """The call could run for an hour; the grace is 1 s, so the stop comes from the grace."""
    harness.write_fleet(tmp_path / "fleet", {"a": harness.agent("ch-a")})
    with hostile_server(Mode.SLOW_BODY) as server:
        daemon = Daemon(
            tmp_path,
            api_url=server.url,
            interval="1h",
            args=("--stop-grace", "1s"),
            extra_env={"RECONCILER_API_DEADLINE": "1h"},
        )
        try:
            wait_until(lambda: server.calls["list"] >= 1, what="the first list", daemon=daemon)
            assert daemon.stop(signal.SIGTERM) == 0
        finally:
            daemon.close()
    assert daemon.named("pass_cancelled")[0]["reason"] == "stop grace"
    assert daemon.named("daemon_stopped")
    assert "Traceback" not in daemon.log()


def test_readyz_recovers_on_the_first_good_pass_after_a_slow_loris(tmp_path: Path) -> None:
    """Passes fail at the 1 s call deadline while the API trickles; once it answers, ready."""
    harness.write_fleet(tmp_path / "fleet", {})
    with hostile_server(Mode.SLOW_HEADERS) as server:
        daemon = Daemon(tmp_path, api_url=server.url, extra_env={"RECONCILER_API_DEADLINE": "1s"})
        try:
            failed = daemon.wait_for("pass_failed")
            assert "no complete answer within the 1 s deadline" in failed["error"]
            assert not _ready(daemon)
            server.mode = Mode.HONEST
            wait_until(lambda: _ready(daemon), what="/readyz to turn 200", daemon=daemon)
            assert daemon.stop(signal.SIGTERM) == 0
        finally:
            daemon.close()
