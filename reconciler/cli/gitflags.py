"""The ``--git-*`` flags of ``reconciler run``, and the ``GitSettings`` they make.

Every flag also reads an environment variable (``RECONCILER_GIT_URL``, ``..._REF``, ``..._PATH``,
``..._INTERVAL``, ``..._REVISION``, ``..._TOKEN_FILE``, ``..._SSH_KEY_FILE``, ``..._KNOWN_HOSTS``,
``..._VERIFY_SIGNATURES``), as a Kubernetes Deployment sets them. Credentials themselves are never
flags (a command line shows in ``ps``): the token comes from ``RECONCILER_GIT_TOKEN`` or a file,
the SSH key from ``RECONCILER_GIT_SSH_KEY`` or a file. Typer wiring only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from reconciler.source import GitSettings

GitUrlOption = Annotated[
    str | None,
    typer.Option(
        "--git",
        envvar="RECONCILER_GIT_URL",
        help="Pull the manifests from this git repository (https://, ssh:// or file://) "
        "instead of PATH.",
    ),
]
GitRefOption = Annotated[
    str, typer.Option("--git-ref", envvar="RECONCILER_GIT_REF", help="Branch (or refs/...).")
]
GitPathOption = Annotated[
    str,
    typer.Option(
        "--git-path", envvar="RECONCILER_GIT_PATH", help="Manifest directory in the repository."
    ),
]
GitIntervalOption = Annotated[
    str,
    typer.Option(
        "--git-interval",
        envvar="RECONCILER_GIT_INTERVAL",
        help="How often to fetch, e.g. 1m; a signed push webhook fetches at once.",
    ),
]
GitRevisionOption = Annotated[
    str | None,
    typer.Option(
        "--git-revision",
        envvar="RECONCILER_GIT_REVISION",
        help="Hold the fleet at this commit, whatever the ref says (a rollback).",
    ),
]
GitTokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--git-token-file",
        envvar="RECONCILER_GIT_TOKEN_FILE",
        help="File holding an HTTPS token (else RECONCILER_GIT_TOKEN).",
    ),
]
GitSshKeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--git-ssh-key-file",
        envvar="RECONCILER_GIT_SSH_KEY_FILE",
        help="SSH private key file (else RECONCILER_GIT_SSH_KEY holds the key).",
    ),
]
GitKnownHostsOption = Annotated[
    Path | None,
    typer.Option(
        "--git-known-hosts",
        envvar="RECONCILER_GIT_KNOWN_HOSTS",
        help="known_hosts file SSH must verify the host against (else trust on first use).",
    ),
]

GitVerifySignaturesOption = Annotated[
    Path | None,
    typer.Option(
        "--git-verify-signatures",
        envvar="RECONCILER_GIT_VERIFY_SIGNATURES",
        exists=True,
        dir_okay=False,
        readable=True,
        metavar="ALLOWED_SIGNERS",
        help="Deploy only commits SSH-signed by a key of this allowed-signers file "
        "(git's gpg.ssh.allowedSignersFile); others are held back and reported.",
    ),
]

GitDirOption = Annotated[
    Path | None,
    typer.Option(
        "--git-dir",
        envvar="RECONCILER_GIT_DIR",
        metavar="DIR",
        help="Directory for the git source's clone and checkouts (default git/ beside the state "
        "file, or .reconciler/git for a postgresql:// state).",
    ),
]


def git_settings(
    url: str | None,
    *,
    ref: str,
    path: str,
    interval: str,
    revision: str | None,
    token_file: Path | None,
    ssh_key_file: Path | None,
    known_hosts: Path | None,
    allowed_signers: Path | None = None,
) -> GitSettings | None:
    """The git source's settings, or None without ``--git``; a bad flag is a usage error."""
    if url is None:
        return None
    from reconciler import daemon
    from reconciler.source import GitCredentials
    from reconciler.source import GitSettings as Settings

    try:
        seconds = daemon.parse_duration(interval)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--git-interval") from None
    credentials = GitCredentials.from_environ(
        os.environ, token_file=token_file, ssh_key_file=ssh_key_file, known_hosts=known_hosts
    )
    try:
        return Settings(
            url=url,
            ref=ref,
            path=path,
            interval=seconds,
            revision=revision or None,
            credentials=credentials,
            allowed_signers=None if allowed_signers is None else allowed_signers.resolve(),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--git-path") from None
