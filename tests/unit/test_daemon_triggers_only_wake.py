"""Triggers: the resync timer, the file watcher and the renewal alarm each only call ``wake``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from daemon_harness import ManualClock, settle, until

from reconciler import daemon
from reconciler.daemon import triggers


async def test_the_resync_timer_wakes_every_interval() -> None:
    """apscheduler's jittered interval job calls ``wake`` again and again until stopped."""
    wakes: list[float] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(
        triggers.resync_every(0.02, lambda: wakes.append(loop.time()), stop=stop)
    )
    await until(lambda: len(wakes) >= 3)
    stop.set()
    await task
    count = len(wakes)
    await asyncio.sleep(0.05)
    assert len(wakes) == count, "no wake-up after stop"


async def test_the_watcher_wakes_on_manifest_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new YAML file wakes; a stray text file beside it does not; a relative path works."""
    monkeypatch.chdir(tmp_path)
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    wakes: list[int] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        triggers.watch_manifests(Path("fleet"), lambda: wakes.append(1), stop=stop, debounce_ms=20)
    )
    # The watcher's thread starts when it starts: touch a manifest until it is seen to listen,
    # then let the probe's own events drain until the watcher has been quiet for a while.
    probe = fleet / "probe.yaml"
    async with asyncio.timeout(10):
        while not wakes:
            probe.write_text(f"kind: Agent # {len(wakes)}\n")
            await asyncio.sleep(0.05)
        while wakes:
            wakes.clear()
            await asyncio.sleep(0.3)
    (fleet / "notes.txt").write_text("not a manifest")
    await asyncio.sleep(0.2)
    assert wakes == []
    (fleet / "agents.yaml").write_text("kind: Agent\n")
    await until(lambda: bool(wakes))
    stop.set()
    await asyncio.wait_for(task, timeout=60)


async def test_the_watcher_gives_up_quietly_on_a_missing_directory(tmp_path: Path) -> None:
    """No directory to watch: the watcher returns (resync still runs) instead of failing."""
    await triggers.watch_manifests(
        tmp_path / "nowhere" / "fleet", lambda: None, stop=asyncio.Event()
    )


async def test_the_alarm_wakes_once_at_its_deadline_and_follows_moves() -> None:
    """It wakes at the deadline, not before; moving it later or clearing it is obeyed."""
    clock = ManualClock()
    wakes: list[float] = []
    alarm = triggers.Alarm(lambda: wakes.append(clock.now()), clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(alarm.run(stop=stop))
    alarm.set_at(clock.now() + 10)
    await settle()
    await clock.advance(5)
    alarm.set_at(clock.now() + 10)
    await settle()
    await clock.advance(9)
    assert wakes == []
    await clock.advance(1)
    assert wakes == [clock.now()]
    assert alarm.deadline is None
    alarm.set_at(clock.now() + 5)
    await settle()
    alarm.set_at(None)
    await settle()
    await clock.advance(10)
    assert len(wakes) == 1
    stop.set()
    await asyncio.wait_for(task, timeout=60)


def test_backoff_follows_its_sequence_repeats_the_last_and_resets() -> None:
    """1, 2, 5, then 5 again; after a reset, 1."""
    backoff = triggers.Backoff((1.0, 2.0, 5.0))
    assert [backoff.next_delay() for _ in range(4)] == [1.0, 2.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0
    with pytest.raises(ValueError, match="backoff"):
        triggers.Backoff(())


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("2m", 120.0), ("1h", 3600.0), ("500ms", 0.5), ("0.5s", 0.5), ("45", 45.0)],
)
def test_intervals_read_as_people_write_them(text: str, seconds: float) -> None:
    """``--interval`` takes a number with an optional unit."""
    assert daemon.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "-1s", "30x", "soon"])
def test_intervals_that_make_no_sense_are_refused(text: str) -> None:
    """Zero, negative, unknown units and words are errors, not a busy loop."""
    with pytest.raises(ValueError, match="duration"):
        daemon.parse_duration(text)


@pytest.mark.parametrize("steps", range(12))
async def test_the_alarm_rings_at_its_deadline_whenever_the_clock_moves(steps: int) -> None:
    """However many loop steps pass between setting the alarm and the clock moving, it rings at
    its deadline: a sleep counts from when it is asked for, not from when its task first runs."""
    clock = ManualClock(1000.0)
    wakes: list[float] = []
    alarm = triggers.Alarm(lambda: wakes.append(clock.now()), clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(alarm.run(stop=stop))
    await settle()
    alarm.set_at(2000.0)
    for _ in range(steps):
        await asyncio.sleep(0)
    await clock.advance(999)
    assert wakes == []
    await clock.advance(1)
    await settle()
    assert wakes == [2000.0]
    stop.set()
    await task
