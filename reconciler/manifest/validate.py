"""What ``reconciler validate`` does: load the manifests offline, show the diagnostics, judge.

The CLI only parses flags and calls ``run``; this module picks the output format and turns the
result into the exit code (0 valid, 1 not). It talks to no API, and resolves secrets only when
asked, to check that they resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from rich.console import Console

from reconciler.manifest import load, report


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


def run(
    path: Path,
    *,
    output: OutputFormat,
    resolve_secrets: bool,
    environ: Mapping[str, str],
    stdout: TextIO,
    strict: bool = False,
) -> int:
    """Validate ``path`` and report to ``stdout``; the exit code says whether it is valid.

    ``strict`` makes property names Agora does not document errors rather than warnings.
    """
    result = load.load_fleet(path, environ=environ if resolve_secrets else None, strict=strict)
    source = str(path)
    if output is OutputFormat.JSON:
        stdout.write(report.render_json(result, source=source))
    elif output is OutputFormat.GITHUB:
        stdout.write(report.render_github(result.diagnostics))
        stdout.write(report.summary(result, source=source) + "\n")
    else:
        report.print_text(result, source=source, console=Console(file=stdout, highlight=False))
    return 0 if result.fleet is not None else 1
