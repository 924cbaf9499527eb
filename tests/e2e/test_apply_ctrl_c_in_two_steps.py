"""Ctrl-C during a real ``reconciler apply`` (a subprocess sent SIGINT) against a real emulator.

First press: the changes in flight finish and are recorded, the rest are named, exit 130, and
the state holds exactly the live agents. Second press: stop at once, exit 130; every live agent
is named by a record or a pending intent, and the next apply converges without a duplicate.
Every wait is on a condition (a line printed, a join received), under a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from apply_e2e_harness import RECONCILER, cli, harness

from reconciler.emulator import EmulatorConfig, running_server

DEADLINE_SECONDS = 60.0
AGENTS = 8


class Running:
    """``reconciler apply`` in the background, its output lines collected as they come."""

    def __init__(self, *args: str, url: str, cwd: Path) -> None:
        env = {**os.environ, **harness.ENV, "AGORA_API_URL": url}
        self.process = subprocess.Popen(
            [str(RECONCILER), *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(stream, kept), daemon=True)
            for stream, kept in (
                (self.process.stdout, self.stdout),
                (self.process.stderr, self.stderr),
            )
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str] | None, kept: list[str]) -> None:
        assert stream is not None
        for line in stream:
            kept.append(line)
            self.lines.put(line)

    def wait_for(self, wanted: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not wanted():
            assert self.process.poll() is None, "".join(self.stdout + self.stderr)
            remaining = deadline - time.monotonic()
            assert remaining > 0, "timed out:\n" + "".join(self.stdout + self.stderr)
            with contextlib.suppress(queue.Empty):
                self.lines.get(timeout=min(remaining, 0.5))

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def finish(self) -> int:
        """The exit code, once the process has ended and all its output is read."""
        code = self.process.wait(timeout=DEADLINE_SECONDS)
        for reader in self._readers:
            reader.join(timeout=DEADLINE_SECONDS)
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            stream.close()
        return code


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    agents = {f"a{i}": harness.agent(f"room-{i}") for i in range(AGENTS)}
    harness.write_fleet(tmp_path / "fleet", agents)
    return tmp_path


def _started(run: Running) -> int:
    return sum(1 for line in run.stdout if line.rstrip().endswith(": started"))


def test_the_first_ctrl_c_finishes_what_is_in_flight(fleet: Path) -> None:
    """Slow joins, two at a time: Ctrl-C once they run; both finish, six are never started."""
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        world = harness.World(fleet, base_url=url)
        asyncio.run(world.fault(endpoint="join", latency_ms=1500))
        run = Running(
            "apply", "fleet", "--auto-approve", "--concurrency", "2", "--state", "state.db",
            url=url, cwd=fleet,
        )  # fmt: skip
        run.wait_for(lambda: _started(run) == 2)
        run.interrupt()
        assert run.finish() == 130, "".join(run.stdout + run.stderr)
        out, err = "".join(run.stdout), "".join(run.stderr)
        assert "Interrupt received: finishing the changes in flight" in err
        assert "Interrupted: 6 changes were not started" in err
        assert "Run `reconciler apply` again" in err
        assert "Apply incomplete: 2 created; 0 failed, 6 skipped." in out
        assert "Traceback" not in err
        snapshot = world.snapshot()
        live = asyncio.run(world.live())
        assert snapshot.intents == ()
        assert {a["agent_id"] for a in live} == {r.agent_id for r in snapshot.records.values()}
        assert len(live) == 2


def test_the_second_ctrl_c_stops_at_once_and_loses_no_agent(fleet: Path) -> None:
    """Agents that stay STARTING and ``--wait``: two changes wait for RUNNING when Ctrl-C comes
    twice. Exit 130 at once; the state names every live agent; the next apply converges."""
    config = EmulatorConfig(stopping_seconds=0, join_status="STARTING", starting_seconds=3600)
    with running_server(config) as url:
        world = harness.World(fleet, base_url=url)
        run = Running(
            "apply", "fleet", "--auto-approve", "--wait", "--concurrency", "2",
            "--state", "state.db", url=url, cwd=fleet,
        )  # fmt: skip
        run.wait_for(lambda: len(asyncio.run(world.control("GET", "/joins"))["joins"]) == 2)
        run.interrupt()
        run.wait_for(lambda: any("Interrupt received" in line for line in run.stderr))
        run.interrupt()
        assert run.finish() == 130, "".join(run.stdout + run.stderr)
        err = "".join(run.stderr)
        assert "Stopping at once" in err
        assert "Aborted." in err
        assert "2 changes were in flight" in err
        assert "6 changes were not started" in err
        assert "Traceback" not in err
        snapshot = world.snapshot()
        named = {r.remote_name for r in snapshot.records.values()}
        named |= {i.remote_name for i in snapshot.intents}
        live = asyncio.run(world.live())
        assert len(live) == 2
        assert {a["name"] for a in live} <= named, "a live agent the state does not know"
        asyncio.run(world.control("POST", "/config", {"join_status": "RUNNING"}))
        again = cli("apply", "fleet", "--auto-approve", "--state", "state.db", url=url, cwd=fleet)
        assert again.returncode == 0, again.stdout + again.stderr
        asyncio.run(world.assert_converged())
        assert len(asyncio.run(world.live())) == AGENTS
