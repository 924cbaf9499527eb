"""``reconciler run --git`` as a real process: it applies the commits of a real repository, a
signed push webhook fetches at once, a bad signature wakes nothing, and a pin holds the fleet."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_e2e_harness import cli, harness
from daemon_e2e_harness import Daemon, Emulator, git_harness, wait_until

from reconciler.emulator import EmulatorConfig, running_server

SECRET = "push-webhook-secret-for-tests"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with running_server(EmulatorConfig(stopping_seconds=0)) as url:
        yield Emulator(url)


def _daemon(cwd: Path, origin: object, emulator: Emulator, *args: str) -> Daemon:
    cwd.mkdir()
    return Daemon(
        cwd,
        api_url=emulator.url,
        interval="10m",
        args=("--git", origin.url, "--git-interval", "10m", *args),  # type: ignore[attr-defined]
        extra_env={"RECONCILER_GIT_WEBHOOK_SECRET": SECRET},
    )


def _webhook(url: str, payload: dict[str, str], *, signature: str | None) -> httpx.Response:
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    body = json.dumps(payload).encode()
    return httpx.post(f"{url}/webhooks/github", content=body, headers=headers, timeout=10)


def _signed(payload: dict[str, str]) -> str:
    body = json.dumps(payload).encode()
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _status(cwd: Path, emulator: Emulator, *args: str) -> str:
    ran = cli("status", "--state", "state.db", *args, url=emulator.url, cwd=cwd)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def test_a_signed_push_applies_the_new_commit_and_a_bad_signature_wakes_nothing(
    tmp_path: Path, emulator: Emulator
) -> None:
    """With a 10-minute interval, only the webhook can bring the pushed agent in promptly."""
    origin = git_harness.Origin(tmp_path / "repo")
    first = origin.commit_fleet({"a": harness.agent("ch-a")})
    cwd = tmp_path / "daemon"
    daemon = _daemon(cwd, origin, emulator)
    try:
        assert daemon.wait_for("pass_finished")["revision"] == first
        wait_until(lambda: emulator.channels() == ["ch-a"], what="agent a", daemon=daemon)
        url = daemon.url
        metric = f'reconciler_source_info{{pinned="false",ref="main",revision="{first}"}} 1.0'
        assert metric in httpx.get(f"{url}/metrics", timeout=10).text

        second = origin.commit_fleet({"a": harness.agent("ch-a"), "b": harness.agent("ch-b")})
        push = {"ref": "refs/heads/main", "after": second}
        assert _webhook(url, push, signature="sha256=" + "0" * 64).status_code == 401
        assert _webhook(url, push, signature=None).status_code == 401
        # A pass woken after the refusals fetches only if a refusal asked for a fetch.
        daemon.send(signal.SIGHUP)
        woken = len(daemon.lines)
        wait_until(
            lambda: any('"pass_finished"' in line for line in daemon.lines[woken:]),
            what="the pass SIGHUP asked for",
            daemon=daemon,
        )
        assert len(daemon.named("git_fetched")) == 1
        assert emulator.channels() == ["ch-a"]

        other = {"ref": "refs/heads/elsewhere", "after": second}
        ignored = _webhook(url, other, signature=_signed(other))
        assert (ignored.status_code, ignored.json()["status"]) == (200, "ignored")
        accepted = _webhook(url, push, signature=_signed(push))
        assert accepted.status_code == 202
        wait_until(
            lambda: emulator.channels() == ["ch-a", "ch-b"], what="pushed agent b", daemon=daemon
        )
        document = json.loads(_status(cwd, emulator, "-o", "json"))
        assert document["source"]["revision"] == second
        assert {row["key"] for row in document["agents"]} == {"demo/a", "demo/b"}
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.close()
    assert SECRET not in daemon.log()
    assert "Traceback" not in daemon.log()


def test_a_pin_holds_the_fleet_at_its_commit_and_status_shows_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    """``--git-revision`` applies that commit though the branch has moved on."""
    origin = git_harness.Origin(tmp_path / "repo")
    first = origin.commit_fleet({"a": harness.agent("ch-a")})
    origin.commit_fleet({"a": harness.agent("ch-a"), "b": harness.agent("ch-b")})
    cwd = tmp_path / "daemon"
    daemon = _daemon(cwd, origin, emulator, "--git-revision", first)
    try:
        wait_until(lambda: daemon.named("pass_finished"), what="a pass", daemon=daemon)
        assert emulator.channels() == ["ch-a"]
        text = _status(cwd, emulator)
        assert f"main at {first}" in text
        assert f"pinned to {first} by --git-revision" in text
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.close()


def test_on_a_shared_state_the_checkout_lives_where_git_dir_says(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    """A PostgreSQL state has no file to keep the clone beside: ``RECONCILER_GIT_DIR`` places it,
    and ``status --git-dir`` finds the source there."""
    origin = git_harness.Origin(tmp_path / "repo")
    first = origin.commit_fleet({"a": harness.agent("ch-a")})
    cwd = tmp_path / "daemon"
    cwd.mkdir()
    state = f"{postgres_url}?schema=gitdir_{first[:8]}"
    daemon = Daemon(
        cwd,
        api_url=emulator.url,
        interval="10m",
        state=state,
        args=("--git", origin.url, "--git-interval", "10m"),
        extra_env={"RECONCILER_GIT_DIR": "clones"},
    )
    try:
        wait_until(lambda: emulator.channels() == ["ch-a"], what="agent a", daemon=daemon)
        assert (cwd / "clones" / "source.json").is_file()
        assert not (cwd / ".reconciler" / "git").exists()
        ran = cli("status", "--state", state, "--git-dir", "clones", url=emulator.url, cwd=cwd)
        assert ran.returncode == 0, ran.stderr
        assert f"main at {first}" in ran.stdout
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.close()
