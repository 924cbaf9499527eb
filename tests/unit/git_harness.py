"""A real git repository for the git source's tests: a bare origin over ``file://`` and a clone.

``Origin`` commits with the ``git`` command line in a working clone and pushes to the bare
repository, as a person would; the source under test fetches from ``url``. Git runs with no
user or system configuration, so the machine's settings never change what a test sees.
``signing_key`` makes a real SSH key pair (``ssh-keygen``) that ``commit(sign=...)`` signs with,
and ``allowed_signers`` writes the file ``--git-verify-signatures`` reads.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apply_harness import write_fleet

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def signing_key(directory: Path, name: str) -> Path:
    """A fresh ed25519 key pair, ``<name>`` and ``<name>.pub``, without a passphrase."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return key


def allowed_signers(path: Path, *keys: Path) -> Path:
    """An allowed-signers file trusting each key's public half (principal: its file name)."""
    lines = [
        f"{key.name}@example.com {key.with_suffix('.pub').read_text().strip()}" for key in keys
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def git(*args: str | Path, cwd: Path | None = None) -> str:
    """Run git; its stdout, stripped. A failure raises with git's message."""
    done = subprocess.run(
        ["git", *map(str, args)],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Origin:
    """A bare repository and a working clone of it that commits on ``main``."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "origin.git"
        self.work = root / "work"
        git("init", "--quiet", "--bare", "--initial-branch=main", self.bare)
        git("init", "--quiet", "--initial-branch=main", self.work)
        git("remote", "add", "origin", self.bare, cwd=self.work)

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def commit_fleet(
        self,
        agents: Mapping[str, Mapping[str, Any]],
        *,
        path: str = "fleet",
        branch: str = "main",
        sign: Path | None = None,
    ) -> str:
        """Write a fleet of ``agents`` under ``path``, commit (signed with ``sign``, an SSH key,
        if given) and push it; the new commit."""
        write_fleet(self.work / path, agents)
        names = ", ".join(sorted(agents)) or "none"
        return self.commit(f"fleet: {names}", branch=branch, sign=sign)

    def commit_file(self, name: str, text: str) -> str:
        """Write one file (say, a broken manifest), commit and push it; the new commit."""
        target = self.work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return self.commit(f"edit {name}")

    def commit(self, message: str, *, branch: str = "main", sign: Path | None = None) -> str:
        git("checkout", "--quiet", "-B", branch, cwd=self.work)
        git("add", "--all", cwd=self.work)
        signing = () if sign is None else ("-c", "gpg.format=ssh", "-c", f"user.signingkey={sign}")
        flag = () if sign is None else ("-S",)
        git(*signing, "commit", "--quiet", "--allow-empty", *flag, "-m", message, cwd=self.work)
        git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)
