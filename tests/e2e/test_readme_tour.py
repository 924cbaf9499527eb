"""The README's five-minute tour runs as written against the emulator, so the README cannot rot."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
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


def _wait_until(check: Callable[[], bool], *, what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"tour: {what} did not come up within {READY_SECONDS:.0f} s")


def _port_open(port: str) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", int(port))) == 0


def _answers_200(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh directory holding the sample fleet, so the tour's state file starts empty."""
    shutil.copytree(ROOT / "fleet", tmp_path / "fleet")
    return tmp_path


@pytest.fixture
def background() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the tour starts with ``&``; stopped with SIGTERM at the end, as a user would."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in reversed(started):
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_readme_tour_runs_as_written(
    workdir: Path, background: list[subprocess.Popen[bytes]]
) -> None:
    """Every tour command succeeds, in order, against a real emulator and a real daemon."""
    ports = {port: _free_port() for port in PORTS}
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("NO_COLOR", None)
    for line in _tour_lines():
        for written, actual in ports.items():
            line = line.replace(written, actual)
        words = shlex.split(line, comments=True)
        if words[0] == "export":
            env.update(word.split("=", 1) for word in words[1:])
        elif words[0] == "curl":
            url = words[-1]
            _wait_until(lambda url=url: _answers_200(url), what=url)
        elif words[-1] == "&":
            process = subprocess.Popen(
                words[:-1],
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            background.append(process)
            port = next(p for p in ports.values() if p in line)
            _wait_until(lambda port=port: _port_open(port), what=words[1])
        else:
            done = subprocess.run(words, cwd=workdir, env=env, capture_output=True, timeout=120)
            assert done.returncode == 0, (
                f"tour command failed: {line}\n{done.stdout.decode()}\n{done.stderr.decode()}"
            )
    for process in background:
        assert process.poll() is None, f"{process.args} exited during the tour"
