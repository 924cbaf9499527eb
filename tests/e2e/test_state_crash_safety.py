"""SIGKILL at any moment leaves the state exactly as of its last commit, whole and unlocked."""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from reconciler.state import MemoryStateStore, open_state

_WORKLOAD = Path(__file__).with_name("state_crash_workload.py")
_ROUNDS = 12
_KILL_DURING_STARTUP = 0.25
_MOST_COMMITS_PER_ROUND = 150


def _load_workload() -> ModuleType:
    spec = importlib.util.spec_from_file_location("state_crash_workload", _WORKLOAD)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_until_killed(*, path: Path, rng: random.Random, wait_for_serial: int | None) -> None:
    """Start the workload and SIGKILL it after it reports ``wait_for_serial``, or while starting."""
    with subprocess.Popen(
        [sys.executable, str(_WORKLOAD), str(path)], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        if wait_for_serial is None:
            time.sleep(rng.uniform(0.0, 0.15))
        else:
            assert child.stdout.readline() == "ready\n"
            while int(child.stdout.readline()) < wait_for_serial:
                pass
        child.kill()


def test_sigkill_at_random_moments_never_leaves_a_half_written_state(tmp_path: Path) -> None:
    """After each kill the state opens, its serial counts its commits, and it equals a replay."""
    workload = _load_workload()
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    path = tmp_path / "state.db"
    replica = MemoryStateStore()
    replayed = 0
    lineages = set()
    for round_number in range(_ROUNDS):
        context = f"seed={seed} round={round_number}"
        during_startup = rng.random() < _KILL_DURING_STARTUP
        committed_at_least = replayed + rng.randint(1, _MOST_COMMITS_PER_ROUND)
        _run_until_killed(
            path=path, rng=rng, wait_for_serial=None if during_startup else committed_at_least
        )
        with open_state(path) as store:
            survived = store.snapshot()
        assert survived.serial >= (replayed if during_startup else committed_at_least), context
        while replayed < survived.serial:
            workload.apply_mutation(replica, replayed)
            replayed += 1
        expected = replica.snapshot()
        assert survived.records == expected.records, context
        assert survived.intents == expected.intents, context
        lineages.add(survived.lineage)
    assert len(lineages) == 1
