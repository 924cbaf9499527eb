"""Real passes from a real git repository: each commit's revision is recorded and exported, and
a commit whose manifests fail to load is reported by its SHA while the last good one stays."""

from __future__ import annotations

import time
from pathlib import Path

from apply_harness import World, agent
from daemon_harness import ManualClock, eventually, one_pass, real_daemon, running, until
from git_harness import Origin
from structlog.testing import capture_logs

from reconciler import daemon
from reconciler.source import GitSettings, GitSource
from reconciler.state import MemoryStateStore


def _revision(the_daemon: daemon.Daemon, revision: str, *, pinned: bool = False) -> float | None:
    labels = {"revision": revision, "ref": "main", "pinned": str(pinned).lower()}
    return the_daemon.metrics.registry.get_sample_value("reconciler_source_info", labels)


async def test_commits_apply_with_their_revision_and_a_broken_one_keeps_the_last_good(
    tmp_path: Path,
) -> None:
    """Records carry the commit they were applied from; a broken commit deletes nothing."""
    world = World(tmp_path)
    origin = Origin(tmp_path / "repo")
    first = origin.commit_fleet({"a": agent("ch-a")})
    store = MemoryStateStore()
    source = GitSource(GitSettings(url=origin.url, interval=3600), root=tmp_path / "git")
    the_daemon = real_daemon(world, store=store, clock=ManualClock(time.time()), source=source)
    with capture_logs() as events:
        async with running(the_daemon):
            await until(the_daemon.ready)
            assert [r.git_revision for r in store.snapshot().records.values()] == [first]
            assert _revision(the_daemon, first) == 1

            second = origin.commit_fleet({"a": agent("ch-a"), "b": agent("ch-b")})
            the_daemon.fetch_soon()

            async def both_live() -> bool:
                return sorted(a["channel"] for a in await world.live()) == ["ch-a", "ch-b"]

            await eventually(both_live)
            await until(lambda: _revision(the_daemon, second) == 1)
            assert _revision(the_daemon, first) is None
            # The agent is live once its join answers; its record lands with the pass's commit.
            await until(lambda: "demo/b" in store.snapshot().records)
            assert store.snapshot().records["demo/b"].git_revision == second

            broken = origin.commit_file("fleet/fleet.yaml", "kind: Agent\nspec: [\n")
            the_daemon.fetch_soon()
            await until(lambda: any(e["event"] == "manifests_invalid" for e in events))
            await one_pass(the_daemon)
            assert sorted(a["channel"] for a in await world.live()) == ["ch-a", "ch-b"]
            assert _revision(the_daemon, second) == 1
    invalid = next(e for e in events if e["event"] == "manifests_invalid")
    assert invalid["commit"] == broken
    assert invalid["kept_revision"] == second
    assert invalid["diagnostics"]
    assert (tmp_path / "git" / "current").resolve().name == second
    assert the_daemon.metrics.registry.get_sample_value("reconciler_manifests_valid") == 0


async def test_a_first_fetch_that_fails_is_retried_along_the_backoff(tmp_path: Path) -> None:
    """Until the repository answers there is nothing to pass with: the pass fails and retries."""
    world = World(tmp_path)
    missing = (tmp_path / "not-yet.git").as_uri()
    source = GitSource(GitSettings(url=missing, interval=3600), root=tmp_path / "git")
    clock = ManualClock(time.time())
    the_daemon = real_daemon(world, store=MemoryStateStore(), clock=clock, source=source)
    async with running(the_daemon):
        errors = "reconciler_source_fetches_total"
        registry = the_daemon.metrics.registry
        await until(lambda: registry.get_sample_value(errors, {"result": "error"}) == 1)
        origin = Origin(tmp_path / "repo")
        origin.commit_fleet({"a": agent("ch-a")})
        (tmp_path / "repo" / "origin.git").rename(tmp_path / "not-yet.git")
        await until(lambda: clock.deadlines() != [])
        await clock.advance(clock.deadlines()[0])
        await until(the_daemon.ready)
    assert [a["channel"] for a in await world.live()] == ["ch-a"]


async def test_a_daemon_restarted_onto_a_broken_commit_goes_on_with_the_last_good_one(
    tmp_path: Path,
) -> None:
    """The last good checkout survives the restart; the broken head is reported, not applied."""
    world = World(tmp_path)
    origin = Origin(tmp_path / "repo")
    good = origin.commit_fleet({"a": agent("ch-a")})
    settings = GitSettings(url=origin.url, interval=3600)
    before = GitSource(settings, root=tmp_path / "git")
    await before.fetch()
    checkout = await before.current()
    assert checkout is not None
    before.verdict(checkout, good=True)
    broken = origin.commit_file("fleet/fleet.yaml", "kind: Agent\nspec: [\n")

    store = MemoryStateStore()
    source = GitSource(settings, root=tmp_path / "git")
    the_daemon = real_daemon(world, store=store, clock=ManualClock(time.time()), source=source)
    with capture_logs() as events:
        async with running(the_daemon):
            await until(the_daemon.ready)
    invalid = next(e for e in events if e["event"] == "manifests_invalid")
    assert (invalid["commit"], invalid["kept_revision"]) == (broken, good)
    assert [r.git_revision for r in store.snapshot().records.values()] == [good]
    assert [a["channel"] for a in await world.live()] == ["ch-a"]
