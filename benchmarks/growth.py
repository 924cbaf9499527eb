"""Benchmark: how the cost of ``reconciler apply`` and ``reconciler plan`` grows with the fleet.

For each N of ``--sizes`` (100, 1,000, 5,000 and 10,000 by default), against the emulator in its
own process: ``reconciler apply --auto-approve`` of N creates from empty (a fresh state, the
emulator reset), then ``reconciler plan --detailed-exitcode`` of the same N in sync. Each is the
real CLI in its own process, with the CLI's defaults (``--concurrency`` 16, token minting on, the
default log level on stderr, a pipe) except ``--rate-limit``, which is lifted (10⁶ calls a
second): at the default 10 calls a second, 10,000 creates would take 1,000 s, linear by
construction. The emulator answers at once (``--latency-ms 0``), so the wall time is our work and
the emulator's, not sleeping. Each process's own wall time, CPU (user + system) and peak RSS come
from ``harness.child_usage``. A plan is cheap and changes nothing, so each apply is followed by
``--plans`` of them (3 by default): more samples of the figure most lost in noise.

The per-agent cost is the CPU beyond the median run at N = 1 (interpreter start-up, imports, one
agent), divided by N − 1. Its ratio to the previous row's is 1.0 for a linear cost and grows with
N for a super-linear one. Where that extra CPU is within the spread of the N = 1 runs themselves
(the plan at N = 100 costs a few ms beyond a ~0.6 s process), it is marked as noise.

Each size is run as many times as fit in ``--budget`` agents (at least once, at most ``--runs``):
by default 3, 3, 2 and 1 times, the sizes taking turns so that a spell of load elsewhere on the
machine lands on several. Figures are printed, never asserted.

    python benchmarks/growth.py [--sizes 100 1000 5000 10000] [--runs 3] [--budget 10000]
                                [--plans 3] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from apply_creates import ENV, UNLIMITED, write_fleet
from harness import (
    SHARED_MACHINE_NOTE,
    Usage,
    child_usage,
    emulator_process,
    fresh_emulator,
    reconciler_command,
    running,
    spread,
    summary,
    table,
)
from observe_and_plan import plan_in_sync_command

BASELINE = 1  # agents in the run whose cost is the fixed part


@dataclass(frozen=True)
class Round:
    """One apply from empty and the plans in sync after it."""

    apply: Usage
    plans: tuple[Usage, ...]


def one_round(url: str, agents: int, *, latency_ms: int, plans: int) -> Round:
    """Apply ``agents`` creates on an empty emulator and a fresh state, then plan them in sync
    ``plans`` times (a plan changes nothing, and is cheap beside the apply)."""
    fresh_emulator(url, latency_ms=latency_ms)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_fleet(root / "fleet", agents)
        apply = reconciler_command(
            *("apply", "fleet", "--auto-approve", "--state", "state.db", "--api-url", url),
            *("--rate-limit", repr(UNLIMITED)),
        )
        applied = child_usage(apply, cwd=root, env=ENV)
        live = running(url)
        if live != agents:
            raise SystemExit(f"apply left {live} agents running, expected {agents}")
        plan = plan_in_sync_command(url)
        return Round(
            apply=applied,
            plans=tuple(child_usage(plan, cwd=root, env=ENV) for _ in range(plans)),
        )


def per_agent_us(cpus: Sequence[float], *, fixed: float, agents: int) -> list[float]:
    """Microseconds of CPU per agent beyond the fixed cost, for each run."""
    return [(cpu - fixed) * 1e6 / (agents - BASELINE) for cpu in cpus]


def _sides(rounds: Sequence[Round]) -> tuple[tuple[str, list[Usage]], ...]:
    return (
        ("apply", [r.apply for r in rounds]),
        ("plan", [plan for r in rounds for plan in r.plans]),
    )


@dataclass(frozen=True)
class Fixed:
    """The CPU of the N = 1 runs: its median, and its spread (max − min), the noise floor."""

    cpu: float
    noise: float

    @classmethod
    def of(cls, usages: Sequence[Usage]) -> Fixed:
        cpus = [u.cpu for u in usages]
        return cls(cpu=statistics.median(cpus), noise=max(cpus) - min(cpus))


def growth_rows(rounds: dict[int, list[Round]]) -> list[list[str]]:
    """The table: per size, the figures, the per-agent CPU and its ratio to the row above.

    A per-agent figure whose CPU beyond the fixed cost is within the N = 1 runs' own spread is
    noise: it is marked ``*`` and no ratio is taken from it.
    """
    rows = [
        [
            *("N", "apply runs", "wall s", "CPU s", "µs/agent", "× prev", "RSS MB"),
            *("plan runs", "wall s", "CPU s", "µs/agent", "× prev", "RSS MB"),
        ]
    ]
    fixed = {side: Fixed.of(usages) for side, usages in _sides(rounds[BASELINE])}
    previous: dict[str, float | None] = {"apply": None, "plan": None}
    for agents, done in rounds.items():
        row = [str(agents)]
        for side, usages in _sides(done):
            cpus = [u.cpu for u in usages]
            row += [str(len(usages)), spread([u.wall for u in usages]), spread(cpus)]
            if agents == BASELINE:
                row += ["(fixed)", "-"]
            else:
                costs = per_agent_us(cpus, fixed=fixed[side].cpu, agents=agents)
                median, last = statistics.median(costs), previous[side]
                measured = statistics.median(cpus) - fixed[side].cpu > fixed[side].noise
                ratio = f"{median / last:.2f}" if measured and last else "-"
                row += [spread(costs, digits=0) + ("" if measured else " *"), ratio]
                previous[side] = median if measured else None
            row.append(f"{max(u.peak_mb for u in usages):.0f}")
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 5_000, 10_000])
    parser.add_argument("--runs", type=int, default=3, help="the most runs of any size")
    parser.add_argument("--budget", type=int, default=10_000, help="agents per size, all runs")
    parser.add_argument("--plans", type=int, default=3, help="plans in sync after each apply")
    parser.add_argument("--latency-ms", type=int, default=0, help="the emulator's, per call")
    args = parser.parse_args()
    sizes = sorted({BASELINE, *(size for size in args.sizes if size > BASELINE)})
    with emulator_process(quota=max(sizes) + 10) as url:
        # The first round writes the bytecode; it is not counted.
        one_round(url, BASELINE, latency_ms=args.latency_ms, plans=1)
        runs = {agents: max(1, min(args.runs, args.budget // agents)) for agents in sizes}
        rounds: dict[int, list[Round]] = {agents: [] for agents in sizes}
        # Sizes take turns, so that a spell of load elsewhere on the machine lands on several.
        for turn in range(max(runs.values())):
            for agents in (a for a in sizes if turn < runs[a]):
                done = one_round(url, agents, latency_ms=args.latency_ms, plans=args.plans)
                rounds[agents].append(done)
    rows = growth_rows(rounds)
    print(
        f"growth: reconciler apply of N creates from empty, then reconciler plan of N in sync; "
        f"L = {args.latency_ms} ms, CLI defaults but no rate limit; median [min–max] of the runs"
    )
    print(table(rows))
    print(
        f"µs/agent: CPU beyond the N = {BASELINE} runs' median, over N − {BASELINE}; "
        "× prev: its ratio to the row above (1.0 is linear);\n"
        f"*: that extra CPU is within the N = {BASELINE} runs' own spread: noise, no ratio taken"
    )
    print(SHARED_MACHINE_NOTE)
    figures = {}
    for row in rows[2:]:
        figures[f"N = {row[0]}: apply CPU µs/agent (× prev)"] = f"{row[4]} (× {row[5]})"
        figures[f"N = {row[0]}: plan CPU µs/agent (× prev)"] = f"{row[10]} (× {row[11]})"
    summary("growth", figures)


if __name__ == "__main__":
    main()
