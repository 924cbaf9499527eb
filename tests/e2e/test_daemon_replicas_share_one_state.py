"""Several ``reconciler run`` replicas on one PostgreSQL state: one leads, the others stand by,
and when the leader is killed at a random moment another takes over and heals the fleet without
ever joining a second agent for one key.

``RECONCILER_TEST_LEADER_KILLS`` sets how many leaders are killed (default 2, which the first
three replicas cover; past that a fresh replica replaces each one killed, so there are always
standbys; the acceptance run uses 20).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_e2e_harness import harness
from daemon_e2e_harness import Daemon, Emulator, wait_until

from reconciler.emulator import EmulatorConfig, running_server

_REPLICAS = 3
_KILLS = int(os.environ.get("RECONCILER_TEST_LEADER_KILLS", "2"))
_CHANNELS = ["ch-a", "ch-b"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        yield Emulator(url)


def _leader_gauge(replica: Daemon) -> float | None:
    """``reconciler_leader`` as the replica's /metrics says it, or None if it does not answer."""
    try:
        text = httpx.get(f"{replica.url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith("reconciler_leader "):
            return float(line.split()[1])
    return None


def _one_leader(replicas: list[Daemon]) -> Daemon:
    """Wait until exactly one replica reports leading and every other one standing by."""
    found: list[Daemon] = []

    def settled() -> bool:
        gauges = [_leader_gauge(replica) for replica in replicas]
        found[:] = [r for r, gauge in zip(replicas, gauges, strict=True) if gauge == 1.0]
        return len(found) == 1 and gauges.count(0.0) == len(replicas) - 1

    wait_until(settled, what="one leader and the rest standing by")
    return found[0]


def _standbys_answer(replicas: list[Daemon], leader: Daemon) -> None:
    """Standbys are healthy and ready (a rolling update goes on) but not the leader, and refuse
    Agora's events with 503 so that Agora resends them, maybe to the leader."""
    for replica in replicas:
        leads = replica is leader
        assert httpx.get(f"{replica.url}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"{replica.url}/leaderz", timeout=5).status_code == (200 if leads else 503)
        if not leads:
            assert httpx.get(f"{replica.url}/readyz", timeout=5).status_code == 200
            event = httpx.post(f"{replica.url}/webhooks/agora/demo", content=b"{}", timeout=5)
            assert event.status_code == 503


def _converged(emulator: Emulator) -> bool:
    return emulator.channels() == _CHANNELS


def _no_duplicates(emulator: Emulator) -> None:
    doubled = {ch: n for ch, n in Counter(emulator.channels()).items() if n > 1}
    assert not doubled, f"a channel got a second agent: {doubled}"


def test_one_replica_leads_and_another_takes_over_when_it_is_killed(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    """Three replicas: one leads (reconciler_leader 1), two stand by (0). SIGKILL the leader at
    a random moment, with a failed agent to heal: another takes over within the lease TTL and
    heals it, never leaving two live agents in one channel."""
    harness.write_fleet(
        tmp_path / "fleet", {"a": harness.agent("ch-a"), "b": harness.agent("ch-b")}
    )
    state = f"{postgres_url}?schema=ha_{uuid.uuid4().hex[:12]}"

    def replica() -> Daemon:
        """A new replica, once it serves: one at a time, so a loaded machine starts each in time."""
        started = Daemon(tmp_path, api_url=emulator.url, state=state, args=("--lease-ttl", "2s"))
        assert started.url
        return started

    replicas = [replica() for _ in range(_REPLICAS)]
    chance = random.Random()
    try:
        leader = _one_leader(replicas)
        wait_until(lambda: _converged(emulator), what="the fleet", daemon=leader)
        assert leader.named("leading")
        assert all(r.named("standby") for r in replicas if r is not leader)
        _standbys_answer(replicas, leader)
        for _ in range(_KILLS):
            victim = chance.choice(emulator.live())
            emulator.control("POST", f"/agents/{victim['agent_id']}/fail", {"message": "crashed"})
            time.sleep(chance.uniform(0.0, 1.5))  # a random point of the leader's work to die at
            leader.process.kill()
            leader.close()
            replicas.remove(leader)
            _no_duplicates(emulator)
            if len(replicas) < 2:
                replicas.append(replica())
            leader = _one_leader(replicas)
            wait_until(lambda: _converged(emulator), what="the fleet healed", daemon=leader)
            _no_duplicates(emulator)
        assert "Traceback" not in "".join(r.log() for r in replicas)
    finally:
        for running in replicas:
            running.close()
