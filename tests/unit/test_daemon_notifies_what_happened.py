"""The daemon tells a real local receiver what happened: a new revision and a rejected commit
(naming it), a failing pass once and its recovery, the quota, and a plan held back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from apply_harness import World, agent, write_fleet
from daemon_harness import ManualClock, one_pass, real_daemon, running, until
from git_harness import Origin
from receiver_harness import Receiver, receiving

from reconciler import daemon, logs
from reconciler.daemon.alerts import Alerts
from reconciler.daemon.flap import Held
from reconciler.emulator import EmulatorConfig
from reconciler.notify import Event, EventKind, Notifier, parse_target
from reconciler.source import GitSettings, GitSource
from reconciler.state import MemoryStateStore


def _daemon(
    world: World, receiver: Receiver, *, clock: ManualClock, source: GitSource | None = None
) -> daemon.Daemon:
    """A real daemon on ``world`` that notifies ``receiver`` of every kind of event."""
    notifier = Notifier([parse_target(receiver.url)])
    return real_daemon(
        world, store=MemoryStateStore(), clock=clock, source=source, notifier=notifier
    )


def _told(receiver: Receiver, kind: str) -> list[dict[str, Any]]:
    return [body for body in receiver.bodies if body["event"] == kind]


async def test_a_new_revision_and_a_broken_commit_are_told_by_their_sha(tmp_path: Path) -> None:
    """The first revision is not news; the next is; a broken one is named with its diagnostics."""
    world = World(tmp_path)
    origin = Origin(tmp_path / "repo")
    first = origin.commit_fleet({"a": agent("ch-a")})
    source = GitSource(GitSettings(url=origin.url, interval=3600), root=tmp_path / "git")
    with receiving() as receiver:
        the_daemon = _daemon(world, receiver, clock=ManualClock(time.time()), source=source)
        async with running(the_daemon):
            await until(the_daemon.ready)
            second = origin.commit_fleet({"a": agent("ch-a"), "b": agent("ch-b")})
            the_daemon.fetch_soon()
            await until(lambda: bool(_told(receiver, "revision_applied")))
            broken = origin.commit_file("fleet/fleet.yaml", "kind: Agent\nspec: [\n")
            the_daemon.fetch_soon()
            await until(lambda: bool(_told(receiver, "revision_rejected")))
    (applied,) = _told(receiver, "revision_applied")
    assert applied["revision"] == second
    assert applied["details"]["previous"] == first
    assert applied["agents"] == ["demo/b"]
    (rejected,) = _told(receiver, "revision_rejected")
    assert rejected["revision"] == broken
    assert rejected["details"]["kept_revision"] == second
    assert broken in rejected["summary"]
    assert rejected["details"]["diagnostics"]
    assert not _told(receiver, "pass_failed")


async def test_the_quota_and_a_failing_pass_are_told_once_then_the_recovery(
    tmp_path: Path,
) -> None:
    """A 422 tells quota_reached and pass_failed once, however often it repeats; healing tells
    pass_recovered."""
    world = World(tmp_path, config=EmulatorConfig(stopping_seconds=0, quota=1))
    write_fleet(world.fleet, {"a": agent("ch-a"), "b": agent("ch-b")})
    clock = ManualClock(time.time())
    with receiving() as receiver:
        the_daemon = _daemon(world, receiver, clock=clock)
        async with running(the_daemon):
            await until(lambda: bool(_told(receiver, "quota_reached")))
            await until(lambda: clock.deadlines() != [])
            await clock.advance(clock.deadlines()[0])
            await until(lambda: clock.deadlines() != [])
            write_fleet(world.fleet, {"a": agent("ch-a")})
            await clock.advance(clock.deadlines()[0])
            await until(lambda: bool(_told(receiver, "pass_recovered")))
    (quota,) = _told(receiver, "quota_reached")
    assert quota["projects"] == ["demo"]
    assert quota["agents"] == ["demo/b"]
    (failed,) = _told(receiver, "pass_failed")
    assert failed["agents"] == ["demo/b"]
    assert "demo/b" in failed["summary"]


async def test_a_refused_plan_is_told_as_held_back_not_as_a_failure(tmp_path: Path) -> None:
    """Removing every agent is refused by the mass-delete rule: plan_held_back, once."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("ch-a"), "b": agent("ch-b")})
    clock = ManualClock(time.time())
    with receiving() as receiver:
        the_daemon = _daemon(world, receiver, clock=clock)
        async with running(the_daemon):
            await until(the_daemon.ready)
            write_fleet(world.fleet, {})
            await until(lambda: bool(_told(receiver, "plan_held_back")))
            # A hold is not a failure (no backoff); the next pass holds alike, and is untold.
            await one_pass(the_daemon)
    (held,) = _told(receiver, "plan_held_back")
    assert held["details"]["refusals"]
    assert not _told(receiver, "pass_failed")


def test_a_flapping_agent_is_told_when_its_hold_starts_and_secrets_are_masked() -> None:
    """Held again the next pass is not news; held after a release is; texts pass the masker."""
    sent: list[Event] = []
    alerts = Alerts(sent.append, clock=ManualClock())
    alerts.in_force("abc123")
    hold = Held(key="demo/a", until=1.0, strikes=1, recreates=3)
    alerts.held([hold])
    alerts.held([hold])
    alerts.held([])
    alerts.held([hold])
    assert [(e.kind, e.agents, e.projects, e.revision) for e in sent] == [
        (EventKind.AGENT_FLAPPING, ("demo/a",), ("demo",), "abc123")
    ] * 2
    logs.register_secret("sk-live-never-shown-0123")
    alerts.pass_finished(error="upstream said sk-live-never-shown-0123", ran=None)
    assert "sk-live-never-shown-0123" not in sent[-1].summary
