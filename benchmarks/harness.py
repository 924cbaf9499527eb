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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import httpx


@contextmanager
def emulator_process(*, quota: int) -> Iterator[str]:
    """The emulator in its own process, so that its work does not share our interpreter's GIL."""
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0", "--quota", str(quota)]
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


def running(url: str) -> int:
    """How many agents the emulator has RUNNING."""
    return sum(1 for a in control(url, "GET", "/agents")["agents"] if a["status"] == "RUNNING")


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
