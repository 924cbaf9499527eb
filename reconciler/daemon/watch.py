"""Batches of changes to the files under one directory, for the daemon's manifest watcher.

On Linux the kernel's inotify queue is read from the event loop itself (asyncinotify), so an
idle daemon sleeps in epoll. watchfiles, the portable way used everywhere else, runs a thread
that looks at its queue and its stop flag every 50 ms: 20 wake-ups a second with nothing to do,
ten times the daemon's whole idle budget.

A batch ends once the directory has been quiet for ``QUIET_MS``, or ``debounce_ms`` after its
first change: an editor's save is several events, and one pass is enough.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import structlog
import watchfiles

if TYPE_CHECKING:
    from asyncinotify import Event, Inotify

Relevant = Callable[[Path], bool]
QUIET_MS: Final = 50

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Watched:
    """What to watch: ``directory``, and its subdirectories too if ``recursive``."""

    directory: Path
    recursive: bool
    relevant: Relevant


async def batches(
    watched: Watched, *, stop: asyncio.Event, debounce_ms: int
) -> AsyncIterator[None]:
    """One item per batch of changes to a relevant path, until ``stop``."""
    try:
        changes = inotify_batches(watched, stop=stop, debounce_ms=debounce_ms)
    except (ImportError, OSError, RuntimeError) as error:
        # No inotify here (not Linux), or none to spare (its instance or watch limit is reached).
        _log.info("watch_polling", path=str(watched.directory), reason=str(error))
        changes = watchfiles_batches(watched, stop=stop, debounce_ms=debounce_ms)
    async for _ in changes:
        yield


def inotify_batches(
    watched: Watched, *, stop: asyncio.Event, debounce_ms: int
) -> AsyncIterator[None]:
    """``batches`` read from inotify. Raises ImportError, OSError or RuntimeError at once, not
    on iteration, where inotify cannot watch."""
    from asyncinotify import Inotify

    inotify = Inotify()
    try:
        tree = _Tree(inotify, watched)
        tree.watch(watched.directory)
    except BaseException:
        inotify.close()
        raise
    return _inotify_batches(inotify, tree, stop=stop, debounce_ms=debounce_ms)


class _Tree:
    """The watches on a directory tree, kept up as directories come and go."""

    def __init__(self, inotify: Inotify, watched: Watched) -> None:
        from asyncinotify import Mask

        self._inotify = inotify
        self._watched = watched
        self._mask = (
            Mask.CREATE
            | Mask.MODIFY
            | Mask.CLOSE_WRITE
            | Mask.MOVED_FROM
            | Mask.MOVED_TO
            | Mask.DELETE
            | Mask.ATTRIB
        )

    def watch(self, top: Path) -> bool:
        """Watch ``top`` (and its tree, if recursive); whether it holds a relevant file already,
        as a directory made or moved in may have been filled before its watch was set."""
        self._inotify.add_watch(top, self._mask)
        if not self._watched.recursive:
            return False
        found = False
        for child in top.iterdir():
            if child.is_dir() and not child.is_symlink():
                found = self.watch(child) or found
            else:
                found = found or self._watched.relevant(child)
        return found

    def follow(self, event: Event) -> bool:
        """Follow ``event`` in the watches; whether it is a change that counts (a lost-events
        overflow counts: anything may have changed)."""
        from asyncinotify import Mask

        if event.path is None:
            return Mask.Q_OVERFLOW in event.mask
        if Mask.ISDIR not in event.mask:
            return self._watched.relevant(event.path)
        if not self._watched.recursive:
            return False
        if event.mask & (Mask.CREATE | Mask.MOVED_TO):
            try:
                return self.watch(event.path)
            except (FileNotFoundError, NotADirectoryError):
                pass  # gone again already
            except OSError as error:
                # Out of watches: what is in it now still counts, later edits there are missed.
                _log.warning("watch_incomplete", path=str(event.path), reason=str(error))
                return True
        elif Mask.MOVED_FROM in event.mask:
            for gone in self._inotify.watches:
                if event.path == gone.path or event.path in gone.path.parents:
                    self._inotify.rm_watch(gone)
        # A directory of manifests moved out or removed brings no event for its files.
        return bool(event.mask & (Mask.MOVED_FROM | Mask.DELETE))


async def _inotify_batches(
    inotify: Inotify, tree: _Tree, *, stop: asyncio.Event, debounce_ms: int
) -> AsyncIterator[None]:
    counts: asyncio.Queue[bool] = asyncio.Queue()

    async def pump() -> None:
        async for event in inotify:
            counts.put_nowait(tree.follow(event))

    loop = asyncio.get_running_loop()
    quiet = min(QUIET_MS, debounce_ms) / 1000
    with inotify:
        reader = asyncio.create_task(pump())
        try:
            while (counted := await _next(counts, reader, stop=stop, within=None)) is not None:
                if not counted:
                    continue
                deadline = loop.time() + debounce_ms / 1000
                while (left := deadline - loop.time()) > 0:
                    if await _next(counts, reader, stop=stop, within=min(quiet, left)) is None:
                        break
                if stop.is_set():
                    return
                yield
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


async def _next(
    counts: asyncio.Queue[bool],
    reader: asyncio.Task[None],
    *,
    stop: asyncio.Event,
    within: float | None,
) -> bool | None:
    """The next queued event's count, or None on ``stop`` or after ``within`` seconds; the
    ``reader``'s failure, should it fail. Safe to give up on: an event that arrives as the wait
    ends stays queued (``Queue.get`` is cancel-safe)."""
    if stop.is_set():
        return None
    getting = asyncio.ensure_future(counts.get())
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait(
        {getting, stopping, reader}, timeout=within, return_when=asyncio.FIRST_COMPLETED
    )
    getting.cancel()
    stopping.cancel()
    if getting in done:
        return getting.result()
    if reader in done:
        reader.result()
    return None


async def watchfiles_batches(
    watched: Watched, *, stop: asyncio.Event, debounce_ms: int
) -> AsyncIterator[None]:
    """``batches`` from watchfiles, which works everywhere, at 20 wake-ups a second."""

    def counts(change: watchfiles.Change, changed: str) -> bool:
        del change
        path = Path(changed)
        # A directory moved in is one event, none for the manifests inside it.
        return watched.relevant(path) or (watched.recursive and path.is_dir())

    async for _changes in watchfiles.awatch(
        watched.directory,
        watch_filter=counts,
        recursive=watched.recursive,
        debounce=debounce_ms,
        stop_event=stop,
    ):
        yield
