"""How the git source authenticates, and how it keeps credentials out of everything it prints.

An HTTPS token goes to git as an ``http.extraHeader`` through git's environment-only
configuration (``GIT_CONFIG_COUNT``), so it is never on a command line (where ``ps`` shows it),
never in the repository's config and never in a URL. An SSH key file goes to ``ssh -i`` through
``GIT_SSH_COMMAND``. ``mask`` is applied to every URL, git message and error the source lets out:
it hides the token (and the header made from it), the userinfo of any URL, and whatever the log
pipeline already masks.

It reads no file and no environment itself (``from_environ`` is handed both) and decides nothing
about when git runs.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from reconciler import logs
from reconciler.errors import ReconcilerError

# GitHub's convention for a token's user name; GitLab and Gitea accept any name with a token.
DEFAULT_USERNAME: Final = "x-access-token"
TOKEN_ENV: Final = "RECONCILER_GIT_TOKEN"
USERNAME_ENV: Final = "RECONCILER_GIT_USERNAME"
SSH_KEY_ENV: Final = "RECONCILER_GIT_SSH_KEY"
_USERINFO: Final = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


@dataclass(frozen=True)
class GitCredentials:
    """A token for HTTPS, or an SSH key (its text, or a file), and the hosts SSH may trust.

    ``ssh_key`` is the key's text, for when it comes from the environment: the source writes it
    to a private file before git needs it. Without ``known_hosts`` SSH trusts a host on first use
    and remembers it beside the clone.
    """

    token: str | None = field(default=None, repr=False)
    username: str = DEFAULT_USERNAME
    ssh_key: str | None = field(default=None, repr=False)
    ssh_key_file: Path | None = None
    known_hosts: Path | None = None

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        *,
        token_file: Path | None = None,
        ssh_key_file: Path | None = None,
        known_hosts: Path | None = None,
    ) -> GitCredentials:
        """Credentials from files named by flags, else from ``RECONCILER_GIT_TOKEN`` and kin.

        A file that cannot be read is a ``ReconcilerError`` naming it, never quoting it.
        """
        token = environ.get(TOKEN_ENV) or None
        if token_file is not None:
            try:
                token = token_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                message = f"cannot read the git token file {token_file}: {exc}"
                raise ReconcilerError(message) from exc
        credentials = cls(
            token=token or None,
            username=environ.get(USERNAME_ENV) or DEFAULT_USERNAME,
            ssh_key=environ.get(SSH_KEY_ENV) or None,
            ssh_key_file=ssh_key_file,
            known_hosts=known_hosts,
        )
        for secret in credentials.secrets():
            logs.register_secret(secret)
        return credentials

    def secrets(self) -> tuple[str, ...]:
        """Every text that must never be printed: the token, its header, the key's text."""
        found: list[str] = []
        if self.token:
            found += [self.token, self._basic()]
        if self.ssh_key:
            found += [line for line in self.ssh_key.splitlines() if len(line) >= 8]
        return tuple(found)

    def environment(self, *, key_file: Path | None, known_hosts: Path) -> dict[str, str]:
        """The variables git runs with: never prompt, the token's header, the SSH command.

        ``key_file`` is where the key is on disk (``ssh_key_file``, or where the source wrote
        ``ssh_key``); ``known_hosts`` is the file SSH remembers hosts in when none was given.
        """
        env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
        if self.token:
            env.update(
                GIT_CONFIG_COUNT="1",
                GIT_CONFIG_KEY_0="http.extraHeader",
                GIT_CONFIG_VALUE_0=f"Authorization: Basic {self._basic()}",
            )
        checking = "yes" if self.known_hosts is not None else "accept-new"
        hosts = self.known_hosts or known_hosts
        command = ["ssh", "-o", "BatchMode=yes", "-o", f"StrictHostKeyChecking={checking}"]
        command += ["-o", f"UserKnownHostsFile={hosts}"]
        if key_file is not None:
            command += ["-i", str(key_file), "-o", "IdentitiesOnly=yes"]
        env["GIT_SSH_COMMAND"] = shlex.join(command)
        return env

    def mask(self, text: str) -> str:
        """``text`` with these credentials, any URL's userinfo and known secrets masked."""
        return mask_url(logs.redact(text, self.secrets()))

    def _basic(self) -> str:
        pair = f"{self.username}:{self.token or ''}"
        return base64.b64encode(pair.encode()).decode()


def mask_url(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` shown as ``scheme://***@``."""
    return _USERINFO.sub(lambda match: match.group(1) + logs.MASK + "@", text)
