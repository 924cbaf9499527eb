"""Every benchmark still runs, end to end, at a tiny size, and prints its summary line.

A benchmark is only run by hand or by ``make bench``, so a change elsewhere can break one
unnoticed; this runs each as ``make bench`` does (its own process, ``BENCH_SUMMARY_FILE`` set),
then the merged table. It never looks at a time: only that each one finishes and reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
PREFIX = "bench-summary "
# The smallest run of each that still goes through every one of its steps.
TINY = {
    "apply_creates.py": ["--agents", "4", "--runs", "1", "--latency-ms", "1"],
    "observe_and_plan.py": ["--agents", "12", "--runs", "1"],
    "daemon_pass.py": ["--agents", "3", "--passes", "1", "--interval", "1s"],
    "daemon_latency_and_idle_cpu.py": [
        *("--agents", "3", "--seconds", "1", "--edits", "1", "--interval", "3s"),
    ],
    "fuzz_manifests.py": ["10"],
    "many_projects.py": [
        *("--projects", "2", "--agents", "2", "--runs", "1", "--latency-ms", "1"),
        *("--passes", "1", "--interval", "1s"),
    ],
    "growth.py": ["--sizes", "2", "3", "--runs", "1", "--plans", "1"],
}


def test_every_benchmark_has_a_tiny_size() -> None:
    scripts = {path.name for path in BENCHMARKS.glob("*.py")} - {"harness.py"}
    assert scripts == set(TINY)


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_benchmark_runs_and_reports(script: str, tmp_path: Path) -> None:
    summary = tmp_path / "summary.txt"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *TINY[script]],
        env={**os.environ, "BENCH_SUMMARY_FILE": str(summary)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    printed = [line for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    kept = summary.read_text().splitlines()
    assert printed == kept
    assert len(kept) == 1
    found = json.loads(kept[0].removeprefix(PREFIX))
    assert found["benchmark"].startswith(script.removesuffix(".py"))
    assert found["figures"]
    merged = subprocess.run(
        [sys.executable, str(BENCHMARKS / "harness.py"), str(summary)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert all(name in merged.stdout for name in found["figures"])
