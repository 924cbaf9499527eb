"""Which commits may deploy under ``--git-verify-signatures``: those SSH-signed by an allowed key.

``git verify-commit`` judges each commit against an SSH allowed-signers file
(``gpg.ssh.allowedSignersFile``, one ``<principal> <key type> <key>`` per line, as ``ssh-keygen
-Y verify`` reads it). SSH signatures rather than GPG: the keys are the ones people already sign
and push with, ``ssh-keygen`` ships with the ``ssh`` client the image has anyway, and there is no
keyring or trust database to provision. GPG and X.509 signatures are refused outright (their
programs are set to ``false``), so a keyring that happens to be on the machine can never let a
commit through. The command-line ``-c`` settings override any git configuration around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from reconciler.errors import ReconcilerError

_REASON_MAX: Final = 300


class UnverifiedRevisionError(ReconcilerError):
    """The commit the source would deploy is not signed by an allowed key; it was not used."""

    def __init__(self, *, commit: str, reason: str) -> None:
        self.commit = commit
        self.reason = reason
        super().__init__(f"commit {commit} is not deployed: {reason}")


def verify_args(allowed_signers: Path, commit: str) -> list[str]:
    """The ``git`` arguments that verify ``commit`` against ``allowed_signers`` alone."""
    return [
        "-c",
        f"gpg.ssh.allowedSignersFile={allowed_signers}",
        "-c",
        "gpg.program=false",
        "-c",
        "gpg.x509.program=false",
        "verify-commit",
        commit,
    ]


def refusal(stderr: str) -> str:
    """Why ``git verify-commit`` refused, in a line: git says nothing for an unsigned commit."""
    said = " ".join(line.strip() for line in stderr.splitlines() if line.strip())
    if not said:
        return "it is not signed"
    if "No principal matched" in said:
        return "its signing key is not in the allowed signers file"
    return f"its signature does not verify: {said[:_REASON_MAX]}"
