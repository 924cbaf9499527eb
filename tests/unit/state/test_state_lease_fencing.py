"""Whoever writes a shared state holds its lease; a holder whose lease was taken over is refused.

The holder runs in a process of its own so that it can really be paused (SIGSTOP) or killed
(SIGKILL): its heartbeat stops with it, the lease runs out, and another reconciler takes over
with a higher epoch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from reconciler.errors import StateLeaseLostError, StateLockedError
from reconciler.state import (
    AgentRecord,
    Intent,
    PostgresLocation,
    StateStore,
    open_state,
    parse_location,
)
from reconciler.state.postgres import PostgresStateStore

RecordFactory = Callable[..., AgentRecord]
IntentFactory = Callable[..., Intent]

_SHORT_TTL = 1.0
_DEADLINE_SECONDS = 30.0

_HOLDER = """
import sys
from reconciler import logs
from reconciler.errors import StateLeaseLostError
from reconciler.state import AgentRecord, open_state
logs.configure_logging(level="warning")
store = open_state(sys.argv[1], lease_ttl=float(sys.argv[2]))
print(store.epoch, flush=True)
sys.stdin.readline()
record = AgentRecord(
    key="prod/late", project="prod", remote_name="rc-prod-late-g1", generation=1,
    agent_id="agent-late", channel="late", agent_rtc_uid="1", applied_properties={},
    spec_hash="h", token_expires_at=None, created_at=1.0, updated_at=1.0,
)
try:
    store.put_record(record)
except StateLeaseLostError as exc:
    print(f"refused: {exc}", flush=True)
else:
    print("wrote", flush=True)
"""


@pytest.fixture
def holder(postgres_state: str) -> Iterator[subprocess.Popen[str]]:
    """A reconciler in another process holding the state under a short lease; it writes one
    record when told."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, postgres_state, str(_SHORT_TTL)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        yield process
        if process.poll() is None:
            process.kill()


def _epoch_of(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    return int(process.stdout.readline())


def _take_over(url: str) -> StateStore:
    """Open the state as soon as its lease runs out; fail if that takes past the deadline."""
    deadline = time.monotonic() + _DEADLINE_SECONDS
    while True:
        try:
            return open_state(url, lease_ttl=_DEADLINE_SECONDS)
        except StateLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_paused_holder_whose_lease_was_taken_over_cannot_write(
    postgres_state: str, holder: subprocess.Popen[str]
) -> None:
    """SIGSTOP the holder past its TTL: another takes over with a higher epoch, and the holder's
    write after SIGCONT is refused with StateLeaseLostError, changing nothing."""
    deposed_epoch = _epoch_of(holder)
    os.kill(holder.pid, signal.SIGSTOP)
    try:
        with _take_over(postgres_state) as leader:
            assert isinstance(leader, PostgresStateStore)
            assert leader.epoch > deposed_epoch
            before = leader.snapshot()
            os.kill(holder.pid, signal.SIGCONT)
            assert holder.stdin is not None
            assert holder.stdout is not None
            holder.stdin.write("write\n")
            holder.stdin.flush()
            answer = holder.stdout.readline()
            assert answer.startswith("refused: lost the lease on state postgresql://"), answer
            assert f"held epoch {deposed_epoch} and epoch {leader.epoch} holds it now" in answer
            assert leader.snapshot() == before
    finally:
        os.kill(holder.pid, signal.SIGCONT)


def test_a_killed_holder_frees_the_state_once_its_lease_runs_out(
    postgres_state: str, holder: subprocess.Popen[str]
) -> None:
    """No lease is held forever by the dead: after SIGKILL, the TTL hands the state on."""
    deposed_epoch = _epoch_of(holder)
    holder.kill()
    holder.wait()
    with _take_over(postgres_state) as leader:
        assert isinstance(leader, PostgresStateStore)
        assert leader.epoch == deposed_epoch + 1


def test_a_deposed_store_refuses_every_write_and_the_check(
    postgres_state: str, make_record: RecordFactory, make_intent: IntentFactory
) -> None:
    """In one process too: once another holder took the lease, record and intent writes and
    check_held raise, and the state stays as the new holder left it."""
    with open_state(postgres_state) as deposed:
        assert isinstance(deposed, PostgresStateStore)
        deposed.put_record(make_record())
        before = deposed.snapshot()
        _taken_over_by_another(postgres_state)
        for write in (
            lambda: deposed.put_record(make_record("other")),
            lambda: deposed.delete_record("prod/lobby"),
            lambda: deposed.record_intent(make_intent()),
            deposed.check_held,
        ):
            with pytest.raises(StateLeaseLostError, match=rf"epoch {deposed.epoch + 1} holds it"):
                write()
        assert deposed.snapshot() == before


def test_the_heartbeat_keeps_a_live_holder_s_lease(postgres_state: str) -> None:
    """While a holder lives, its lease is renewed ahead of expiry without any write."""
    with open_state(postgres_state, lease_ttl=_SHORT_TTL):
        first = _lease_expiry(postgres_state)
        deadline = time.monotonic() + _DEADLINE_SECONDS
        while _lease_expiry(postgres_state) == first:
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)


def test_closing_releases_the_lease_at_once_and_the_epoch_only_grows(postgres_state: str) -> None:
    """A clean exit does not make the next holder wait out the TTL; each holder has a new epoch."""
    epochs = []
    for _ in range(3):
        with open_state(postgres_state, lease_ttl=_DEADLINE_SECONDS) as store:
            assert isinstance(store, PostgresStateStore)
            epochs.append(store.epoch)
    assert epochs == sorted(set(epochs))


def _admin(url: str) -> tuple[psycopg.Connection[tuple[object, ...]], str]:
    location = parse_location(url)
    assert isinstance(location, PostgresLocation)
    return psycopg.connect(location.conninfo, autocommit=True), location.schema


def _taken_over_by_another(url: str) -> None:
    """What another reconciler's takeover leaves in the lease row."""
    connection, schema = _admin(url)
    with connection:
        connection.execute(
            f"UPDATE {schema}.lease SET epoch = epoch + 1, holder = 'another', "
            "expires_at = clock_timestamp() + interval '1 hour'"
        )


def _lease_expiry(url: str) -> object:
    connection, schema = _admin(url)
    with connection:
        row = connection.execute(f"SELECT expires_at FROM {schema}.lease").fetchone()
    assert row is not None
    return row[0]
