"""README.md's manifest reference is the one the models generate, and every field is described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from reconciler.manifest import models, reference, rollout

README = Path(__file__).parents[2] / reference.README
SPEC_MODELS = (
    models.Metadata,
    models.AgentMetadata,
    models.ProjectSettings,
    models.ProfileSettings,
    models.AgentTemplate,
    models.AgentSettings,
    models.AgentSetSettings,
    models.Properties,
    rollout.Rollout,
)


def test_readme_holds_the_generated_reference() -> None:
    """The block between the README's markers is exactly ``render_reference()``."""
    block = reference.readme_block(README.read_text(encoding="utf-8"))
    assert block == reference.render_reference(), (
        f"README.md's manifest reference is stale: regenerate it with `{reference.REGENERATE}`"
    )


@pytest.mark.parametrize("model", SPEC_MODELS, ids=lambda model: model.__name__)
def test_every_field_has_a_description(model: type[BaseModel]) -> None:
    """An undescribed field would leave an empty cell in the reference and nothing in editors."""
    missing = [name for name, field in model.model_fields.items() if not field.description]
    assert not missing, f"{model.__name__} fields without description=: {missing}"


@pytest.mark.parametrize("kind", sorted(models.KINDS))
def test_every_kind_is_described(kind: str) -> None:
    """Each kind gets a heading and the sentence its class docstring gives it."""
    model = models.KINDS[kind]
    assert model.__doc__
    assert f"#### {kind}\n\n{model.__doc__.splitlines()[0]}" in reference.render_reference()


def test_every_table_row_has_four_cells() -> None:
    """A ``|`` inside a description is escaped, so no cell spills into the next column."""
    rows = [line for line in reference.render_reference().splitlines() if line.startswith("| ")]
    assert rows
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 5, row


def test_each_nested_object_gets_one_table() -> None:
    """``properties`` is shared by three kinds but tabled once; later rows link to it."""
    text = reference.render_reference()
    assert text.count("##### The `properties` object") == 1
    assert text.count("##### The `template` object") == 1
    assert text.count("[object](#the-properties-object)") == 3


def test_write_replaces_only_the_block(tmp_path: Path) -> None:
    """``--write`` keeps everything outside the markers as it was."""
    readme = tmp_path / "README.md"
    before, after = "# Title\n\n", "\n## Next\nmore text\n"
    readme.write_text(
        f"{before}{reference.START_MARKER}\nold\n{reference.END_MARKER}{after}", encoding="utf-8"
    )
    assert reference.main(["--write", str(readme)]) == 0
    written = readme.read_text(encoding="utf-8")
    assert written.startswith(before + reference.START_MARKER + "\n")
    assert written.endswith(reference.END_MARKER + after)
    assert reference.readme_block(written) == reference.render_reference()


def test_missing_markers_are_an_error() -> None:
    """Writing into a README without the markers fails instead of appending anywhere."""
    with pytest.raises(ValueError, match="markers"):
        reference.with_reference("# no markers here\n", reference="x")
