"""A reference that cannot be resolved at plan or apply time names the line, column and field
where it is written (camelCase, as in the manifest), like ``validate --resolve-secrets``: the
profile that holds it rather than the agent that uses it, the Project field rather than the
document's first line. Nothing is sent: the API URL points nowhere."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from apply_e2e_harness import RECONCILER, harness

SAMPLE_FLEET = Path(__file__).parents[2] / "fleet"
NOWHERE = "http://127.0.0.1:9"


def _written_at(file: Path, text: str) -> str:
    """``line:column`` of the first ``text`` in ``file``."""
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        if text in line:
            return f"{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text} not in {file}")


def _without(variable: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``reconciler ARGS`` with the sample fleet's variables set, all but ``variable``."""
    env = {**os.environ, **harness.ENV, "AGORA_API_URL": NOWHERE}
    env.pop(variable, None)
    return subprocess.run(
        [str(RECONCILER), *args, "fleet", "--state", "state.db"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLE_FLEET, tmp_path / "fleet")
    return tmp_path


COMMANDS = [("plan",), ("apply", "--auto-approve")]
# The variable left unset, the file that references it, and the field as written there.
MISSING = [
    ("AZURE_TTS_KEY", "profiles.yaml", "spec.properties.tts.params.key"),
    ("AGORA_CUSTOMER_SECRET", "project.yaml", "spec.customerSecret"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("variable", "file", "field"), MISSING)
def test_a_missing_secret_is_named_where_it_is_written(
    workdir: Path, command: tuple[str, ...], variable: str, file: str, field: str
) -> None:
    """A profile's reference at the profile (not the agent using it); a Project's at its field."""
    where = _written_at(workdir / "fleet" / file, f"${{env:{variable}}}")
    done = _without(variable, *command, cwd=workdir)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == (
        f"error: fleet/{file}:{where} {field}: environment variable {variable} is not set\n"
    )
