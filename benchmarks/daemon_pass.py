"""Benchmark: the cost of one pass of ``reconciler run`` on N agents in sync, idle or with a change.

For each N of ``--agents`` (1,000 and 10,000 by default) the fleet is brought up by ``reconciler
apply``, then the daemon runs as its own process against the emulator (its own process too),
resyncing every ``--interval``. Steady passes: the daemon's CPU time (user + system, from
/proc) over ``--passes`` passes that find nothing to do, per pass, and their durations from its
``pass_finished`` events. One-change pass: the manifest gains one agent, and the pass that joins
it is timed the same way. Targets (issue 20): ≤ 0.3 s CPU per steady pass at 10k. Figures are
printed, never asserted.

    python benchmarks/daemon_pass.py [--agents 1000 10000] [--passes 5] [--interval 2s]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from pathlib import Path

from apply_creates import write_fleet
from daemon_latency_and_idle_cpu import (
    CPU_AT_END,
    DaemonProcess,
    converge,
    running_daemon,
    wait_until,
    write_fleet_over,
)
from harness import SHARED_MACHINE_NOTE, emulator_process, spread, summary, table


def passes_cost(daemon: DaemonProcess, *, count: int) -> tuple[list[float], list[float]]:
    """The CPU seconds of each of the next ``count`` passes, and their durations.

    Each pass is measured on its own (the CPU between the end of the pass before and its own),
    so a burst of load on a shared machine spoils one figure, not the median.
    """
    done = max(1, len(daemon.named("pass_finished")))  # the first pass measures from start-up
    wait_until(lambda: len(daemon.named("pass_finished")) >= done + count, what="the passes")
    finished = daemon.named("pass_finished")[done - 1 : done + count]
    stamps = [float(e[CPU_AT_END]) for e in finished]
    spent = [after - before for before, after in itertools.pairwise(stamps)]
    return spent, [float(e["duration_s"]) for e in finished[1:]]


def one_size(agents: int, *, passes: int, interval: str) -> list[str]:
    """One row: steady pass CPU and duration, then the one-change pass's."""
    with emulator_process(quota=agents + 10) as url, tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_fleet(root / "fleet", agents)
        converge(root, url=url)
        with running_daemon(root, url=url, interval=interval) as daemon:
            wait_until(lambda: bool(daemon.named("pass_finished")), what="the first pass")
            steady_cpu, steady = passes_cost(daemon, count=passes)
            done = len(daemon.named("pass_finished"))
            before = daemon.cpu_seconds()
            write_fleet_over(root / "fleet", agents + 1)
            wait_until(
                lambda: any(
                    int(e.get("changes", 0) or 0) > 0 for e in daemon.named("pass_finished")[done:]
                ),
                what="the pass that joins the new agent",
            )
            change_cpu = daemon.cpu_seconds() - before
            changed = [
                float(e["duration_s"])
                for e in daemon.named("pass_finished")[done:]
                if int(e.get("changes", 0) or 0) > 0
            ]
    return [
        str(agents),
        spread(steady_cpu, digits=3),
        spread(steady, digits=3),
        f"{change_cpu:.3f}",
        f"{statistics.median(changed):.3f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--passes", type=int, default=9, help="steady passes, each measured")
    parser.add_argument("--interval", default="2s", help="the daemon's resync interval")
    args = parser.parse_args()
    rows = [["agents", "steady CPU s/pass", "steady pass s", "change CPU s", "change pass s"]]
    for agents in args.agents:
        rows.append(one_size(agents, passes=args.passes, interval=args.interval))
    print(f"reconciler run: one pass, resync every {args.interval} (steady: {args.passes} passes)")
    print(table(rows))
    print(SHARED_MACHINE_NOTE)
    figures = {}
    for row in rows[1:]:
        figures[f"N = {row[0]}: steady CPU s/pass"] = row[1]
        figures[f"N = {row[0]}: one-change pass CPU s"] = row[3]
    summary("daemon_pass", figures)


if __name__ == "__main__":
    main()
