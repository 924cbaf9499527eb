"""``reconciler version``/``--version`` name the build, and typer's shell completion answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from reconciler import __version__

VERSION_LINE = re.compile(rf"^reconciler {re.escape(__version__)} \(revision [0-9a-z]+\)$")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("words", [("version",), ("--version",)])
def test_version_names_the_package_and_the_revision(words: tuple[str, ...]) -> None:
    """Both spellings print one line: the package version and the git revision of the build."""
    done = _run(*words)
    assert done.returncode == 0, done.stderr
    assert VERSION_LINE.match(done.stdout.strip()), done.stdout


def test_an_image_names_the_revision_it_was_built_from() -> None:
    """The image passes its build's commit in RECONCILER_BUILD_REVISION."""
    done = _run("version", RECONCILER_BUILD_REVISION="0123abcd")
    assert done.stdout.strip() == f"reconciler {__version__} (revision 0123abcd)"


def test_bash_completion_completes_commands() -> None:
    """The script typer shows completes through the program itself: `pl` offers `plan`."""
    script = _run("--show-completion", "bash")
    assert script.returncode == 0, script.stderr
    assert "_RECONCILER_COMPLETE=complete_bash" in script.stdout
    done = _run(COMP_WORDS="reconciler pl", COMP_CWORD="1", _RECONCILER_COMPLETE="complete_bash")
    assert done.stdout.split() == ["plan"]
