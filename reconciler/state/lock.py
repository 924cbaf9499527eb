"""The exclusive OS lock that keeps two reconcilers from acting on one state.

It takes ``flock(LOCK_EX | LOCK_NB)`` on a lock file beside the state and writes who holds it, so
a second reconciler fails at once with ``StateLockedError`` naming the holder instead of waiting.
The kernel drops the lock when the holder dies, even by ``kill -9``, so no lock is ever stale.
It must not touch the state itself, and it never deletes the lock file: unlinking a file that
another process has open would let two processes lock two different files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from reconciler.errors import StateError, StateLockedError

_HOLDER_READ_ATTEMPTS: Final = 20
_HOLDER_READ_PAUSE_SECONDS: Final = 0.005


def lock_path_for(state_path: Path) -> Path:
    """``state.db`` is locked through ``state.db.lock`` beside the file it resolves to.

    Resolving symlinks first makes every path to one state share one lock; the lock string of
    the path alone would let two reconcilers in through two names at once.
    """
    resolved = state_path.resolve()
    return resolved.with_name(f"{resolved.name}.lock")


class StateLock:
    """A held lock; ``release`` is idempotent and process death releases it too."""

    def __init__(self, *, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        """Clear the holder note and unlock; the file stays for the next holder."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)


def acquire(lock_path: Path) -> StateLock:
    """Take the lock now or raise ``StateLockedError`` with the holder's pid, host and time."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"cannot open lock file {lock_path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise _locked_by_holder(lock_path) from None
    except OSError as exc:
        os.close(fd)
        raise StateError(f"cannot lock {lock_path}: {exc.strerror}") from exc
    note = json.dumps(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    ).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, note, 0)
    return StateLock(fd=fd)


def _locked_by_holder(lock_path: Path) -> StateLockedError:
    """Read the holder's note; it may be a moment behind the lock, so look a few times."""
    for attempt in range(_HOLDER_READ_ATTEMPTS):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            note = json.loads(lock_path.read_text(encoding="utf-8"))
            return StateLockedError(
                pid=int(note["pid"]), host=str(note["host"]), since=str(note["since"])
            )
        if attempt + 1 < _HOLDER_READ_ATTEMPTS:
            time.sleep(_HOLDER_READ_PAUSE_SECONDS)
    return StateLockedError(pid=0, host="unknown", since="unknown")
