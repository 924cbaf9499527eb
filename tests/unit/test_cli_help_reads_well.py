"""``--help`` a person can read: metavars instead of ``<str>``/``<bool>``, usage without braces,
examples under every command, and prose that wraps at the terminal rather than the docstring."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.cli import helptext


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        yield " ".join(path), cmd
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    return walk(helptext.command(), ())


COMMANDS = [name for name, _ in _commands() if name]


def _help(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        helptext.command().main([*name.split(), "--help"], prog_name="reconciler")
    return capsys.readouterr().out


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_help_shows_metavars_not_python_types(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _help(name, capsys, monkeypatch)
    assert not re.search(r"<(bool|str|int|float|path|list\[\w+\])>", shown), shown
    usage = next(line for line in shown.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage
    assert max(len(line.rstrip()) for line in shown.splitlines()) <= 100


def test_every_option_that_takes_a_value_names_it() -> None:
    """A flag shows no metavar; every other option and argument an upper-case one or choices."""
    for name, cmd in _commands():
        for param in cmd.params:
            takes_value = not getattr(param, "is_flag", False)
            if not takes_value:
                assert param.metavar == "", (name, param.opts)
                continue
            assert param.metavar, (name, param.opts)
            assert param.metavar == param.metavar.upper() or "|" in param.metavar, param.metavar


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_examples(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _help(name, capsys, monkeypatch)
    assert "Examples:" in shown
    for _, line in helptext.EXAMPLES[name]:
        assert f"$ {line}" in shown
        assert line.startswith(f"reconciler {name.split()[0]}")


def test_the_status_and_output_choices_are_listed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "text|json|markdown" in _help("plan", capsys, monkeypatch)
    assert "text|wide|json" in _help("status", capsys, monkeypatch)
    assert "INTERRUPT|APPEND|IGNORE" in _help("speak", capsys, monkeypatch)


def test_paragraphs_wrap_at_the_terminal_not_at_the_docstring() -> None:
    """A docstring's line breaks inside a paragraph go; indented lines and lists keep theirs."""
    text = "First line.\n\nA paragraph\nbroken in two.\n\n  $ an example\n  $ another"
    assert helptext.reflow(text) == (
        "First line.\n\nA paragraph broken in two.\n\n  $ an example\n  $ another"
    )
    for name, cmd in _commands():
        for paragraph in (cmd.help or "").split("\n\n"):
            if not re.search(r"^[ \t\b-]", paragraph, re.MULTILINE):
                assert "\n" not in paragraph, (name, paragraph)
