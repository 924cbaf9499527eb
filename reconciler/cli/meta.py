"""The ``version`` command (also ``--version``). Shell completion is typer's own:
``reconciler --install-completion`` or ``--show-completion bash|zsh|fish``.

The build's git revision comes from ``RECONCILER_BUILD_REVISION`` (the image sets it at build
time), else from the checkout the package runs from, else it is ``unknown``: a version line must
never fail or hang, so git gets a short timeout and any error reads as unknown.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Final

from reconciler import __version__
from reconciler.cli.app import app

REVISION_VARIABLE: Final = "RECONCILER_BUILD_REVISION"
_GIT_TIMEOUT_SECONDS: Final = 2.0


def build_revision() -> str:
    """The git revision this copy of reconciler was built from, or ``unknown``."""
    given = os.environ.get(REVISION_VARIABLE, "").strip()
    if given:
        return given
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and revision else "unknown"


def version_line() -> str:
    return f"reconciler {__version__} (revision {build_revision()})"


@app.command()
def version() -> None:
    """Print the version and the git revision of this build."""
    print(version_line())
