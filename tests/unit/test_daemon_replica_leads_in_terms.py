"""A replica on a real PostgreSQL state: it waits for the lease, leads, is deposed by a takeover,
stands by again without acting, and leads a new term once the lease is free.

The runner stands in for a pass but writes through the real fence (``check_held``), so the
deposition is found the way a real pass finds it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from apply_harness import agent, write_fleet
from daemon_harness import ScriptedRunner, settings, until

from reconciler import daemon
from reconciler.clock import SystemClock
from reconciler.daemon import replicas
from reconciler.daemon.endpoints import Endpoints
from reconciler.daemon.metrics import Metrics
from reconciler.manifest.desired import DesiredFleet
from reconciler.reconcile.apply_pass import Done
from reconciler.state import PostgresLocation, StateStore, parse_location

_TTL = 1.0


@pytest.fixture
def shared(postgres_url: str) -> PostgresLocation:
    location = parse_location(f"{postgres_url}?schema=terms_{uuid.uuid4().hex[:12]}")
    assert isinstance(location, PostgresLocation)
    return location


class _FencedRunner:
    """Each pass first renews the lease on its epoch, as every real write does."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._scripted = ScriptedRunner()
        self.calls = 0

    async def __call__(
        self,
        fleet: DesiredFleet,
        *,
        choose: daemon.Choose,
        stopping: Callable[[], bool],
        revision: str | None,
        expiring: frozenset[str],
    ) -> Done:
        self.calls += 1
        self._store.check_held()
        return await self._scripted(
            fleet, choose=choose, stopping=stopping, revision=revision, expiring=expiring
        )


def _lease(where: PostgresLocation, statement: str) -> None:
    with psycopg.connect(where.conninfo, autocommit=True) as connection:
        connection.execute(statement.format(lease=f"{where.schema}.lease"))


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    write_fleet(tmp_path / "fleet", {"a": agent("ch-a")})
    return tmp_path / "fleet"


async def test_a_deposed_leader_stands_by_and_leads_again_once_the_lease_is_free(
    shared: PostgresLocation, fleet: Path
) -> None:
    endpoints = Endpoints(metrics=Metrics(), environ={})
    runners: list[_FencedRunner] = []

    def new_term(store: StateStore) -> daemon.Daemon:
        runners.append(_FencedRunner(store))
        return daemon.Daemon(
            settings(fleet),
            runner=runners[-1],
            clock=SystemClock(),
            endpoints=endpoints,
        )

    def leader_gauge() -> float | None:
        return endpoints.metrics.registry.get_sample_value("reconciler_leader")

    stop = asyncio.Event()
    terms = replicas.Terms(endpoints=endpoints, new_term=new_term, stop=stop, clock=SystemClock())
    task = asyncio.create_task(terms.run(first=None, shared=shared, lease_ttl=_TTL))
    try:
        await until(lambda: bool(runners) and runners[0].calls == 1)
        assert endpoints.leading is not None
        assert leader_gauge() == 1.0
        # Another reconciler takes the lease over (as after this one was paused past the TTL).
        _lease(
            shared,
            "UPDATE {lease} SET epoch = epoch + 1, holder = 'another', "
            "expires_at = clock_timestamp() + interval '1 hour'",
        )
        endpoints.wake()
        await until(lambda: endpoints.leading is None)
        assert leader_gauge() == 0.0
        assert runners[0].calls == 2
        assert len(runners) == 1
        # The other one goes away cleanly: the standby leads a fresh term.
        _lease(shared, "UPDATE {lease} SET holder = NULL, expires_at = '-infinity'")
        await until(lambda: len(runners) == 2 and runners[1].calls == 1)
        assert endpoints.leading is not None
        assert leader_gauge() == 1.0
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
    assert endpoints.leading is None
    assert leader_gauge() == 0.0
