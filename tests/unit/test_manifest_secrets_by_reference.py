"""Secrets are references, resolved only when asked, and their values never reach any output."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.errors import ManifestError
from reconciler.manifest import load, secrets
from reconciler.manifest.diagnostics import SourceLocation
from reconciler.manifest.secrets import SecretRef

SECRET_VALUES = ("sk-live-do-not-print", "file-secret-do-not-print", "42424242")
FLEET = """\
apiVersion: reconciler/v1
kind: Project
metadata: {name: shop}
spec:
  appId: ${env:APP_ID}
  customerId: ${env:CUSTOMER_ID}
  customerSecret: ${file:customer.secret}
---
apiVersion: reconciler/v1
kind: Agent
metadata: {name: greeter, project: shop}
spec:
  channel: lobby
  properties:
    agent_rtc_uid: "1001"
    remote_rtc_uids: ["2001"]
    llm: {url: "https://llm.example", api_key: "${env:LLM_KEY}"}
    tts: {vendor: microsoft, params: {key: "${env:TTS_KEY}"}}
"""


def test_a_reference_parses_and_prints_back_as_written() -> None:
    """References are found inside text and print back as written; other schemes are not ones."""
    assert secrets.find_references("${env:OPENAI_API_KEY}") == (SecretRef("env", "OPENAI_API_KEY"),)
    assert [str(ref) for ref in secrets.find_references("${file:keys/tts}")] == ["${file:keys/tts}"]
    assert secrets.find_references("${vault:x}") == ()
    assert secrets.find_references("Bearer ${env:T} ${file:/k}") == (
        SecretRef("env", "T"),
        SecretRef("file", "/k"),
    )


def test_malformed_references_say_why() -> None:
    """A bad variable name or an empty path can never resolve."""
    assert SecretRef("env", "openai-key").problem() is not None
    assert SecretRef("file", " ").problem() is not None
    assert SecretRef("env", "OPENAI_API_KEY").problem() is None


def test_resolve_reads_the_environment_and_files(tmp_path: Path) -> None:
    """Env values as set; file values relative to the manifest, one trailing newline dropped."""
    (tmp_path / "k").write_text("file-secret\n")
    environ = {"KEY": "env-secret"}
    assert secrets.resolve(SecretRef("env", "KEY"), environ=environ, base_dir=tmp_path) == (
        "env-secret"
    )
    assert secrets.resolve(SecretRef("file", "k"), environ={}, base_dir=tmp_path) == "file-secret"
    text = secrets.resolve_text("Bearer ${env:KEY}", environ=environ, base_dir=tmp_path)
    assert text == "Bearer env-secret"


def test_an_unresolvable_reference_names_the_variable_and_where_it_is_used(tmp_path: Path) -> None:
    """The error is a ManifestError carrying the place; it names the variable or file."""
    where = SourceLocation("fleet/agents.yaml", 12)
    with pytest.raises(ManifestError) as caught:
        secrets.resolve(
            SecretRef("env", "MISSING"),
            environ={},
            base_dir=tmp_path,
            where=where,
            field="spec.properties.llm.api_key",
        )
    assert str(caught.value) == (
        "fleet/agents.yaml:12 spec.properties.llm.api_key: environment variable MISSING is not set"
    )
    with pytest.raises(secrets.SecretUnavailableError, match=r"absent\.txt cannot be read"):
        secrets.resolve(SecretRef("file", "absent.txt"), environ={}, base_dir=tmp_path)


def test_fingerprints_are_short_keyed_and_stable() -> None:
    """Equal under one key, different under another, and not the value."""
    first = secrets.fingerprint("value", key=b"k1")
    assert first == secrets.fingerprint("value", key=b"k1")
    assert first != secrets.fingerprint("value", key=b"k2")
    assert first != secrets.fingerprint("other", key=b"k1")
    assert len(first) == secrets.FINGERPRINT_HEX_CHARS
    assert "value" not in first


def test_secret_fields_are_known_by_name_at_any_depth() -> None:
    """The walk finds secret fields wherever they sit and stops inside them."""
    properties = {
        "llm": {"api_key": "${env:A}", "params": {"max_tokens": 10}},
        "tts": {"params": {"key": "${env:B}", "region": "eastus"}},
        "llm_headers": [{"Authorization": "Bearer ${env:C}"}],
        "avatar": {"params": {"agora_token": "${env:D}"}},
    }
    assert list(secrets.walk_secret_fields(properties)) == [
        ("llm.api_key", "${env:A}"),
        ("tts.params.key", "${env:B}"),
        ("llm_headers[0].Authorization", "Bearer ${env:C}"),
        ("avatar.params.agora_token", "${env:D}"),
    ]
    assert secrets.is_secret_path("spec.customerSecret")
    assert secrets.is_secret_path(("properties", "llm", "api_key"))
    assert not secrets.is_secret_path("llm.params.max_tokens")
    assert sorted(secrets.strings_with_references(properties)) == [
        "${env:A}",
        "${env:B}",
        "${env:D}",
        "Bearer ${env:C}",
    ]


def _fleet(tmp_path: Path) -> Path:
    (tmp_path / "fleet.yaml").write_text(textwrap.dedent(FLEET))
    return tmp_path


def test_loading_leaves_references_unresolved(tmp_path: Path) -> None:
    """Without being asked, the loader checks form only: no variable needs to be set."""
    result = load.load_fleet(_fleet(tmp_path))
    assert result.diagnostics == ()


def test_resolving_reports_each_missing_reference_where_it_is_used(tmp_path: Path) -> None:
    """With an environment, each missing variable or file is a diagnostic on its own line."""
    result = load.load_fleet(_fleet(tmp_path), environ={"APP_ID": "a", "CUSTOMER_ID": "c"})
    found = sorted((d.line, d.field, d.message.split(":")[0]) for d in result.diagnostics)
    assert found == [
        (
            7,
            "spec.customerSecret",
            f"secret file {tmp_path.resolve()}/customer.secret cannot be read",
        ),
        (17, "spec.properties.llm.api_key", "environment variable LLM_KEY is not set"),
        (18, "spec.properties.tts.params.key", "environment variable TTS_KEY is not set"),
    ]


def test_secret_values_never_appear_in_any_output(tmp_path: Path) -> None:
    """Validate, resolving secrets and finding literal ones, prints no value in any format."""
    fleet = _fleet(tmp_path)
    (fleet / "customer.secret").write_text(SECRET_VALUES[1])
    leaky = (fleet / "fleet.yaml").read_text().replace("${env:TTS_KEY}", SECRET_VALUES[0])
    (fleet / "leaky.yaml").write_text(leaky.replace('"${env:LLM_KEY}"', SECRET_VALUES[2]))
    env = {"APP_ID": "a", "CUSTOMER_ID": "c", "LLM_KEY": SECRET_VALUES[0], "TTS_KEY": "t"}
    for output in ("text", "json", "github"):
        result = CliRunner().invoke(
            app,
            ["validate", str(fleet), "-o", output, "--resolve-secrets"],
            env=env,
            catch_exceptions=False,
        )
        assert result.exit_code == 1
        assert "is a secret" in result.output
        for value in SECRET_VALUES:
            assert value not in result.output, (output, value)
        if output == "json":
            assert json.loads(result.output)["valid"] is False
