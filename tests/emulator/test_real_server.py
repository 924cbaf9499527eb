"""The emulator as a real server: the CLI on port 0 in a subprocess, and ``running_server``."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time

import httpx
import pytest

from reconciler.agora import wire
from reconciler.agora.wire import Endpoint
from reconciler.emulator import DEMO_APP_ID, DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET, running_server

BANNER = "emulator listening on "
STARTUP_SECONDS = 30


def _path(endpoint, agent_id=None):
    return wire.API_ROOT + wire.endpoint_path(endpoint, app_id=DEMO_APP_ID, agent_id=agent_id)


def _client(base_url):
    return httpx.Client(
        base_url=base_url, auth=(DEMO_CUSTOMER_ID, DEMO_CUSTOMER_SECRET), timeout=10
    )


def _read_url(lines):
    """The URL from the banner line, waiting no longer than the start-up deadline."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line.startswith(BANNER):
            return line.removeprefix(BANNER).strip()
    raise AssertionError("the emulator never printed its URL")


@pytest.fixture
def cli_server():
    """``python -m reconciler emulator --port 0`` running, as its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    # A reader thread, so that a process that never prints cannot hang the test on readline.
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout])
    reader.start()
    try:
        yield _read_url(lines)
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()


def test_cli_server_runs_a_join_query_leave_round(cli_server):
    """Over real HTTP: join, query, leave, then a dropped connection is a transport error."""
    agent = {"channel": "lobby", "token": "t", "agent_rtc_uid": "1001", "remote_rtc_uids": ["2"]}
    with _client(cli_server) as http:
        joined = http.post(_path(Endpoint.JOIN), json={"name": "a", "properties": agent})
        assert joined.status_code == 200, joined.text
        agent_id = joined.json()["agent_id"]
        assert http.get(_path(Endpoint.QUERY, agent_id)).json()["status"] == "RUNNING"
        assert http.post(_path(Endpoint.LEAVE, agent_id)).json() == {}
        assert http.get(_path(Endpoint.QUERY, agent_id)).json()["status"] == "STOPPING"
        http.post("/_emulator/faults", json={"drop_connection": True, "count": 1})
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(_path(Endpoint.LIST))
        assert http.get(_path(Endpoint.LIST)).status_code == 200


def test_running_server_serves_and_drops_over_a_real_socket():
    """running_server yields a working URL; an injected drop closes the socket mid-answer."""
    with running_server() as url, _client(url) as http:
        assert url.startswith("http://127.0.0.1:")
        assert http.get(_path(Endpoint.LIST)).json()["meta"]["total"] == 0
        http.post("/_emulator/faults", json={"endpoint": "list", "drop_connection": True})
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(_path(Endpoint.LIST))
        counters = http.get("/_emulator/counters").json()
        assert counters == {"list": {"200": 1, "dropped": 1}}
