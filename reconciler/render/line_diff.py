"""Multi-line values as a line diff: prompts are what people edit most, and one long JSON line
with ``\\n`` escapes hides what changed in them (Terraform shows such strings line by line too).

A value that holds a string of several lines is laid out as YAML, with every multi-line string as
a literal block, and the two sides are compared line by line. Pure: a value in, lines out; it is
only asked about fields that are not sensitive.
"""

from __future__ import annotations

import difflib
from typing import Any, Final

import yaml

# Lines of unchanged context around each changed run, as ``diff -u`` shows by default.
CONTEXT_LINES: Final = 3


def has_multiline_string(data: Any) -> bool:
    """Whether any string inside a JSON-like value spans several lines."""
    if isinstance(data, str):
        return "\n" in data.strip("\n")
    if isinstance(data, dict):
        return any(has_multiline_string(item) for item in data.values())
    if isinstance(data, list):
        return any(has_multiline_string(item) for item in data)
    return False


def line_diff(before: Any, after: Any) -> tuple[str, ...] | None:
    """The changed lines of two values, each prefixed ``-``, ``+`` or a space; None when neither
    side holds a multi-line string (a one-line ``before -> after`` then reads better)."""
    if not (has_multiline_string(before) or has_multiline_string(after)):
        return None
    diff = difflib.unified_diff(_lines(before), _lines(after), n=CONTEXT_LINES, lineterm="")
    return tuple(line for line in diff if not line.startswith(("---", "+++", "@@")))


def _lines(data: Any) -> list[str]:
    text = yaml.dump(data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=True, width=10_000)
    return text.removesuffix("...\n").rstrip("\n").split("\n")


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so each line of a prompt is a line of the diff."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _represent_str)
