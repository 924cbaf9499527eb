"""What the benchmarks share: the emulator in its own process, its control routes, and figures.

Every figure is taken ``--runs`` times (3 by default) and printed as median [min–max], since the
machines these run on are often shared; ratios are always between figures of the same run.
Nothing here asserts a time.

Each benchmark ends with ``summary(...)``: one machine-readable line (``bench-summary {json}``)
on stdout, also appended to the file ``$BENCH_SUMMARY_FILE`` names. ``make bench`` sets it and
then runs this module on that file, which prints one table of every benchmark's headline figures:

    .venv/bin/python benchmarks/harness.py SUMMARY_FILE
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, NamedTuple

import httpx


@contextmanager
def emulator_process(*, quota: int) -> Iterator[str]:
    """The emulator in its own process, so that its work does not share our interpreter's GIL."""
    command = reconciler_command("emulator", "--port", "0", "--quota", str(quota))
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("emulator listening on "):
                    yield line.removeprefix("emulator listening on ").strip()
                    return
            raise SystemExit("the emulator did not start")
        finally:
            process.terminate()
            process.communicate(timeout=10)


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    """One call to the emulator's ``/_emulator`` control routes; its JSON answer."""
    with httpx.Client(base_url=url, timeout=120) as http:
        response = http.request(method, "/_emulator" + path, json=body)
        response.raise_for_status()
        return response.json()


def fresh_emulator(url: str, *, latency_ms: int) -> None:
    """Forget every agent, fault and counter, then add ``latency_ms`` to every call (0: none)."""
    control(url, "POST", "/reset")
    if latency_ms:
        control(url, "POST", "/faults", {"latency_ms": latency_ms})


def running(url: str) -> int:
    """How many agents the emulator has RUNNING."""
    return sum(1 for a in control(url, "GET", "/agents")["agents"] if a["status"] == "RUNNING")


# Linux carries a parent's peak RSS over fork and exec into the child's figure, so a child forked
# from a benchmark (a large process) would report the benchmark's peak. A small launcher forks it
# instead and reports the child's own CPU and peak. (For the same reason the benchmark's own
# RUSAGE_CHILDREN would be wrong: it keeps the largest peak of every child reaped so far.)
_LAUNCHER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(done.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


class Usage(NamedTuple):
    """What one child process cost: wall seconds, CPU seconds (user + system), peak RSS in MB."""

    wall: float
    cpu: float
    peak_mb: float


def child_usage(command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Usage:
    """Run ``command`` (stdout discarded) with ``env`` added to ours; what it cost, on its own.

    The child may write bytecode even where ``PYTHONDONTWRITEBYTECODE`` is set (as on CI boxes),
    because an installed package has its bytecode: compiling ~120 modules from source on every
    run would add ~0.08 s that no user pays. Run a command once untimed first, so that it has.
    A non-zero exit ends the benchmark with the tail of the child's stderr.
    """
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    code, cpu, peak_kb = done.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{command[2:4]} exited {code}: {done.stderr[-2000:]!r}")
    return Usage(wall=wall, cpu=float(cpu), peak_mb=int(peak_kb) / 1024)


def reconciler_command(*arguments: str) -> list[str]:
    """The command line of the ``reconciler`` CLI, in this interpreter."""
    return [sys.executable, "-m", "reconciler", *arguments]


# What any process on this stack pays before its own code runs: the libraries a plan or an apply
# cannot start without, and pydantic's first model (its schema machinery loads on the first class).
STACK_IMPORTS: Final = (
    "import asyncio, sqlite3, httpx, structlog, typer, yaml\n"
    "from pydantic import BaseModel\n"
    "class First(BaseModel):\n"
    "    x: int\n"
)


def stack_imports_command() -> list[str]:
    """A bare interpreter that imports the stack (``STACK_IMPORTS``) and exits."""
    return [sys.executable, "-c", STACK_IMPORTS]


def floor_seconds(
    *, calls: int, per_bucket: int, latency_s: float, concurrency: int, rate: float, burst: int
) -> float:
    """The least time ``calls`` calls can take: each wave of ``concurrency`` calls takes the
    latency, and the last call a bucket lets go, at (per_bucket − burst)/rate, still takes the
    latency to come back (the buckets, one per project, fill in parallel)."""
    waves = calls * latency_s / concurrency
    return max(waves, max(0, per_bucket - burst) / rate + latency_s)


def spread(values: Sequence[float], *, digits: int = 2) -> str:
    """``median [min–max]`` of a figure taken several times."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} [{low:.{digits}f}–{high:.{digits}f}]"


def table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, the first row a header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


SHARED_MACHINE_NOTE = (
    "(absolute times move with the machine's load; compare the ratios, measured in the same run)"
)


SUMMARY_PREFIX: Final = "bench-summary "
SUMMARY_FILE_ENV: Final = "BENCH_SUMMARY_FILE"


def summary(benchmark: str, figures: dict[str, str]) -> None:
    """Print a benchmark's headline figures as one JSON line, and keep it for ``make bench``."""
    line = SUMMARY_PREFIX + json.dumps({"benchmark": benchmark, "figures": figures})
    print(line)
    target = os.environ.get(SUMMARY_FILE_ENV)
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def merged_table(lines: Iterable[str]) -> str:
    """One table of every ``bench-summary`` line among ``lines``: benchmark, figure, value."""
    rows = [["benchmark", "figure", "value"]]
    for line in lines:
        if not line.startswith(SUMMARY_PREFIX):
            continue
        found = json.loads(line.removeprefix(SUMMARY_PREFIX))
        for figure, value in found["figures"].items():
            rows.append([found["benchmark"], figure, str(value)])
    return table(rows) if len(rows) > 1 else "(no benchmark printed a summary)"


def main() -> None:
    """Print the merged summary table of the summary file named on the command line."""
    if len(sys.argv) != 2:
        raise SystemExit("usage: harness.py SUMMARY_FILE")
    print(merged_table(Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()))
    print(SHARED_MACHINE_NOTE)


if __name__ == "__main__":
    main()
