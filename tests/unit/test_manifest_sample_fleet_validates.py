"""The sample fleet in fleet/ is valid, complete and schema-clean, with no environment set."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifest import load, schema
from reconciler.manifest.fields import RestartPolicy

FLEET = Path(__file__).parents[2] / "fleet"
MODELINE = "# yaml-language-server: $schema=.schema/reconciler-v1.json"
ENV_NAMES = (
    "AGORA_APP_ID",
    "AGORA_CUSTOMER_ID",
    "AGORA_CUSTOMER_SECRET",
    "AGORA_APP_CERTIFICATE",
    "OPENAI_API_KEY",
    "AZURE_TTS_KEY",
)


def test_sample_fleet_loads_without_diagnostics() -> None:
    """One project, two agents and a three-channel set: five agents, no problem at all."""
    result = load.load_fleet(FLEET)
    assert result.diagnostics == ()
    assert result.fleet is not None
    assert list(result.fleet.projects) == ["demo"]
    assert list(result.fleet.agents) == [
        "demo/help-desk",
        "demo/lobby-concierge",
        "demo/store-assistant-store-001",
        "demo/store-assistant-store-002",
        "demo/store-assistant-store-003",
    ]


def test_sample_project_reads_credentials_from_the_environment() -> None:
    """Every credential is an ${env:...} reference, left unresolved by the loader."""
    result = load.load_fleet(FLEET)
    assert result.fleet is not None
    project = result.fleet.projects["demo"]
    assert project.app_id == "${env:AGORA_APP_ID}"
    assert project.customer_id == "${env:AGORA_CUSTOMER_ID}"
    assert project.customer_secret == "${env:AGORA_CUSTOMER_SECRET}"
    assert project.app_certificate == "${env:AGORA_APP_CERTIFICATE}"
    assert project.max_concurrent_agents == 20


def test_sample_agents_are_always_on_with_referenced_keys() -> None:
    """idle_timeout 0 everywhere, and the LLM and TTS keys stay references."""
    result = load.load_fleet(FLEET)
    assert result.fleet is not None
    for agent in result.fleet.agents.values():
        assert agent.properties["idle_timeout"] == 0
        assert agent.properties["llm"]["api_key"] == "${env:OPENAI_API_KEY}"
        assert agent.properties["tts"]["params"]["key"] == "${env:AZURE_TTS_KEY}"
    help_desk = result.fleet.agents["demo/help-desk"]
    assert help_desk.restart_policy is RestartPolicy.ON_FAILURE
    assert help_desk.protect is True


def test_validate_command_passes_on_the_sample_fleet_with_no_environment() -> None:
    """`reconciler validate fleet` exits 0 even when no variable is set."""
    unset: dict[str, str | None] = dict.fromkeys(ENV_NAMES)
    result = CliRunner().invoke(app, ["validate", str(FLEET)], env=unset, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "valid — 1 project, 5 agents" in result.output


def test_every_fleet_file_points_editors_at_the_schema() -> None:
    """Each document carries the yaml-language-server modeline."""
    for file in sorted(FLEET.glob("*.yaml")):
        documents = file.read_text().split("\n---\n")
        assert all(doc.startswith(MODELINE) for doc in documents), file.name


def test_json_schema_accepts_every_sample_document() -> None:
    """The committed schema validates each document of the sample fleet."""
    validator = jsonschema.Draft202012Validator(schema.manifest_schema())
    for file in sorted(FLEET.glob("*.yaml")):
        for document in yaml.safe_load_all(file.read_text()):
            assert not list(validator.iter_errors(document)), file.name
