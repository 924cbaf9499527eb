"""A diagnostic about a secret field names the field but never quotes what was written in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifest import load, secrets

SECRET = "sk-live-SUPERSECRET-123"
AGENT = """\
apiVersion: reconciler/v1
kind: Project
metadata: {name: shop}
spec:
  appId: ${env:AGORA_APP_ID}
  customerId: ${env:AGORA_CUSTOMER_ID}
  customerSecret: ${env:AGORA_CUSTOMER_SECRET}
---
apiVersion: reconciler/v1
kind: Agent
metadata: {name: greeter, project: shop}
spec:
  channel: lobby
  properties:
    agent_rtc_uid: "1001"
    remote_rtc_uids: ["2001"]
"""


def _messages(tmp_path: Path, properties: str) -> list[str]:
    (tmp_path / "fleet.yaml").write_text(AGENT + properties)
    result = load.load_fleet(tmp_path)
    return [f"{d.field}: {d.message}" for d in result.diagnostics]


@pytest.mark.parametrize("tag", ["!!int", "!!bool", "!!float"])
def test_a_badly_tagged_secret_is_reported_without_its_text(tmp_path: Path, tag: str) -> None:
    """`api_key: !!int sk-live-...` says the value is not an int, not what the value is."""
    messages = _messages(
        tmp_path, f'    llm: {{url: "https://llm.test", api_key: {tag} {SECRET}}}\n'
    )
    assert messages == [f"spec.properties.llm.api_key: the value is not a valid {tag}"]


@pytest.mark.parametrize(
    "properties",
    [
        # The second api_key is dropped as a duplicate, but it is still a secret field.
        '    llm: {url: "https://llm.test", api_key: "${env:K}", api_key: !!int SECRET}\n',
        # Inside a secret mapping or list, every value is part of the secret.
        "    tts: {vendor: microsoft, params: {credentials: {user: !!int SECRET}}}\n",
        "    tts: {vendor: microsoft, params: {credentials: [!!float SECRET]}}\n",
    ],
)
def test_text_inside_or_beside_a_secret_field_is_not_quoted(
    tmp_path: Path, properties: str
) -> None:
    """A duplicate secret key and the parts of a secret mapping or list keep their text too."""
    messages = _messages(tmp_path, properties.replace("SECRET", SECRET))
    assert messages
    assert all(SECRET not in message for message in messages), messages


def test_a_non_finite_secret_is_reported_without_its_text(tmp_path: Path) -> None:
    """A secret that YAML reads as infinity is named, not shown."""
    messages = _messages(tmp_path, "    tts: {vendor: microsoft, params: {key: !!float 9e999}}\n")
    assert messages == [
        "spec.properties.tts.params.key: the value is not a finite number; JSON cannot carry it"
    ]


def test_an_ambiguous_number_inside_a_secret_gets_no_warning_quoting_it(tmp_path: Path) -> None:
    """`credentials: {pin: 0755}` is a literal-secret error, with no YAML 1.1 warning beside."""
    messages = _messages(
        tmp_path, "    tts: {vendor: microsoft, params: {credentials: {pin: 0755}}}\n"
    )
    assert any(
        m.startswith("spec.properties.tts.params.credentials: is a secret") for m in messages
    )
    assert all("0755" not in message for message in messages), messages


def test_other_fields_still_quote_what_was_written(tmp_path: Path) -> None:
    """Only secrets lose their text: a bad idle_timeout still shows what was typed."""
    messages = _messages(tmp_path, "    idle_timeout: !!int soon\n")
    assert messages == ["spec.properties.idle_timeout: 'soon' is not a valid !!int"]


def test_github_annotations_do_not_carry_a_tagged_secret(tmp_path: Path) -> None:
    """`validate -o github` writes the annotation without the secret's text."""
    (tmp_path / "fleet.yaml").write_text(
        AGENT + f'    llm: {{url: "https://llm.test", api_key: !!int {SECRET}}}\n'
    )
    result = CliRunner().invoke(
        app, ["validate", str(tmp_path), "-o", "github"], env={}, catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "::error " in result.output
    assert "is not a valid !!int" in result.output
    assert SECRET not in result.output


def test_a_path_inside_a_secret_field_is_secret() -> None:
    """Plans and diagnostics treat the parts of a secret mapping as the secret itself."""
    assert secrets.is_secret_path("tts.params.credentials.user")
    assert secrets.is_secret_path(("spec", "properties", "llm", "api_key"))
    assert not secrets.is_secret_path("tts.params.region")
