"""The file beside the state that says what the git source runs: ``<state dir>/git/source.json``.

The daemon's git source rewrites it (atomically, owner-only) whenever what it holds changes, so
that ``reconciler status``, which never talks to the daemon, can show the revision in force, the
newest one fetched, a pin, a rejected commit and one whose signature did not verify. It holds a
masked URL and commit ids only, never a credential. A missing or unreadable file means no git
source has run against this state.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from reconciler import files

FILE_NAME: Final = "source.json"
GIT_DIR_NAME: Final = "git"


@dataclass(frozen=True)
class SourceRecord:
    """What a git source holds: where from, which ref, which commit is in force and why.

    ``revision`` is the last commit whose manifests loaded (the one passes apply); ``latest``
    the newest commit checked out; ``rejected`` that newest commit when its manifests failed
    to load; ``unverified`` the commit that would deploy but whose signature did not verify
    (``--git-verify-signatures``), and why; ``pinned`` the commit ``--git-revision`` holds the
    fleet at.
    """

    url: str
    ref: str
    path: str
    revision: str | None = None
    latest: str | None = None
    rejected: str | None = None
    pinned: str | None = None
    fetched_at: float | None = None
    unverified: str | None = None
    unverified_reason: str | None = None

    def problem(self) -> str | None:
        """Why the newest commit is not the one in force, in a sentence (None when it is)."""
        held = f"{self.revision} stays in force" if self.revision else "nothing is in force"
        if self.unverified is not None:
            why = self.unverified_reason or "its signature does not verify"
            return f"commit {self.unverified} of {self.ref} is not deployed: {why}; {held}"
        if self.rejected is not None:
            why = "its manifests do not load"
            return f"commit {self.rejected} of {self.ref} is not applied: {why}; {held}"
        return None


def git_dir(state_path: Path) -> Path:
    """Where the git source keeps its clone and checkouts: ``git/`` beside the state file."""
    return state_path.parent / GIT_DIR_NAME


def record_path(root: Path) -> Path:
    """The record in the git source's directory ``root`` (``git_dir`` or ``--git-dir``)."""
    return root / FILE_NAME


def write_record(path: Path, record: SourceRecord) -> None:
    files.write_private(path, json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")


def read_record(path: Path) -> SourceRecord | None:
    """The record at ``path``, or None when there is none that can be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SourceRecord(**data)
    except (OSError, ValueError, TypeError):
        return None
