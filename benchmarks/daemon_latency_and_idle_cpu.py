"""Benchmark: how soon ``reconciler run`` acts on a manifest edit, and what it costs while idle.

With N agents already in sync (made by ``reconciler apply``), the daemon runs as its own process
against the emulator (also its own process, its quota raised to fit). First it is left alone for
``--seconds`` and its CPU time (user + system, its git children included) and wake-ups (context
switches of all its threads) are read from /proc: the cost of staying converged, resync passes
included; and again in a window just after a resync pass that holds no pass (up to half the
interval): the cost of waiting with nothing to do. Then ``--edits`` times a manifest gains
one agent, and the benchmark times, from the write, the daemon's ``pass_started`` event, the
first API call the emulator answers, and the join of the new agent. Figures are printed, never
asserted.

    python benchmarks/daemon_latency_and_idle_cpu.py [--agents 1000] [--seconds 60] [--edits 5]
                                                     [--interval 30s]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from apply_creates import ENV, write_fleet
from harness import emulator_process, summary

from reconciler.clock import parse_duration

POLL_SECONDS = 0.002
CPU_AT_END = "bench_cpu_s"
BOUND_SECONDS = 120.0


class DaemonProcess:
    """``reconciler run`` in its own process; its JSON log events, read as they come."""

    def __init__(self, root: Path, *, url: str, interval: str) -> None:
        command = [
            *(sys.executable, "-m", "reconciler", "run", "fleet", "--state", "state.db"),
            *("--api-url", url, "--listen", "127.0.0.1:0", "--interval", interval),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=root,
            env={**os.environ, **ENV},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "pass_finished":
                # The process's CPU as each pass is seen to end: one pass's cost is the difference.
                event[CPU_AT_END] = self.cpu_seconds()
            self.events.append(event)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e.get("event") == event]

    def cpu_seconds(self) -> float:
        """User and system time of the process and of its reaped children, from /proc."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(fields[index]) for index in (11, 12, 13, 14))
        return ticks / os.sysconf("SC_CLK_TCK")

    def wakeups(self) -> int:
        """Context switches of all the process's threads so far: each one is a wake-up."""
        total = 0
        for status in Path(f"/proc/{self.process.pid}/task").glob("*/status"):
            for line in status.read_text().splitlines():
                if "ctxt_switches:" in line:
                    total += int(line.split()[-1])
        return total

    def stop(self) -> int:
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return code


@contextmanager
def running_daemon(root: Path, *, url: str, interval: str) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(root, url=url, interval=interval)
    try:
        yield daemon
    finally:
        code = daemon.stop()
        if code != 0:
            print(f"warning: the daemon exited {code} on SIGTERM")


def wait_until(condition: Callable[[], bool], *, what: str) -> float:
    """Poll until ``condition`` holds; the wall time it held first."""
    deadline = time.monotonic() + BOUND_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(POLL_SECONDS)
    return time.time()


def counters(http: httpx.Client) -> dict[str, dict[str, int]]:
    answer: dict[str, dict[str, int]] = http.get("/_emulator/counters").json()
    return answer


def calls(http: httpx.Client, endpoint: str | None = None) -> int:
    found = counters(http)
    chosen = found.values() if endpoint is None else [found.get(endpoint, {})]
    return sum(sum(by_status.values()) for by_status in chosen)


def converge(root: Path, *, url: str) -> None:
    """Bring the fleet up with ``reconciler apply``, fast, before the daemon takes over."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "reconciler", "apply", "fleet", "--auto-approve"),
            *("--state", "state.db", "--api-url", url, "--log-level", "warning"),
            *("--concurrency", "50", "--rate-limit", "500"),
        ],
        cwd=root,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"apply failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


@dataclass(frozen=True)
class Idle:
    """What an idle window cost: CPU seconds, wake-ups, the passes that ran and their durations."""

    seconds: float
    cpu: float
    wakeups: int
    durations: list[float]


def idle_cpu(daemon: DaemonProcess, *, seconds: float) -> Idle:
    """What ``seconds`` of wall time cost the daemon, resync passes included."""
    before_passes = len(daemon.named("pass_finished"))
    before, woken = daemon.cpu_seconds(), daemon.wakeups()
    time.sleep(seconds)
    spent, wakeups = daemon.cpu_seconds() - before, daemon.wakeups() - woken
    finished = daemon.named("pass_finished")[before_passes:]
    return Idle(seconds, spent, wakeups, [float(e["duration_s"]) for e in finished])


def between_passes(daemon: DaemonProcess, *, seconds: float) -> Idle | None:
    """What the daemon costs with nothing to do: a window that starts just after a pass and
    holds none (None if a pass ran in it after all)."""
    passes = len(daemon.named("pass_finished"))
    wait_until(lambda: len(daemon.named("pass_finished")) > passes, what="a resync pass")
    time.sleep(1.0)
    started = len(daemon.named("pass_started"))
    idle = idle_cpu(daemon, seconds=seconds)
    return idle if len(daemon.named("pass_started")) == started else None


def edit_latency(
    root: Path, daemon: DaemonProcess, http: httpx.Client, *, agents: int
) -> dict[str, float]:
    """Add one agent; seconds from the write to the pass, the first call and the new join."""
    starts = len(daemon.named("pass_started"))
    before_calls, before_joins = calls(http), calls(http, "join")
    written = time.time()
    write_fleet_over(root / "fleet", agents)
    first_call = wait_until(lambda: calls(http) > before_calls, what="the first API call")
    joined = wait_until(lambda: calls(http, "join") > before_joins, what="the join")
    wait_until(lambda: len(daemon.named("pass_started")) > starts, what="pass_started")
    started = datetime.fromisoformat(daemon.named("pass_started")[starts]["timestamp"])
    return {
        "pass_started": started.timestamp() - written,
        "first API call": first_call - written,
        "join": joined - written,
    }


def write_fleet_over(directory: Path, agents: int) -> None:
    """Replace the fleet in place, as an editor saving the file would."""
    with tempfile.TemporaryDirectory(dir=directory.parent) as scratch:
        write_fleet(Path(scratch) / "fleet", agents)
        (Path(scratch) / "fleet" / "fleet.yaml").replace(directory / "fleet.yaml")


def _share(idle: Idle) -> str:
    return f"{100 * idle.cpu / idle.seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0, help="idle window to measure")
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--interval", default="30s", help="the daemon's resync interval")
    args = parser.parse_args()
    n = args.agents
    with (
        emulator_process(quota=n + args.edits + 10) as url,
        tempfile.TemporaryDirectory() as scratch,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        root = Path(scratch)
        write_fleet(root / "fleet", n)
        converge(root, url=url)
        with running_daemon(root, url=url, interval=args.interval) as daemon:
            wait_until(lambda: bool(daemon.named("pass_finished")), what="the first pass")
            first = daemon.named("pass_finished")[0]
            idle = idle_cpu(daemon, seconds=args.seconds)
            window = min(args.seconds, 0.5 * parse_duration(args.interval))
            quiet = between_passes(daemon, seconds=window)
            samples = []
            for index in range(args.edits):
                time.sleep(1.0)
                samples.append(edit_latency(root, daemon, http, agents=n + index + 1))
    print(f"daemon with {n} agents in sync, resync every {args.interval}")
    print(f"  first pass          {float(first['duration_s']):8.3f} s ({first['result']})")
    durations = idle.durations
    print(f"  idle window         {args.seconds:8.1f} s, {len(durations)} passes")
    if durations:
        print(f"  pass duration       {statistics.median(durations):8.3f} s median")
    print(f"  CPU time            {idle.cpu:8.3f} s ({_share(idle)} % of one core)")
    print(f"  wake-ups            {idle.wakeups / idle.seconds:8.1f} a second")
    if quiet is None:
        print("  between passes      (a pass ran in the window: not measured)")
    else:
        print(f"  between passes      {quiet.seconds:8.1f} s window, no pass")
        print(f"    CPU time          {quiet.cpu:8.3f} s ({_share(quiet)} % of one core)")
        print(f"    wake-ups          {quiet.wakeups / quiet.seconds:8.1f} a second")
    print(f"edit to action, {args.edits} edits adding one agent each (median / max)")
    for name in ("pass_started", "first API call", "join"):
        values = [sample[name] * 1000 for sample in samples]
        print(f"  {name:<19} {statistics.median(values):8.1f} ms / {max(values):8.1f} ms")
    joins = [sample["join"] * 1000 for sample in samples]
    figures = {
        "idle CPU % of a core": _share(idle),
        "edit to join ms (median)": f"{statistics.median(joins):.1f}",
    }
    if quiet is not None:
        figures["wake-ups/s between passes"] = f"{quiet.wakeups / quiet.seconds:.1f}"
    if durations:
        figures["steady pass s (median)"] = f"{statistics.median(durations):.3f}"
    summary(f"daemon_latency_and_idle_cpu (N = {n})", figures)


if __name__ == "__main__":
    main()
