"""Group commit: the state writes of concurrent steps made durable together, off the event loop.

Each step of apply still waits until its own write is durable before it goes on (an intent
before its call, an outcome before its result), so crash safety is exactly that of one
transaction per write. What changes is the cost: the writes that arrive while a commit is on
disk wait for the next one and share it, so a wave of 50 joins pays a handful of flushes to
disk instead of 100, and the event loop keeps sending requests while SQLite syncs, since the
commit runs in a worker thread. This module decides only when writes go to the store, never
what they are.
"""

from __future__ import annotations

import asyncio

from reconciler.state import StateStore
from reconciler.state.store import Mutation


class GroupCommitter:
    """Hands the store every mutation waiting at once, in arrival order, as one group.

    One group is in flight at a time; a mutation that fails (say, an unknown intent) fails only
    its own caller, and an error of the store itself fails every caller of that group.
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._waiting: list[tuple[Mutation, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def commit(self, mutation: Mutation) -> None:
        """Return once ``mutation`` is committed; raise what the store raised for it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((mutation, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def drain(self) -> None:
        """Return once no group is being written; the writes of cancelled callers stand too."""
        if self._flusher is not None:
            await self._flusher

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            failures: list[BaseException | None]
            try:
                failures = list(
                    await asyncio.to_thread(self._store.commit_group, [m for m, _ in group])
                )
            except Exception as exc:  # the store itself failed: nothing of the group landed
                failures = [exc] * len(group)
            for (_, done), failure in zip(group, failures, strict=True):
                if done.done():  # its caller was cancelled; the write stands regardless
                    continue
                if failure is None:
                    done.set_result(None)
                else:
                    done.set_exception(failure)
