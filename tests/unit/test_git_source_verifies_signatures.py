"""``--git-verify-signatures``: only commits SSH-signed by an allowed key deploy.

Real keys (``ssh-keygen``), real signed commits in a real repository over ``file://``, real
``git verify-commit``. A commit that fails is never checked out; the one in hand stays, the
daemon logs and notifies ``revision_unverified`` once, and ``/readyz`` and ``status`` say why.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from apply_harness import World, agent
from daemon_harness import ManualClock, one_pass, real_daemon, running, until
from git_harness import Origin, allowed_signers, signing_key
from receiver_harness import receiving
from structlog.testing import capture_logs

from reconciler.daemon import health
from reconciler.notify import Notifier, parse_target
from reconciler.render.status import source_text
from reconciler.source import GitSettings, GitSource, UnverifiedRevisionError, read_record
from reconciler.state import MemoryStateStore


def _source(origin: Origin, root: Path, *, allowed: Path | None) -> GitSource:
    settings = GitSettings(url=origin.url, interval=3600, allowed_signers=allowed)
    return GitSource(settings, root=root)


async def test_only_commits_signed_by_an_allowed_key_are_checked_out(tmp_path: Path) -> None:
    """Unsigned, or signed by a stranger: refused, not checked out, the signed one kept."""
    keys = tmp_path / "keys"
    ours, stranger = signing_key(keys, "ours"), signing_key(keys, "stranger")
    allowed = allowed_signers(keys / "allowed_signers", ours)
    origin = Origin(tmp_path / "repo")
    signed = origin.commit_fleet({"a": agent("ch-a")}, sign=ours)
    source = _source(origin, tmp_path / "git", allowed=allowed)
    await source.fetch()
    assert (await source.current()).revision == signed  # type: ignore[union-attr]

    for sign, why in [
        (None, "it is not signed"),
        (stranger, "its signing key is not in the allowed signers file"),
    ]:
        commit = origin.commit_fleet({"b": agent("ch-b")}, sign=sign)
        with pytest.raises(UnverifiedRevisionError) as refused:
            await source.fetch()
        assert (refused.value.commit, refused.value.reason) == (commit, why)
        assert (await source.current()).revision == signed  # type: ignore[union-attr]
        assert not (tmp_path / "git" / "checkouts" / commit).exists()
        record = read_record(tmp_path / "git" / "source.json")
        assert record is not None
        assert (record.unverified, record.unverified_reason) == (commit, why)

    again = origin.commit_fleet({"d": agent("ch-d")}, sign=ours)
    await source.fetch()
    assert (await source.current()).revision == again  # type: ignore[union-attr]
    assert source.record().unverified is None


async def test_a_checkout_from_before_the_flag_must_verify_too(tmp_path: Path) -> None:
    """A restart with the flag onto an unsigned checkout in hand hands out nothing."""
    keys = tmp_path / "keys"
    allowed = allowed_signers(keys / "allowed_signers", signing_key(keys, "ours"))
    origin = Origin(tmp_path / "repo")
    unsigned = origin.commit_fleet({"a": agent("ch-a")})
    before = _source(origin, tmp_path / "git", allowed=None)
    await before.fetch()
    before.verdict((await before.current()), good=True)  # type: ignore[arg-type]
    after = _source(origin, tmp_path / "git", allowed=allowed)
    assert (await after.current()).revision == unsigned  # type: ignore[union-attr]
    with pytest.raises(UnverifiedRevisionError):
        await after.fetch()
    assert await after.current() is None
    assert after.last_good() is None


async def test_the_daemon_holds_the_signed_revision_and_says_why(tmp_path: Path) -> None:
    """An unsigned push adds nothing; one log event and one notification name it; /readyz
    stays ready (the fleet in force is served) and says why; status shows it."""
    keys = tmp_path / "keys"
    ours = signing_key(keys, "ours")
    allowed = allowed_signers(keys / "allowed_signers", ours)
    world = World(tmp_path)
    origin = Origin(tmp_path / "repo")
    signed = origin.commit_fleet({"a": agent("ch-a")}, sign=ours)
    source = _source(origin, tmp_path / "git", allowed=allowed)
    sock = health.bind(health.Address("127.0.0.1", 0))
    with receiving() as receiver, capture_logs() as events:
        notifier = Notifier([parse_target(receiver.url)])
        the_daemon = real_daemon(
            world,
            store=MemoryStateStore(),
            clock=ManualClock(time.time()),
            source=source,
            notifier=notifier,
        )
        try:
            async with running(the_daemon, sock=sock):
                await until(the_daemon.ready)
                unsigned = origin.commit_fleet({"a": agent("ch-a"), "b": agent("ch-b")})
                the_daemon.fetch_soon()
                await until(lambda: any(e["event"] == "revision_unverified" for e in events))
                the_daemon.fetch_soon()
                await one_pass(the_daemon)
                assert [a["channel"] for a in await world.live()] == ["ch-a"]
                async with httpx.AsyncClient(base_url=health.url_of(sock)) as http:
                    answer = await http.get("/readyz")
                await until(lambda: "revision_unverified" in [b["event"] for b in receiver.bodies])
        finally:
            sock.close()
    assert answer.status_code == 200
    assert answer.json() == {
        "ready": True,
        "why": f"commit {unsigned} of main is not deployed: it is not signed; "
        f"{signed} stays in force",
    }
    (logged,) = [e for e in events if e["event"] == "revision_unverified"]
    assert (logged["commit"], logged["kept_revision"]) == (unsigned, signed)
    (notified,) = [b for b in receiver.bodies if b["event"] == "revision_unverified"]
    assert notified["revision"] == unsigned
    assert notified["details"]["kept_revision"] == signed
    fetches = {"result": "unverified"}
    count = the_daemon.metrics.registry.get_sample_value("reconciler_source_fetches_total", fetches)
    assert count == 2
    record = read_record(tmp_path / "git" / "source.json")
    assert record is not None
    assert f"  newest commit {unsigned} not deployed: it is not signed" in source_text(record)


def test_the_flag_names_the_allowed_signers_file(tmp_path: Path) -> None:
    """``--git-verify-signatures FILE`` reaches the source as an absolute path."""
    from reconciler.cli import gitflags

    allowed = tmp_path / "allowed_signers"
    allowed.write_text("")
    common = {
        "ref": "main",
        "path": "fleet",
        "interval": "1m",
        "revision": None,
        "token_file": None,
        "ssh_key_file": None,
        "known_hosts": None,
    }
    url = "https://example.com/fleet.git"
    settings = gitflags.git_settings(url, **common, allowed_signers=allowed)  # type: ignore[arg-type]
    assert settings is not None
    assert settings.allowed_signers == allowed.resolve()
    unsigned = gitflags.git_settings(url, **common)  # type: ignore[arg-type]
    assert unsigned is not None
    assert unsigned.allowed_signers is None
