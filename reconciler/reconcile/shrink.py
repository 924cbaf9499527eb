"""Make a shrinking fleet visible: a plan that deletes because manifests went away says so.

A directory that stopped loading, a file deleted in a merge, a bad glob: each looks, to the
planner, exactly like agents a person removed on purpose, and under the mass-delete threshold
nothing stops it. So ``plan`` prints a note per project that loses agents: how many agents the
manifests declare against how many the state owns, and, when the manifests are in git, which
manifest files were deleted since the revision the lost agents were last applied from.

``notes`` is pure; ``deleted_files`` asks git, bounded by a timeout, and is silent outside a
checkout. Nothing here changes the plan or refuses it; safety rules do that.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from reconciler import plan
from reconciler.manifest import load
from reconciler.manifest.desired import DesiredFleet
from reconciler.state import StateSnapshot

GIT_TIMEOUT_SECONDS: Final = 5
_GIT_DIFF: Final = ("git", "diff", "--name-only", "--diff-filter=D", "--relative")
_REVISION: Final = re.compile(r"[0-9a-f]{7,64}")
_SHOWN_FILES: Final = 5

DeletedFiles = Callable[[str], Sequence[str]]


def notes(
    made: plan.Plan, *, fleet: DesiredFleet, state: StateSnapshot, deleted_files: DeletedFiles
) -> tuple[str, ...]:
    """One line per project that the plan deletes agents from, in project order."""
    deletes = Counter(c.project for c in made.changes if c.action is plan.Action.DELETE)
    lines = []
    for project in sorted(deletes):
        desired = sum(1 for agent in fleet.agents.values() if agent.project == project)
        owned = [r for r in state.records.values() if r.project == project]
        line = (
            f"project {project}: the manifests declare {desired} agents, the state owns "
            f"{len(owned)} ({desired - len(owned):+d}); {deletes[project]} to delete because "
            "no manifest declares them any more"
        )
        removed_keys = {c.key for c in made.changes if c.action is plan.Action.DELETE}
        revisions = Counter(r.git_revision for r in owned if r.key in removed_keys)
        revision = next((rev for rev, _ in revisions.most_common() if rev), None)
        files = list(deleted_files(revision)) if revision else []
        if revision and files:
            shown = ", ".join(files[:_SHOWN_FILES])
            more = f" and {len(files) - _SHOWN_FILES} more" if len(files) > _SHOWN_FILES else ""
            line += f"; manifest files deleted since {revision[:12]}: {shown}{more}"
        lines.append(line)
    return tuple(lines)


def git_deleted_files(path: Path) -> DeletedFiles:
    """Manifest files under ``path`` that git says were deleted since a revision (to now)."""
    directory = path if path.is_dir() else path.parent

    def deleted(revision: str) -> Sequence[str]:
        if not _REVISION.fullmatch(revision):
            return ()  # only a commit id read back from our own state, never an option
        try:
            done = subprocess.run(
                [*_GIT_DIFF, revision, "--", "."],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ()
        if done.returncode != 0:
            return ()
        return tuple(n for n in done.stdout.splitlines() if n.endswith(load.SUFFIXES))

    return deleted
