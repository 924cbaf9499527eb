"""kill -9 of the apply process at random moments never costs a duplicate or an orphan agent.

Each round changes the fleet (agents come and go, prompts change in place, TTS changes force
replaces, the emulator fails an agent), starts an apply process and SIGKILLs it after a random
delay while the emulator slows every call, so kills land between an intent and its outcome. Most
rounds then apply again, undisturbed; some go straight into the next killed apply, so leftover
resolution is killed too. After every recovery the emulator and the state must agree exactly.

``APPLY_CRASH_KILLS=N`` raises the number of kills (default 20).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from apply_e2e_harness import harness

from reconciler import naming
from reconciler.emulator import EmulatorConfig, running_server

KILLS = int(os.environ.get("APPLY_CRASH_KILLS", "20"))
_WORKER = Path(__file__).with_name("apply_crash_worker.py")
_NAMES = tuple("abcdefghij")
_LATENCY_MS = 15
_LONGEST_DELAY_S = 0.3
_SKIP_RECOVERY = 0.25
_PREFIX = "rc"


# Crash safety is the subject here, not pacing: with channels down after each kill, a budget
# would hold replaces back for a later pass, and every recovery must converge in one.
ALL_AT_ONCE = {"maxUnavailable": "100%"}


def _fleet(rng: random.Random) -> dict[str, Any]:
    fleet = {}
    for name in _NAMES:
        if rng.random() < 0.2:
            continue
        llm = {
            **harness.profile()["llm"],
            "system_messages": [{"role": "system", "content": f"v{rng.randrange(3)}"}],
        }
        tts = {"vendor": f"vendor-{rng.randrange(2)}", "params": {"key": "${env:AZURE_TTS_KEY}"}}
        fleet[name] = harness.agent(f"room-{name}", properties={"llm": llm, "tts": tts})
    return fleet


class _Worker:
    """The fork server, and what it reports about each apply child."""

    def __init__(self, world: Any) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(_WORKER), str(world.fleet), str(world.state_path), world.base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, **world.environ},
            text=True,
        )
        assert self._read() == "ready"

    def killed_run(self, delay: float) -> bool:
        """Start an apply, SIGKILL it after ``delay`` s; whether the kill found it still running."""
        assert self._process.stdin is not None
        self._process.stdin.write("run\n")
        self._process.stdin.flush()
        pid = int(self._read().removeprefix("pid "))
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return int(self._read().removeprefix("exit ")) == -signal.SIGKILL

    def close(self) -> None:
        self._process.kill()
        self._process.communicate()

    def _read(self) -> str:
        assert self._process.stdout is not None
        return self._process.stdout.readline().strip()


async def _count_damage(world: Any) -> tuple[int, int]:
    """(duplicates, orphans): extra live agents of one key, and live agents of ours unrecorded."""
    live = await world.live()
    recorded = {r.agent_id for r in world.records().values()}
    slugs = [naming.parse(a["name"], prefix=_PREFIX) for a in live]
    ours = [s.slug for s in slugs if s is not None]
    duplicates = len(ours) - len(set(ours))
    orphans = sum(
        1
        for a, s in zip(live, slugs, strict=True)
        if s is not None and a["agent_id"] not in recorded
    )
    return duplicates, orphans


def test_kill_9_during_apply_never_duplicates_or_orphans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After every recovery: one live agent per key, each recorded, no intent left, no change."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        world = harness.World(tmp_path, base_url=url)
        harness.write_fleet(world.fleet, _fleet(rng), rollout=ALL_AT_ONCE)
        asyncio.run(world.fault(latency_ms=_LATENCY_MS))
        worker = _Worker(world)
        kills = rounds = duplicates = orphans = 0
        try:
            while kills < KILLS:
                rounds += 1
                assert rounds <= 4 * KILLS, f"seed={seed}: too few kills landed mid-apply"
                harness.write_fleet(world.fleet, _fleet(rng), rollout=ALL_AT_ONCE)
                live = asyncio.run(world.live())
                if live and rng.random() < 0.3:
                    victim = rng.choice(live)["agent_id"]
                    asyncio.run(
                        world.control("POST", f"/agents/{victim}/fail", {"message": "boom"})
                    )
                kills += worker.killed_run(rng.uniform(0.0, _LONGEST_DELAY_S))
                if rng.random() < _SKIP_RECOVERY:
                    continue
                ran = asyncio.run(world.apply(allow_mass_delete=True))
                assert ran.code == 0, f"seed={seed} round={rounds}: {ran.stdout}{ran.stderr}"
                found = asyncio.run(_count_damage(world))
                duplicates, orphans = duplicates + found[0], orphans + found[1]
                asyncio.run(world.assert_converged())
        finally:
            worker.close()
        ran = asyncio.run(world.apply(allow_mass_delete=True))
        assert ran.code == 0, f"seed={seed}: {ran.stdout}{ran.stderr}"
        asyncio.run(world.assert_converged())
    assert (duplicates, orphans) == (0, 0), f"seed={seed}"
    with capsys.disabled():
        print(f"\n{duplicates} duplicates, {orphans} orphans over {kills} kills (seed {seed})")
