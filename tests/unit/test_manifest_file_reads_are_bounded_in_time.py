"""A ``${file:}`` whose read never returns (a hung network or FUSE file system) is given up on
with the usual file:line diagnostic, instead of holding the load forever."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from reconciler.manifest import secrets
from reconciler.manifest.diagnostics import SourceLocation
from reconciler.manifest.secrets import SecretRef, SecretUnavailableError


def test_a_read_that_never_returns_is_refused_naming_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hung = threading.Event()
    monkeypatch.setattr(secrets, "_read_small_file", lambda file: hung.wait() and "")
    monkeypatch.setattr(secrets, "FILE_READ_SECONDS", 0.05)
    ref = SecretRef("file", "key.txt")
    try:
        with pytest.raises(SecretUnavailableError) as raised:
            secrets.resolve(
                ref,
                environ={},
                base_dir=tmp_path,
                where=SourceLocation(file="fleet/agents.yaml", line=7),
                field="spec.properties.llm.api_key",
            )
    finally:
        hung.set()
    message = str(raised.value)
    assert "fleet/agents.yaml:7" in message
    assert "spec.properties.llm.api_key" in message
    assert f"secret file {tmp_path / 'key.txt'} did not answer within 0.05 s" in message


def test_a_quick_read_still_gives_the_value(tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text("s3cret\n")
    ref = SecretRef("file", "key.txt")
    assert secrets.resolve(ref, environ={}, base_dir=tmp_path) == "s3cret"
