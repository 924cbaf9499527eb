"""Fuzz the manifest loader with 10,000 generated inputs and count the tracebacks (expect 0).

Usage: ``.venv/bin/python benchmarks/fuzz_manifests.py [N]``. It reuses the strategies of
tests/property/test_load_never_raises.py but, unlike the test, does not stop at the first failure:
it runs every input, groups failures by their last traceback line, and exits 1 if there were any.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from types import ModuleType

from harness import summary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STRATEGIES = Path(__file__).parents[1] / "tests" / "property" / "test_load_never_raises.py"


def _strategies() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_strategies", STRATEGIES)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    fuzz = _strategies()
    failures: Counter[str] = Counter()
    first_traces: dict[str, tuple[str, list[bytes]]] = {}
    inputs = 0
    with tempfile.TemporaryDirectory() as directory:

        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(files=st.lists(fuzz.manifest_inputs, min_size=1, max_size=3))
        def run(files: list[bytes]) -> None:
            nonlocal inputs
            inputs += 1
            try:
                fuzz.check_load(files, directory=Path(directory))
            except Exception:
                trace = traceback.format_exc().strip()
                last = trace.splitlines()[-1]
                failures[last] += 1
                first_traces.setdefault(last, (trace, files))

        started = time.perf_counter()
        run()
        elapsed = time.perf_counter() - started
    print(f"{inputs} inputs in {elapsed:.1f} s: {sum(failures.values())} tracebacks")
    summary(f"fuzz_manifests ({inputs} inputs)", {"tracebacks": str(sum(failures.values()))})
    for line, times in failures.most_common():
        trace, files = first_traces[line]
        print(f"\n{times} × {line}; the first one, on input {files!r}:\n{trace}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
