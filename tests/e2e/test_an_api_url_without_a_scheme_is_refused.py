"""An API URL that no request could use (``--api-url not-a-url``, or the same in
``AGORA_API_URL``) is refused before anything is sent, naming the setting and never echoing its
value: one line, exit 1, no traceback, no retries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apply_e2e_harness import cli

SAMPLE_FLEET = Path(__file__).parents[2] / "fleet"


@pytest.mark.parametrize(
    ("flag", "env_url", "named"),
    [
        (["--api-url", "not-a-url"], "http://127.0.0.1:9", "--api-url"),
        ([], "ftp://host", "AGORA_API_URL"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_the_setting_is_named_and_nothing_is_sent(
    tmp_path: Path, command: str, flag: list[str], env_url: str, named: str
) -> None:
    shutil.copytree(SAMPLE_FLEET, tmp_path / "fleet")
    done = cli(command, "fleet", "--state", "state.db", *flag, url=env_url, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: {named} must be an http:// or https:// URL"
    )
    assert "Traceback" not in done.stderr
    assert "api_request" not in done.stderr
    assert "not-a-url" not in done.stderr
    assert "ftp://host" not in done.stderr
