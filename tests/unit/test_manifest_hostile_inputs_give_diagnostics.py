"""Whatever the input, the loader answers with diagnostics: binary, empty, huge, deep, odd YAML."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifest import load


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", 1, "is not UTF-8 text (byte 0x89)"),
        (b"kind: Agent\nname: caf\xe9\n", 2, "is not UTF-8 text (byte 0xe9)"),
        (b"kind: Agent\x00\n", 1, "contains the control character U+0000"),
        (b"a: [" * 200, 1, "nesting is deeper than 64 levels"),
        (b"a: &x [1]\nb: *x\n", 2, "aliases (*name) are not supported"),
        (b"a: !!python/object:os.system {}\n", 1, "unsupported tag !!python/object:os.system"),
        (b"a: !!binary aGk=\n", 1, "unsupported tag !!binary"),
        (b"a: !!int\n", 1, "'' is not a valid !!int"),
        (b"a: !!float _\n", 1, "'_' is not a valid !!float"),
        (b"a: !!int 0b_\n", 1, "'0b_' is not a valid !!int"),
        (b"a: .nan\n", 1, ".nan is not a finite number"),
        (b"<<: {a: 1}\n", 1, "merge keys (<<) are not supported"),
        (b"? [a, b]\n: 1\n", 1, "mapping keys must be plain words or quoted strings"),
        (b"just a sentence\n", 1, "a manifest document must be a mapping"),
        (b"- 1\n- 2\n", 1, "a manifest document must be a mapping"),
        (b"a: 'unclosed\n", 2, "YAML syntax error"),
        (b"\tkind: Agent\n", 1, "YAML syntax error"),
        (b"kind: 12\n", 1, "kind: must be a word"),
        (b"kind: [Agent]\n", 1, "kind: must be a word"),
    ],
)
def test_hostile_file_gives_a_located_diagnostic(
    tmp_path: Path, content: bytes, line: int, message: str
) -> None:
    """Each input yields an error on the expected line, and no fleet."""
    (tmp_path / "input.yaml").write_bytes(content)
    result = load.load_fleet(tmp_path)
    assert result.fleet is None
    assert any(d.line == line and message in str(d) for d in result.errors), result.diagnostics


def test_empty_files_and_empty_documents_are_an_empty_fleet(tmp_path: Path) -> None:
    """Nothing written means nothing desired, and nothing wrong."""
    (tmp_path / "empty.yaml").write_bytes(b"")
    (tmp_path / "blank.yml").write_bytes(b"---\n---\n# only a comment\n")
    result = load.load_fleet(tmp_path)
    assert result.diagnostics == ()
    assert result.fleet is not None
    assert not result.fleet.agents


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    """A huge (sparse) file is a diagnostic, not an out-of-memory."""
    with (tmp_path / "huge.yaml").open("wb") as handle:
        handle.truncate(load.MAX_FILE_BYTES + 1)
    result = load.load_fleet(tmp_path)
    assert [d.message for d in result.errors] == ["is larger than 32 MiB, the most we read"]


def test_a_missing_path_is_a_diagnostic_and_exit_1(tmp_path: Path) -> None:
    """No traceback: one line naming the path."""
    missing = tmp_path / "nope"
    result = load.load_fleet(missing)
    assert [str(d) for d in result.diagnostics] == [f"{missing}: no such file or directory"]
    cli = CliRunner().invoke(app, ["validate", str(missing)], catch_exceptions=False)
    assert cli.exit_code == 1
    assert "no such file or directory" in cli.output


def test_a_directory_without_manifests_warns(tmp_path: Path) -> None:
    """Likely a wrong path: say so, but an empty fleet is not an error."""
    (tmp_path / "README.md").write_text("hello")
    result = load.load_fleet(tmp_path)
    assert [d.message for d in result.warnings] == ["holds no *.yaml or *.yml manifests"]
    assert result.fleet is not None


def test_hidden_directories_and_other_files_are_not_read(tmp_path: Path) -> None:
    """.git/, .schema/ and non-YAML files are skipped; a file named directly is read."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "broken.yaml").write_text("a: [")
    (tmp_path / "notes.txt").write_text("a: [")
    assert load.load_fleet(tmp_path).errors == ()
    assert load.load_fleet(tmp_path / "notes.txt").errors != ()


def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    """Reading a named pipe would block forever; it is refused instead."""
    os.mkfifo(tmp_path / "pipe.yaml")
    result = load.load_fleet(tmp_path)
    assert [d.message for d in result.errors] == ["is not a regular file"]


def test_a_syntax_error_keeps_the_documents_before_it(tmp_path: Path) -> None:
    """Documents read before the broken one are still judged; missing references are not guessed."""
    (tmp_path / "f.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Agent\nmetadata: {name: a, project: p}\n"
        "spec: {channel: c, bogus: 1}\n---\na: [\n"
    )
    messages = sorted(str(d) for d in load.load_fleet(tmp_path).errors)
    assert len(messages) == 2
    assert "spec.bogus: unknown field" in messages[0]
    assert "YAML syntax error" in messages[1]
