"""One reconciler per state: a second one fails at once, naming the holder; death frees the lock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from reconciler.errors import StateLockedError
from reconciler.state import open_state

_HOLDER = """
import sys
from pathlib import Path
from reconciler.state import open_state
store = open_state(Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.read()
store.close()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the state at ``tmp_path/state.db`` until told or killed."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "state.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "held\n"
        yield process
        if process.poll() is None:
            process.kill()


def test_a_second_process_is_told_who_holds_the_lock(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """Opening a held state raises at once with the holder's pid, host and start time."""
    with pytest.raises(StateLockedError) as caught:
        open_state(tmp_path / "state.db")
    error = caught.value
    assert (error.pid, error.host) == (holder.pid, socket.gethostname())
    assert datetime.fromisoformat(error.since).tzinfo is not None
    assert str(error) == (
        f"state is locked by pid {holder.pid} on host {socket.gethostname()} since {error.since}"
    )


def test_kill_9_of_the_holder_frees_the_lock(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    """The kernel drops the lock with its holder, so a crash never leaves a stale lock."""
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with open_state(tmp_path / "state.db") as store:
        assert store.snapshot().serial == 0


def test_closing_the_holder_frees_the_lock(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    """A holder that closes its store hands the state on."""
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait() == 0
    with open_state(tmp_path / "state.db") as store:
        assert store.snapshot().serial == 0


def test_a_second_open_in_the_same_process_is_refused(tmp_path: Path) -> None:
    """Even this process cannot open its own state twice; closing the first allows it again."""
    path = tmp_path / "state.db"
    first = open_state(path)
    with pytest.raises(StateLockedError, match=f"locked by pid {os.getpid()} on host"):
        open_state(path)
    first.close()
    open_state(path).close()
