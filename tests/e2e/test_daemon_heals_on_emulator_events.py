"""``reconciler emulator --webhook-url --webhook-secret`` and ``reconciler run`` close the loop:
an agent failed in the emulator is healed by its signed 102 long before the ten-minute resync,
and the errors it reports (signed 110s) show in ``reconciler status --daemon``."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_e2e_harness import RECONCILER, cli, harness
from daemon_e2e_harness import BOUND_SECONDS, Daemon, Emulator, wait_until

SECRET = "e2e-notification-secret"
BANNER = "emulator listening on "


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def emulator(port: int) -> Iterator[Emulator]:
    """The emulator CLI, sending its events to the daemon that will listen on ``port``."""
    hook = f"http://127.0.0.1:{port}/webhooks/agora/demo"
    process = subprocess.Popen(
        [str(RECONCILER), "emulator", "--port", "0", "--webhook-url", hook],
        env={**os.environ, "EMULATOR_WEBHOOK_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True)
    reader.start()
    try:
        while not (line := lines.get(timeout=BOUND_SECONDS)).startswith(BANNER):
            continue
        yield Emulator(line.removeprefix(BANNER).strip())
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        stdout.close()


def test_a_failed_agent_is_healed_by_its_event(
    tmp_path: Path, emulator: Emulator, port: int
) -> None:
    harness.write_fleet(
        tmp_path / "fleet",
        {"a": harness.agent("ch-a")},
        notification_secret="${env:AGORA_NCS_SECRET}",
    )
    daemon = Daemon(
        tmp_path,
        api_url=emulator.url,
        interval="10m",
        listen=f"127.0.0.1:{port}",
        extra_env={"AGORA_NCS_SECRET": SECRET},
    )
    try:
        daemon.wait_for("pass_finished")
        wait_until(lambda: len(emulator.live()) == 1, what="agent a", daemon=daemon)
        (first,) = emulator.live()
        emulator.control("POST", f"/agents/{first['agent_id']}/fail", {"message": "crashed"})

        def healed() -> bool:
            return [a["agent_id"] != first["agent_id"] for a in emulator.live()] == [True]

        wait_until(healed, what="a new agent for a", daemon=daemon)
        woken = daemon.wait_for("agora_event_wakes")
        assert woken["agent_id"] == first["agent_id"]
        _last_error_shows_in_status(tmp_path, emulator, daemon, port=port)
        assert daemon.stop() == 0
        assert "Traceback" not in daemon.log()
        assert SECRET not in daemon.log()
    finally:
        daemon.close()


def _last_error_shows_in_status(
    tmp_path: Path, emulator: Emulator, daemon: Daemon, *, port: int
) -> None:
    """The fail's 110 (module agent), then a later one for the new agent: status shows the
    later, and its JSON has it too; without ``--daemon`` there is no error to show."""
    (second,) = emulator.live()
    error = {"module": "llm", "turn_id": 3, "code": 1401, "message": "LLM key rejected — 401"}
    body = {"event_type": 110, "payload": {"turn_id": 3, "errors": [error]}}
    emulator.control("POST", f"/agents/{second['agent_id']}/events", body)
    daemon.wait_for("agent_error_reported", count=2)
    where = ("--state", "state.db", "--daemon", f"http://127.0.0.1:{port}")
    shown = cli("status", "fleet", *where, url=emulator.url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    line = f'  demo/a: llm 1401 "LLM key rejected — 401" (agent {second["agent_id"]}, '
    assert "Last errors (Agora's event 110):\n" + line in shown.stdout
    as_json = cli("status", "fleet", *where, "-o", "json", url=emulator.url, cwd=tmp_path)
    (row,) = json.loads(as_json.stdout)["agents"]
    assert row["last_error"]["agent_id"] == second["agent_id"]
    assert (row["last_error"]["module"], row["last_error"]["code"]) == ("llm", "1401")
    plain = cli("status", "fleet", "--state", "state.db", url=emulator.url, cwd=tmp_path)
    assert "Last errors" not in plain.stdout
