"""``${file:}`` references are safe to load and resolve on CI: only regular files of at most
64 KiB, only inside the fleet directory or a secrets directory, each refusal a file:line
diagnostic given at once (a FIFO or ``/dev/zero`` is never opened for reading)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifest import load, secrets
from reconciler.manifest.diagnostics import SourceLocation
from reconciler.manifest.secrets import SecretRef

PROJECT = """\
apiVersion: reconciler/v1
kind: Project
metadata: {{name: shop}}
spec:
  appId: ${{env:APP_ID}}
  customerId: ${{env:CUSTOMER_ID}}
  customerSecret: ${{file:{target}}}
"""


@pytest.fixture(autouse=True)
def _no_extra_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the defaults: the host's own settings must not widen what a test allows."""
    monkeypatch.setenv(secrets.SECRETS_DIRS_ENV, "")
    monkeypatch.setenv(secrets.CREDENTIALS_ENV, "")


def _fleet(tmp_path: Path, target: str) -> Path:
    fleet = tmp_path / "fleet"
    fleet.mkdir(exist_ok=True)
    (fleet / "project.yaml").write_text(PROJECT.format(target=target))
    return fleet


def _problems(fleet: Path) -> list[str]:
    return [str(d) for d in load.load_fleet(fleet).errors]


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/hostname", "../../../../etc/hostname"])
def test_a_reference_outside_the_allowed_directories_is_refused_at_load(
    tmp_path: Path, target: str
) -> None:
    """Absolute or climbing out with ``..``: one diagnostic at the line, nothing read."""
    [problem] = _problems(_fleet(tmp_path, target))
    assert problem.startswith(f"{tmp_path / 'fleet' / 'project.yaml'}:7:19 spec.customerSecret: ")
    assert f"${{file:{target}}} points outside the directories" in problem
    assert "--secrets-dir" in problem


def test_a_symlink_out_of_the_fleet_is_judged_by_its_target(tmp_path: Path) -> None:
    """A link inside the fleet to a file outside it is outside."""
    fleet = _fleet(tmp_path, "secret")
    (fleet / "secret").symlink_to("/etc/hostname")
    [problem] = _problems(fleet)
    assert "${file:secret} points outside" in problem


def test_a_fifo_or_a_device_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside an allowed directory, a FIFO or a device is refused by its kind, never opened."""
    fleet = _fleet(tmp_path, "pipe")
    os.mkfifo(fleet / "pipe")
    [problem] = _problems(fleet)
    assert "${file:pipe} is not a regular file" in problem
    monkeypatch.setenv(secrets.SECRETS_DIRS_ENV, "/dev")
    [problem] = _problems(_fleet(tmp_path, "/dev/zero"))
    assert "${file:/dev/zero} is not a regular file" in problem


def test_resolving_refuses_a_fifo_a_directory_and_a_big_file(tmp_path: Path) -> None:
    """The read itself checks the kind and the size: a FIFO does not block, nothing big is read."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dir").mkdir()
    (tmp_path / "big").write_bytes(b"x" * (secrets.MAX_FILE_BYTES + 1))
    (tmp_path / "fits").write_bytes(b"y" * secrets.MAX_FILE_BYTES)
    where = SourceLocation("fleet/project.yaml", 7, 19)
    expected = {
        "pipe": "is not a regular file",
        "dir": "is not a regular file",
        "big": "is larger than 64 KiB",
        "/dev/zero": "is not a regular file",
    }
    for target, reason in expected.items():
        with pytest.raises(secrets.SecretUnavailableError) as raised:
            secrets.resolve(SecretRef("file", target), environ={}, base_dir=tmp_path, where=where)
        assert str(raised.value).startswith("fleet/project.yaml:7: secret file ")
        assert reason in str(raised.value)
    fits = secrets.resolve(SecretRef("file", "fits"), environ={}, base_dir=tmp_path)
    assert len(fits) == secrets.MAX_FILE_BYTES


def test_secret_directories_may_be_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``$CREDENTIALS_DIRECTORY`` and ``--secrets-dir`` allow references into them."""
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    (mounted / "secret").write_text("s3cr3t-value\n")
    fleet = _fleet(tmp_path, str(mounted / "secret"))
    assert len(_problems(fleet)) == 1
    monkeypatch.setenv(secrets.CREDENTIALS_ENV, str(mounted))
    assert _problems(fleet) == []
    monkeypatch.setenv(secrets.CREDENTIALS_ENV, "")
    result = CliRunner().invoke(app, ["--secrets-dir", str(mounted), "validate", str(fleet)])
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(app, ["validate", str(_fleet(tmp_path, "/etc/hostname"))])
    assert refused.exit_code == 1
    assert "points outside" in textwrap.dedent(refused.output)
