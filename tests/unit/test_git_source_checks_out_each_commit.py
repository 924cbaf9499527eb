"""The git source against a real bare repository over file://: one fresh directory per commit,
``current`` switched only to commits that loaded, a pin that holds, failures that are masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_harness import agent
from git_harness import Origin

from reconciler.source import GitCredentials, GitSettings, GitSource, GitSourceError, read_record
from reconciler.source.credentials import mask_url

TOKEN = "ghp_test0123456789abcdefTOKEN"


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return Origin(tmp_path)


def source(origin: Origin, root: Path, **overrides: object) -> GitSource:
    values: dict[str, object] = {"url": origin.url, **overrides}
    return GitSource(GitSettings(**values), root=root)  # type: ignore[arg-type]


async def test_each_commit_gets_its_own_checkout_and_current_follows_good_ones(
    origin: Origin, tmp_path: Path
) -> None:
    """A fetch checks out the ref's commit whole; ``current`` moves only on a good verdict."""
    first = origin.commit_fleet({"a": agent("ch-a")})
    root = tmp_path / "state" / "git"
    git_source = source(origin, root)
    await git_source.fetch()
    checkout = await git_source.current()
    assert checkout is not None
    assert checkout.revision == first
    assert checkout.manifests == root / "checkouts" / first / "fleet"
    assert (checkout.manifests / "fleet.yaml").is_file()
    git_source.verdict(checkout, good=True)
    assert (root / "current").resolve() == root / "checkouts" / first

    second = origin.commit_fleet({"a": agent("ch-a"), "b": agent("ch-b")})
    await git_source.fetch()
    newer = await git_source.current()
    assert newer is not None
    assert newer.revision == second
    assert "ch-b" in (newer.manifests / "fleet.yaml").read_text()
    # The first commit's tree is untouched: a pass reading it never sees the second's files.
    assert "ch-b" not in (checkout.manifests / "fleet.yaml").read_text()
    git_source.verdict(newer, good=False)
    assert (root / "current").resolve() == root / "checkouts" / first
    record = read_record(root / "source.json")
    assert record is not None
    assert (record.revision, record.latest, record.rejected) == (first, second, second)


async def test_only_the_newest_and_the_last_good_checkouts_are_kept(
    origin: Origin, tmp_path: Path
) -> None:
    """Checkouts of commits that are neither the newest nor the last good one are removed."""
    root = tmp_path / "git"
    git_source = source(origin, root)
    commits = []
    for channels in (["a"], ["a", "b"], ["a", "b", "c"]):
        commits.append(
            origin.commit_fleet(
                {c: agent(f"ch-{c}", uid=str(1000 + i)) for i, c in enumerate(channels)}
            )
        )
        await git_source.fetch()
        if len(commits) == 1:
            checkout = await git_source.current()
            assert checkout is not None
            git_source.verdict(checkout, good=True)
    kept = sorted(p.name for p in (root / "checkouts").iterdir())
    assert kept == sorted([commits[0], commits[2]])


async def test_a_pin_holds_the_source_at_its_commit(origin: Origin, tmp_path: Path) -> None:
    """With ``revision`` set, the source hands out that commit however the ref moves."""
    first = origin.commit_fleet({"a": agent("ch-a")})
    origin.commit_fleet({"b": agent("ch-b")})
    git_source = source(origin, tmp_path / "git", revision=first[:10])
    await git_source.fetch()
    checkout = await git_source.current()
    assert checkout is not None
    assert checkout.revision == first
    assert git_source.record().pinned == first[:10]


async def test_an_unknown_pin_or_ref_is_a_clear_error(origin: Origin, tmp_path: Path) -> None:
    """A pin that is not in the repository, or a missing branch, fails the fetch by name."""
    origin.commit_fleet({"a": agent("ch-a")})
    with pytest.raises(GitSourceError, match="pinned revision 0123456789abcdef is not in"):
        await source(origin, tmp_path / "one", revision="0123456789abcdef").fetch()
    with pytest.raises(GitSourceError, match="refs/heads/nope"):
        await source(origin, tmp_path / "two", ref="nope").fetch()


async def test_a_restarted_source_starts_from_the_last_good_checkout(
    origin: Origin, tmp_path: Path
) -> None:
    """Before its first fetch, a new source on the same directory hands out the last good one."""
    first = origin.commit_fleet({"a": agent("ch-a")})
    root = tmp_path / "git"
    git_source = source(origin, root)
    await git_source.fetch()
    checkout = await git_source.current()
    assert checkout is not None
    git_source.verdict(checkout, good=True)
    restarted = source(origin, root)
    again = await restarted.current()
    assert again is not None
    assert (again.revision, again.manifests) == (first, checkout.manifests)


async def test_credentials_never_appear_in_errors(tmp_path: Path) -> None:
    """A token in the URL or given as a credential is masked in what a failed fetch says."""
    credentials = GitCredentials(token=TOKEN)
    settings = GitSettings(
        url=f"https://user:{TOKEN}@127.0.0.1:9/fleet.git", credentials=credentials, timeout=30
    )
    git_source = GitSource(settings, root=tmp_path / "git")
    with pytest.raises(GitSourceError) as raised:
        await git_source.fetch()
    message = str(raised.value)
    assert "127.0.0.1:9" in message
    assert TOKEN not in message
    assert "user:" not in message
    assert TOKEN not in git_source.url
    assert TOKEN not in repr(settings)


def test_the_token_goes_to_git_in_its_environment_only() -> None:
    """The token is an extra header in git's environment configuration, never an argument."""
    env = GitCredentials(token=TOKEN).environment(key_file=None, known_hosts=Path("/k"))
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert env["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ")
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert "StrictHostKeyChecking=accept-new" in env["GIT_SSH_COMMAND"]
    masked = GitCredentials(token=TOKEN).mask(env["GIT_CONFIG_VALUE_0"] + " " + TOKEN)
    assert TOKEN not in masked
    assert env["GIT_CONFIG_VALUE_0"].split()[-1] not in masked
    assert mask_url("ssh://git:pw@host/x and https://h/y") == "ssh://***@host/x and https://h/y"


def test_an_ssh_key_file_and_known_hosts_reach_ssh(tmp_path: Path) -> None:
    """A key file and a known_hosts file make ssh use that key and verify the host strictly."""
    key = tmp_path / "id_ed25519"
    credentials = GitCredentials(ssh_key_file=key, known_hosts=tmp_path / "known")
    command = credentials.environment(key_file=key, known_hosts=tmp_path / "tofu")[
        "GIT_SSH_COMMAND"
    ]
    assert f"-i {key}" in command
    assert "StrictHostKeyChecking=yes" in command
    assert f"UserKnownHostsFile={tmp_path / 'known'}" in command
