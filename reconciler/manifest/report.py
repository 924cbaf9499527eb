"""Render a load's diagnostics for people and for machines: text, JSON, GitHub annotations.

Pure functions from a ``LoadResult`` to output; nothing here loads or decides validity. Text goes
through rich so that it is coloured on a terminal and plain elsewhere (``NO_COLOR`` honoured), and
user-written text is never parsed as rich markup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from reconciler.manifest.diagnostics import Diagnostic
from reconciler.manifest.load import LoadResult


def print_text(result: LoadResult, *, source: str, console: Console) -> None:
    """One line per diagnostic, compiler style, then a summary line."""
    for diagnostic in result.diagnostics:
        console.print(_line(diagnostic), soft_wrap=True)
    console.print(summary(result, source=source), soft_wrap=True)


def _line(diagnostic: Diagnostic) -> Text:
    where = diagnostic.path
    if diagnostic.line is not None:
        where += f":{diagnostic.line}"
        if diagnostic.column is not None:
            where += f":{diagnostic.column}"
    style = "bold red" if diagnostic.is_error else "bold yellow"
    text = Text.assemble((where, "bold"), " ", (diagnostic.severity, style), " ")
    if diagnostic.field:
        text.append(diagnostic.field, style="cyan")
        text.append(": ")
    text.append(diagnostic.message)
    return text


def summary(result: LoadResult, *, source: str) -> str:
    """``fleet: valid — 1 project, 5 agents`` or ``fleet: 2 errors, 1 warning``."""
    errors, warnings = len(result.errors), len(result.warnings)
    if result.fleet is None:
        return f"{source}: {_count(errors, 'error')}, {_count(warnings, 'warning')}"
    counts = (
        f"{_count(len(result.fleet.projects), 'project')}, "
        f"{_count(len(result.fleet.agents), 'agent')}"
    )
    extra = f" ({_count(warnings, 'warning')})" if warnings else ""
    return f"{source}: valid — {counts}{extra}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render_json(result: LoadResult, *, source: str) -> str:
    """A stable document for tools: ``valid``, counts and the diagnostics in order."""
    document = {
        "source": source,
        "valid": result.fleet is not None,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "agents": len(result.fleet.agents) if result.fleet else None,
        "digest": result.digest,
        "diagnostics": [_as_json(d) for d in result.diagnostics],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _as_json(diagnostic: Diagnostic) -> dict[str, object]:
    return {
        "path": diagnostic.path,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "field": diagnostic.field,
        "message": diagnostic.message,
        "severity": diagnostic.severity,
    }


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, which show up as annotations on the pull request."""
    lines = []
    for d in diagnostics:
        props = [f"file={_escape_property(d.path)}"]
        if d.line is not None:
            props.append(f"line={d.line}")
            if d.column is not None:
                props.append(f"col={d.column}")
        if d.field:
            props.append(f"title={_escape_property(d.field)}")
        message = f"{d.field}: {d.message}" if d.field else d.message
        lines.append(f"::{d.severity} {','.join(props)}::{_escape_data(message)}\n")
    return "".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
