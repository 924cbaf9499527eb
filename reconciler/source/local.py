"""What every source hands the daemon (``Checkout``, the ``Source`` protocol), and the local one.

``LocalSource`` is the manifests directory as it stands, watched for edits, its revision the
``HEAD`` of the git checkout it may sit in (``head_revision``, which ``reconciler apply`` uses
too). Its ``verdict`` has nothing to do: an edited file is fixed by the next edit.

Nothing here loads manifests or decides when a pass runs.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reconciler.source.record import SourceRecord


@dataclass(frozen=True)
class Checkout:
    """The manifests of one revision: where they are on disk, and the commit they come from."""

    manifests: Path
    revision: str | None


class Source(Protocol):
    """Where a daemon's passes read their manifests.

    ``watch`` is a directory to watch for edits (None: nothing to watch); ``fetch_interval``
    how often to ``fetch`` (None: never). ``current`` is the newest checkout (None before the
    first fetch succeeded); ``verdict`` says whether its manifests loaded, so that a git source
    keeps the last good one, which ``last_good`` hands out (None: there is none, or no such
    thing); ``record`` is what ``status`` should show (None: nothing).
    """

    @property
    def watch(self) -> Path | None: ...

    @property
    def fetch_interval(self) -> float | None: ...

    async def fetch(self) -> None: ...

    async def current(self) -> Checkout | None: ...

    def verdict(self, checkout: Checkout, *, good: bool) -> None: ...

    def last_good(self) -> Checkout | None: ...

    def record(self) -> SourceRecord | None: ...


class LocalSource:
    """A directory (or file) of manifests on disk, edited in place."""

    def __init__(self, manifests: Path) -> None:
        self._manifests = manifests

    @property
    def watch(self) -> Path | None:
        return self._manifests

    @property
    def fetch_interval(self) -> float | None:
        return None

    async def fetch(self) -> None:
        """Nothing to fetch: the watcher sees edits."""

    async def current(self) -> Checkout:
        # git runs in a thread: a pass must not hold the event loop (and the health server) up.
        revision = await asyncio.to_thread(head_revision, self._manifests)
        return Checkout(manifests=self._manifests, revision=revision)

    def verdict(self, checkout: Checkout, *, good: bool) -> None:
        """Nothing to keep: the files are what they are."""
        del checkout, good

    def last_good(self) -> None:
        """An edited directory has no earlier version to go back to."""

    def record(self) -> None:
        return None


def head_revision(path: Path) -> str | None:
    """The commit the manifests are at, when they are in a git checkout."""
    directory = path if path.is_dir() else path.parent
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and revision else None
