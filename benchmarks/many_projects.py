"""Benchmark: many projects: time to the first call, creates against the floor, steady pass.

P projects × N agents (``--projects 50 --agents 20`` by default), each project its own App ID on
one emulator (its own process; the extra App IDs are enabled through ``/_emulator/config``
``more_app_ids``, and share the account's credentials and certificate, as on Agora). Each figure is
taken ``--runs`` times on a reset emulator and a fresh state, and printed as median [min–max]:

- first call: ``reconciler apply --auto-approve`` as its own process with the CLI's defaults
  (concurrency, per-project rate limit and burst, token minting, log level), no added latency;
  seconds from spawning it to the first API call the emulator has answered, and to the first
  join. This process polls ``/_emulator/counters`` every 2 ms, so a figure is late by at most one
  poll. Beside it, the wall time of ``reconciler --version`` (the interpreter and the CLI's
  imports, which every command pays before it can call anything) and the difference, and that of
  the stack's imports alone (``harness.STACK_IMPORTS``), under which no first call can come.
- creates: the same apply with latency L on every call and ``--concurrency C``: the P·N creates'
  wall time (spawn to exit) against the floor max(P·N·L/C, (N−B)/R + L), R and B being the CLI's
  default per-project rate and burst (each project has its own bucket, so they fill in parallel).
- steady pass: then ``reconciler run`` on the converged fleet (no latency): its CPU time per
  pass (user + system, from /proc) over ``--passes`` passes that find nothing to do, and their
  durations. Targets (issue 20): first call ≤ 0.15 s after start; steady pass ≤ 0.3 s.

Figures are printed, never asserted.

    python benchmarks/many_projects.py [--projects 50] [--agents 20] [--runs 3] [--latency-ms 50]
                                       [--concurrency 50] [--passes 5] [--interval 2s]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from apply_creates import ENV, write_fleet
from daemon_latency_and_idle_cpu import POLL_SECONDS, calls, running_daemon, wait_until
from daemon_pass import passes_cost
from harness import (
    SHARED_MACHINE_NOTE,
    control,
    emulator_process,
    floor_seconds,
    spread,
    stack_imports_command,
    summary,
    table,
)

from reconciler.apply.ratelimit import burst_for

# What ``reconciler apply`` uses when given no --rate-limit (calls per second per project).
CLI_RATE_LIMIT = 10.0


def app_id(index: int) -> str:
    """The App ID of project ``index``: 32 hexadecimal characters, as Agora writes them."""
    return f"{0xB00C_0000 + index:032x}"


def write_projects(directory: Path, *, projects: int, agents: int) -> None:
    """``projects`` copies of ``apply_creates``' one project and its AgentSet, each with its own
    name and App ID, in one manifest file."""
    with tempfile.TemporaryDirectory() as scratch:
        write_fleet(Path(scratch) / "one", agents)
        project, agent_set = yaml.safe_load_all((Path(scratch) / "one" / "fleet.yaml").read_text())
    documents: list[Any] = []
    for index in range(projects):
        name = f"p{index:02d}"
        documents.append(
            {
                **project,
                "metadata": {"name": name},
                "spec": {**project["spec"], "appId": app_id(index)},
            }
        )
        documents.append({**agent_set, "metadata": {"name": "bench", "project": name}})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fleet.yaml").write_text(yaml.safe_dump_all(documents))


def fresh(url: str, *, projects: int, latency_ms: int) -> None:
    """A reset emulator serving every project's App ID, with ``latency_ms`` on every call."""
    control(url, "POST", "/reset")
    control(url, "POST", "/config", {"more_app_ids": [app_id(i) for i in range(projects)]})
    if latency_ms:
        control(url, "POST", "/faults", {"latency_ms": latency_ms})


@dataclass(frozen=True)
class Applied:
    """One ``reconciler apply``: seconds from spawn to the first call, the first join, exit."""

    first_call: float
    first_join: float
    wall: float


def apply_once(root: Path, url: str, http: httpx.Client, *, flags: Sequence[str]) -> Applied:
    """``reconciler apply`` on ``root/fleet`` with a fresh ``root/state.db``, its output to a
    file (as in CI), timed from the emulator's counters."""
    (root / "state.db").unlink(missing_ok=True)
    command = [
        *(sys.executable, "-m", "reconciler", "apply", "fleet", "--auto-approve"),
        *("--state", "state.db", "--api-url", url, *flags),
    ]
    with (root / "apply.log").open("w") as output:
        started = time.time()
        process = subprocess.Popen(
            command, cwd=root, env={**os.environ, **ENV}, stdout=output, stderr=output
        )
        first_call = wait_until(lambda: calls(http) > 0, what="the first API call")
        first_join = wait_until(lambda: calls(http, "join") > 0, what="the first join")
        code = process.wait()
        wall = time.time() - started
    if code != 0:
        raise SystemExit(f"apply failed (exit {code}):\n{(root / 'apply.log').read_text()[-2000:]}")
    return Applied(first_call - started, first_join - started, wall)


VERSION = [sys.executable, "-m", "reconciler", "--version"]


def wall_of(command: Sequence[str]) -> float:
    """Wall seconds of ``command``, such as ``reconciler --version`` (the interpreter and the
    CLI's imports) or the stack's imports alone."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--agents", type=int, default=20, help="agents per project")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--passes", type=int, default=5, help="steady passes to average")
    parser.add_argument("--interval", default="2s", help="the daemon's resync interval")
    args = parser.parse_args()
    p, n = args.projects, args.agents
    total = p * n
    burst = burst_for(CLI_RATE_LIMIT)
    floor = floor_seconds(
        calls=total,
        per_bucket=n,
        latency_s=args.latency_ms / 1000,
        concurrency=args.concurrency,
        rate=CLI_RATE_LIMIT,
        burst=burst,
    )
    with (
        emulator_process(quota=n + 10) as url,
        tempfile.TemporaryDirectory() as scratch,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        root = Path(scratch)
        write_projects(root / "fleet", projects=p, agents=n)
        wall_of(VERSION)  # untimed: the first start reads every module from disk
        boots = [wall_of(VERSION) for _ in range(args.runs)]
        stack = [wall_of(stack_imports_command()) for _ in range(args.runs)]
        defaults: list[Applied] = []
        for _ in range(args.runs):
            fresh(url, projects=p, latency_ms=0)
            defaults.append(apply_once(root, url, http, flags=()))
        creates: list[Applied] = []
        for _ in range(args.runs):
            fresh(url, projects=p, latency_ms=args.latency_ms)
            creates.append(
                apply_once(root, url, http, flags=("--concurrency", str(args.concurrency)))
            )
        control(url, "DELETE", "/faults")
        with running_daemon(root, url=url, interval=args.interval) as daemon:
            wait_until(lambda: bool(daemon.named("pass_finished")), what="the first pass")
            steady_cpu, steady = passes_cost(daemon, count=args.passes)
    first_call = [a.first_call for a in defaults]
    after_start = [a.first_call - boot for a, boot in zip(defaults, boots, strict=True)]
    print(f"{p} projects × {n} agents ({total}), median [min–max] of {args.runs} runs")
    print(
        table(
            [
                ["figure", "seconds"],
                ["reconciler --version (start-up)", spread(boots, digits=3)],
                ["the stack's imports alone (any first call's floor)", spread(stack, digits=3)],
                ["apply (defaults): first API call", spread(first_call, digits=3)],
                ["  the same, beyond start-up", spread(after_start, digits=3)],
                [
                    "apply (defaults): first join",
                    spread([a.first_join for a in defaults], digits=3),
                ],
                ["apply (defaults): all creates", spread([a.wall for a in defaults])],
            ]
        )
    )
    print(f"(counters polled every {POLL_SECONDS * 1000:g} ms: each figure is late by one at most)")
    print(
        f"creates: L = {args.latency_ms} ms, C = {args.concurrency}, R = {CLI_RATE_LIMIT:g}/s "
        f"and B = {burst} per project (the CLI's defaults); floor max(P·N·L/C, (N−B)/R + L) = "
        f"{floor:.2f} s"
    )
    print(
        table(
            [
                ["creates s", "creates/floor", "first call s"],
                [
                    spread([a.wall for a in creates]),
                    spread([a.wall / floor for a in creates]),
                    spread([a.first_call for a in creates], digits=3),
                ],
            ]
        )
    )
    print(f"reconciler run, {total} agents in sync, resync every {args.interval}")
    print(
        f"  steady pass CPU {spread(steady_cpu, digits=3)} s/pass, "
        f"duration {spread(steady, digits=3)} s"
    )
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("(PYTHONDONTWRITEBYTECODE is set: every process compiled its modules, start-up too)")
    print(SHARED_MACHINE_NOTE)
    summary(
        f"many_projects ({p} × {n})",
        {
            "first API call s": spread(first_call, digits=3),
            "first API call beyond start-up s": spread(after_start, digits=3),
            "stack imports s": spread(stack, digits=3),
            "creates/floor": spread([a.wall / floor for a in creates]),
            "steady CPU s/pass": spread(steady_cpu, digits=3),
        },
    )


if __name__ == "__main__":
    main()
