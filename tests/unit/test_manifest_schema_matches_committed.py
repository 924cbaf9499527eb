"""The committed fleet/.schema/reconciler-v1.json is exactly what `reconciler schema` prints."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifest import schema

COMMITTED = Path(__file__).parents[2] / schema.COMMITTED_PATH


def test_committed_schema_equals_the_generated_one() -> None:
    """Regenerate with `reconciler schema > fleet/.schema/reconciler-v1.json` when this fails."""
    assert COMMITTED.read_text() == schema.render_schema()


def test_schema_command_prints_the_schema() -> None:
    """The CLI prints the same text, and it is a valid JSON Schema."""
    result = CliRunner().invoke(app, ["schema"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output == schema.render_schema()
    jsonschema.Draft202012Validator.check_schema(json.loads(result.output))


def test_schema_chooses_the_document_model_by_kind() -> None:
    """An editor can tell the five kinds apart."""
    document = schema.manifest_schema()
    mapping = document["discriminator"]["mapping"]
    assert sorted(mapping) == ["Agent", "AgentSet", "Moved", "Profile", "Project"]
