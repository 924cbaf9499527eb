"""The manifest watcher read from inotify and from watchfiles: the same changes make a batch.

inotify is what runs on Linux; watchfiles is what runs elsewhere, or where inotify's limits are
reached, so both are held to the same changes an editor, ``git checkout`` or ``mv`` make.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from daemon_harness import until

from reconciler.daemon import watch

Way = Callable[..., AsyncIterator[None]]
WAYS: dict[str, Way] = {
    "inotify": watch.inotify_batches,
    "watchfiles": watch.watchfiles_batches,
    "either": watch.batches,
}


def _yaml(path: Path) -> bool:
    return path.suffix == ".yaml"


@asynccontextmanager
async def batches_seen(way: Way, watched: watch.Watched) -> AsyncIterator[list[None]]:
    """The batches ``way`` reports while the block runs, once it is seen to listen."""
    seen: list[None] = []
    stop = asyncio.Event()

    async def collect() -> None:
        async for batch in way(watched, stop=stop, debounce_ms=20):
            seen.append(batch)

    task = asyncio.create_task(collect())
    # watchfiles' thread starts when it starts: touch a probe until a batch shows it listens.
    probe = watched.directory / "probe.yaml"
    async with asyncio.timeout(30):
        while not seen:
            probe.write_text(f"# {len(seen)}\n")
            await asyncio.sleep(0.05)
    probe.unlink()
    await until(lambda: len(seen) >= 2)
    try:
        yield seen
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)


async def _makes_a_batch(seen: list[None], change: Callable[[], object]) -> None:
    before = len(seen)
    change()
    await until(lambda: len(seen) > before)


@pytest.mark.parametrize("way", sorted(WAYS))
async def test_edits_saves_new_directories_and_moves_each_make_a_batch(
    way: str, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "agents.yaml").write_text("a: 1\n")
    outside = tmp_path / "incoming"
    outside.mkdir()
    (outside / "more.yaml").write_text("b: 1\n")
    watched = watch.Watched(fleet, recursive=True, relevant=_yaml)
    async with batches_seen(WAYS[way], watched) as seen:
        await _makes_a_batch(seen, lambda: (fleet / "agents.yaml").write_text("a: 2\n"))
        # An editor's save: a new file renamed over the old one.
        (fleet / ".agents.tmp").write_text("a: 3\n")
        await _makes_a_batch(seen, lambda: os.replace(fleet / ".agents.tmp", fleet / "agents.yaml"))
        # A directory made after the watch began is watched too.
        (fleet / "team").mkdir()
        await _makes_a_batch(seen, lambda: (fleet / "team" / "x.yaml").write_text("x: 1\n"))
        await _makes_a_batch(seen, lambda: (fleet / "team" / "x.yaml").write_text("x: 2\n"))
        # A directory of manifests moved in brings no event for its files.
        await _makes_a_batch(seen, lambda: outside.rename(fleet / "incoming"))
        await _makes_a_batch(seen, lambda: (fleet / "incoming" / "more.yaml").unlink())


async def test_without_inotify_the_watcher_falls_back_to_watchfiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """inotify's watch limit reached (ENOSPC) is not the end of watching."""

    def no_watches_left(*_: object, **__: object) -> AsyncIterator[None]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(watch, "inotify_batches", no_watches_left)
    watched = watch.Watched(tmp_path, recursive=True, relevant=_yaml)
    async with batches_seen(watch.batches, watched) as seen:
        await _makes_a_batch(seen, lambda: (tmp_path / "agents.yaml").write_text("a: 1\n"))


async def test_a_single_file_is_watched_without_its_neighbours_subdirectories(
    tmp_path: Path,
) -> None:
    """A manifest file's directory is watched alone: no watch is set on its subdirectories."""
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "deep").mkdir()
    target = tmp_path / "fleet.yaml"
    watched = watch.Watched(
        tmp_path, recursive=False, relevant=lambda p: p in (target, tmp_path / "probe.yaml")
    )
    async with batches_seen(watch.inotify_batches, watched) as seen:
        await _makes_a_batch(seen, lambda: target.write_text("a: 1\n"))


async def test_a_failing_inotify_reader_is_raised_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should reading inotify fail, the watcher fails with it, rather than wait for ever."""

    def broken(*_: object) -> bool:
        raise RuntimeError("broken reader")

    monkeypatch.setattr(watch._Tree, "follow", broken)
    watched = watch.Watched(tmp_path, recursive=True, relevant=_yaml)
    batches = watch.inotify_batches(watched, stop=asyncio.Event(), debounce_ms=20)
    (tmp_path / "agents.yaml").write_text("a: 1\n")
    with pytest.raises(RuntimeError, match="broken reader"):
        async with asyncio.timeout(30):
            await anext(batches)
