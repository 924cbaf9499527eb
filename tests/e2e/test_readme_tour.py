"""The README's five-minute tour runs as written against the emulator, so the README cannot rot."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TOUR = re.compile(r"<!-- tour:start -->\n```sh\n(?P<body>.*?)```\n<!-- tour:end -->", re.DOTALL)
PORTS = ("8080", "9090")
READY_SECONDS = 30.0


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def _tour_lines() -> list[str]:
    match = TOUR.search((ROOT / "README.md").read_text())
    assert match, "README.md lost its tour block (<!-- tour:start --> … <!-- tour:end -->)"
    return [line for line in match["body"].splitlines() if line.strip()]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh directory holding the sample fleet, so the tour's state file starts empty."""
    shutil.copytree(ROOT / "fleet", tmp_path / "fleet")
    return tmp_path


def _stop_group(group: int) -> None:
    """SIGTERM every process the tour left running (its ``&`` lines), as a user's ``kill``
    would, and wait until they are gone."""
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(group, signal.SIGKILL)


def test_the_readme_tour_runs_as_written(workdir: Path) -> None:
    """The block, pasted into bash (``set -euo pipefail``), succeeds line by line against a real
    emulator and a real daemon, both still running at its end, their logs in files."""
    ports = {port: _free_port() for port in PORTS}
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("NO_COLOR", None)
    script = "\n".join(_tour_lines())
    for written, actual in ports.items():
        script = script.replace(written, actual)
    # Both servers must still be running when the tour ends.
    script += "\nkill -0 %1 %2\n"
    tour = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = tour.communicate(timeout=240)
    finally:
        _stop_group(tour.pid)
    assert tour.returncode == 0, f"the tour failed:\n{out.decode()}\n{err.decode()}"
    assert "Apply complete: 5 created." in out.decode()
    assert '"event"' in (workdir / "daemon.log").read_text(), "the daemon logs to daemon.log"
    assert (workdir / "emulator.log").exists()
    assert '"event"' not in out.decode(), "no daemon log line reached the terminal"
