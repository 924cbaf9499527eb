"""The git source: a clone beside the state, fetched on demand, one fresh directory per commit.

It uses the ``git`` command line rather than dulwich: ``git`` is what users debug with, speaks
every transport and credential helper (HTTPS, SSH with its known hosts, ``file://``), and its
fetch is the one GitHub and GitLab are tuned for; dulwich would add a pure-Python reimplementation
of all that to the image for no gain. Every ``git`` runs in a worker thread, never on the event
loop, with a timeout, without a prompt, and with its messages masked.

Layout under ``<state dir>/git/`` (owner-only): ``repo.git`` (a bare clone, made once, whose
``refs/reconciler/head`` each fetch moves to the ref's commit), ``checkouts/<sha>/`` (one tree
per commit, written whole by ``git archive`` into a staging directory and renamed into place, so
no pass ever reads a half-written tree), ``current`` (a symlink to the last good checkout,
replaced atomically) and ``source.json`` (what ``status`` shows). Only the newest checkout and the
last good one are kept. A pin (``--git-revision``) makes the source hand out that commit whatever
the ref says. It decides nothing about manifests: the daemon tells it (``verdict``) whether a
checkout loaded, and it switches ``current`` only to one that did. With ``allowed_signers``
(``--git-verify-signatures``) a commit is checked out only once ``git verify-commit`` accepts its
signature (``signatures``); one that fails is not handed out, and the commit in hand stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final

import structlog

from reconciler import files
from reconciler.errors import ReconcilerError
from reconciler.source import record as records
from reconciler.source import signatures
from reconciler.source.credentials import GitCredentials
from reconciler.source.local import Checkout

TRACKING_REF: Final = "refs/reconciler/head"
DEFAULT_TIMEOUT_SECONDS: Final = 300.0
_STDERR_LINES: Final = 5

_log = structlog.get_logger(__name__)


class GitSourceError(ReconcilerError):
    """A fetch or checkout failed; the message is masked and names the URL and what git said."""


@dataclass(frozen=True)
class GitSettings:
    """Which repository, which ref, where in it the manifests are, how often to fetch, a pin."""

    # A URL may carry credentials (https://user:token@...): it is shown only through ``mask``.
    url: str = field(repr=False)
    ref: str = "main"
    path: str = "fleet"
    interval: float = 60.0
    revision: str | None = None
    credentials: GitCredentials = field(default_factory=GitCredentials)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    # Deploy only commits SSH-signed by a key of this allowed-signers file (None: any commit).
    allowed_signers: Path | None = None

    def __post_init__(self) -> None:
        inside = PurePosixPath(self.path)
        if inside.is_absolute() or ".." in inside.parts:
            raise ValueError(f"--git-path must be a path inside the repository, got {self.path!r}")

    @property
    def full_ref(self) -> str:
        """``main`` is the branch ``refs/heads/main``; a ``refs/...`` name is taken as it is."""
        return self.ref if self.ref.startswith("refs/") else f"refs/heads/{self.ref}"


class GitSource:
    """The commits of one ref of one repository, as checkouts the daemon's passes read."""

    def __init__(self, settings: GitSettings, *, root: Path) -> None:
        self.settings = settings
        self._root = root
        self._repo = root / "repo.git"
        self._checkouts = root / "checkouts"
        self._link = root / "current"
        self._rejected: str | None = None
        self._unverified: signatures.UnverifiedRevisionError | None = None
        self._fetched_at: float | None = None
        self._key_written = False
        # The last good checkout of an earlier run stands in until the first fetch succeeds
        # (``current`` only ever links to a checkout that loaded).
        self._latest = self._restored()
        self._good: str | None = None if self._latest is None else self._latest.revision

    @property
    def watch(self) -> Path | None:
        return None

    @property
    def fetch_interval(self) -> float | None:
        return self.settings.interval

    @property
    def url(self) -> str:
        """The repository's URL with any credentials in it masked."""
        return self.settings.credentials.mask(self.settings.url)

    async def fetch(self) -> None:
        """Fetch the ref; check out its commit (or the pin) if it is not the newest checkout."""
        commit = await asyncio.to_thread(self._fetch)
        if self.settings.allowed_signers is not None:
            await asyncio.to_thread(self._verify, commit, self.settings.allowed_signers)
        if self._latest is None or self._latest.revision != commit:
            directory = await asyncio.to_thread(self._check_out, commit)
            self._latest = Checkout(manifests=self._manifests_in(directory), revision=commit)
            _log.info("revision_checked_out", commit=commit, ref=self.settings.ref)
        self._write_record()

    async def current(self) -> Checkout | None:
        return self._latest

    def verdict(self, checkout: Checkout, *, good: bool) -> None:
        """A checkout that loaded becomes the last good one (``current``); one that did not is
        remembered as rejected, and the last good one stays."""
        revision = checkout.revision
        before = (self._good, self._rejected)
        if good and revision != self._good:
            staging = self._root / ".current.tmp"
            staging.unlink(missing_ok=True)
            os.symlink(Path(self._checkouts.name) / str(revision), staging)
            os.replace(staging, self._link)
            self._good = revision
        self._rejected = None if good else revision
        if (self._good, self._rejected) != before:
            self._write_record()

    def last_good(self) -> Checkout | None:
        """The checkout of the last commit that loaded (kept on disk, and across restarts)."""
        if self._good is None:
            return None
        return Checkout(
            manifests=self._manifests_in(self._checkouts / self._good), revision=self._good
        )

    def record(self) -> records.SourceRecord:
        return records.SourceRecord(
            url=self.url,
            ref=self.settings.ref,
            path=self.settings.path,
            revision=self._good,
            latest=None if self._latest is None else self._latest.revision,
            rejected=self._rejected,
            unverified=None if self._unverified is None else self._unverified.commit,
            unverified_reason=None if self._unverified is None else self._unverified.reason,
            pinned=self.settings.revision,
            fetched_at=self._fetched_at,
        )

    def _manifests_in(self, directory: Path) -> Path:
        return directory / self.settings.path

    def _restored(self) -> Checkout | None:
        try:
            directory = self._link.resolve(strict=True)
        except OSError:
            return None
        if directory.parent != self._checkouts.resolve() or not directory.is_dir():
            return None
        return Checkout(manifests=self._manifests_in(directory), revision=directory.name)

    def _fetch(self) -> str:
        """Clone once, fetch the ref, and say which commit the source should hand out."""
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not (self._repo / "HEAD").is_file():
            self._git(["init", "--bare", "--quiet", str(self._repo)], repo=False)
        self._git(["config", "remote.origin.url", self.settings.url])
        refspec = f"+{self.settings.full_ref}:{TRACKING_REF}"
        self._git(["fetch", "--quiet", "--no-tags", "origin", refspec])
        self._fetched_at = time.time()
        head = self._commit_of(TRACKING_REF)
        assert head is not None  # the fetch just wrote it
        _log.debug("git_fetched", commit=head, ref=self.settings.ref)
        pinned = self.settings.revision
        if pinned is None:
            return head
        found = self._commit_of(pinned)
        if found is None:
            # A pin to a commit no longer on the ref: ask for it by id (GitHub and GitLab allow).
            with contextlib.suppress(GitSourceError):
                self._git(["fetch", "--quiet", "--no-tags", "origin", pinned])
            found = self._commit_of(pinned)
        if found is None:
            raise GitSourceError(f"the pinned revision {pinned} is not in {self.url}")
        return found

    def _verify(self, commit: str, allowed_signers: Path) -> None:
        """Raise ``UnverifiedRevisionError`` unless ``commit`` is signed by an allowed key.

        A refused commit is not checked out; should it be the very checkout in hand (restored
        from a run before the flag), that is given up too: nothing unverified is handed out.
        """
        done = self._run(signatures.verify_args(allowed_signers, commit))
        if done.returncode == 0:
            if self._unverified is not None:
                self._unverified = None
                self._write_record()
            return
        refused = signatures.UnverifiedRevisionError(
            commit=commit, reason=self.settings.credentials.mask(signatures.refusal(done.stderr))
        )
        self._unverified = refused
        if self._latest is not None and self._latest.revision == commit:
            self._latest = None
        if self._good == commit:
            self._good = None
        self._write_record()
        raise refused

    def _commit_of(self, name: str) -> str | None:
        done = self._run(["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"])
        commit = done.stdout.strip()
        return commit if done.returncode == 0 and commit else None

    def _check_out(self, commit: str) -> Path:
        """``checkouts/<commit>`` written whole; older checkouts but the last good one removed."""
        self._checkouts.mkdir(mode=0o700, exist_ok=True)
        final = self._checkouts / commit
        if not final.is_dir():
            staging = Path(tempfile.mkdtemp(dir=self._checkouts, prefix=f".{commit[:12]}."))
            archive = staging.with_suffix(".tar")
            try:
                self._git(["archive", "--format=tar", f"--output={archive}", commit])
                with tarfile.open(archive) as tree:
                    # The "data" filter refuses links and paths that lead outside the checkout.
                    tree.extractall(staging, filter="data")
                os.rename(staging, final)
            except (OSError, tarfile.TarError) as exc:
                shutil.rmtree(staging, ignore_errors=True)
                message = self.settings.credentials.mask(str(exc))
                raise GitSourceError(f"cannot check out {commit}: {message}") from exc
            finally:
                archive.unlink(missing_ok=True)
        keep = {commit, self._good}
        for entry in self._checkouts.iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)
        return final

    def _write_record(self) -> None:
        try:
            records.write_record(self._root / records.FILE_NAME, self.record())
        except OSError as exc:
            _log.warning("source_record_unwritable", error=str(exc))

    def _git(self, args: Sequence[str], *, repo: bool = True) -> subprocess.CompletedProcess[str]:
        done = self._run(args, repo=repo)
        if done.returncode != 0:
            said = " ".join(done.stderr.strip().splitlines()[-_STDERR_LINES:]) or "no message"
            raise GitSourceError(
                self.settings.credentials.mask(f"git {args[0]} of {self.settings.url}: {said}")
            )
        return done

    def _run(self, args: Sequence[str], *, repo: bool = True) -> subprocess.CompletedProcess[str]:
        credentials = self.settings.credentials
        command = ["git", *(["--git-dir", str(self._repo)] if repo else []), *args]
        env = {
            **os.environ,
            **credentials.environment(
                key_file=self._key_file(), known_hosts=self._root / "known_hosts"
            ),
        }
        try:
            return subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=self.settings.timeout,
                check=False,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitSourceError(
                f"git {args[0]} of {self.url} took over {self.settings.timeout:g} s"
            ) from exc
        except OSError as exc:
            raise GitSourceError(f"cannot run git: {exc.strerror or exc}") from exc

    def _key_file(self) -> Path | None:
        """The SSH key on disk: the one named, or the environment's text written out 0600."""
        credentials = self.settings.credentials
        if credentials.ssh_key is None:
            return credentials.ssh_key_file
        path = self._root / "ssh_key"
        if not self._key_written:
            files.write_private(path, credentials.ssh_key.rstrip("\n") + "\n")
            self._key_written = True
        return path
