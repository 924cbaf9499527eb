"""`reconciler validate` speaks text to people, JSON to tools and annotations to GitHub."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifest import load, report
from reconciler.manifest.diagnostics import Diagnostic

CORPUS = Path(__file__).parents[1] / "manifests" / "bad"


def _validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", *args], env={}, catch_exceptions=False)
    return result.exit_code, result.output


def test_text_report_is_one_plain_line_per_problem_off_a_terminal() -> None:
    """No colour codes when not on a terminal; a summary closes the report."""
    code, output = _validate(str(CORPUS / "uid-number.yaml"))
    assert code == 1
    assert "\x1b[" not in output
    assert output.splitlines() == [
        f"{CORPUS / 'uid-number.yaml'}:15:20 error spec.properties.agent_rtc_uid: "
        "must be a string of digits (got the number 1001) — quote it",
        f"{CORPUS / 'uid-number.yaml'}: 1 error, 0 warnings",
    ]


def test_text_report_is_coloured_on_a_terminal() -> None:
    """On a terminal rich adds colour, and text written by users is never read as markup."""
    result = load.load_fleet(CORPUS / "uid-number.yaml")
    buffer = io.StringIO()
    report.print_text(
        result, source="x", console=Console(file=buffer, force_terminal=True, width=300)
    )
    assert "\x1b[" in buffer.getvalue()
    plain = io.StringIO()
    bracketed = load.LoadResult(None, (Diagnostic("f.yaml", 1, 1, "a", "[bold]x[/bold]"),), "d")
    report.print_text(bracketed, source="x", console=Console(file=plain))
    assert "[bold]x[/bold]" in plain.getvalue()


def test_json_report_carries_every_field() -> None:
    """Tools get validity, counts and each diagnostic's place and text."""
    code, output = _validate(str(CORPUS / "uid-number.yaml"), "-o", "json")
    assert code == 1
    document = json.loads(output)
    assert document["valid"] is False
    assert (document["errors"], document["warnings"]) == (1, 0)
    assert document["diagnostics"] == [
        {
            "path": str(CORPUS / "uid-number.yaml"),
            "line": 15,
            "column": 20,
            "field": "spec.properties.agent_rtc_uid",
            "message": "must be a string of digits (got the number 1001) — quote it",
            "severity": "error",
        }
    ]


def test_github_report_is_workflow_annotations() -> None:
    """::error file=…,line=…,col=…::message, one per diagnostic, then the summary."""
    path = CORPUS / "missing-llm-and-tts.yaml"
    code, output = _validate(str(path), "-o", "github")
    assert code == 0
    first = output.splitlines()[0]
    assert first.startswith(f"::warning file={path},line=14,col=3,title=spec.properties::")
    assert first.endswith(
        "::spec.properties: has no llm and tts (nor mllm), here or in its profile: "
        "the Agora API will refuse to start this agent"
    )


def test_github_annotations_escape_what_would_break_them() -> None:
    """Newlines and percent signs in data, colons and commas in properties, are escaped."""
    diagnostic = Diagnostic("a,b:c.yaml", 3, 4, "spec", "50%\nsecond line", "error")
    assert report.render_github([diagnostic]) == (
        "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=spec::spec: 50%25%0Asecond line\n"
    )


def test_exit_code_is_0_when_only_warnings_remain() -> None:
    """Warnings inform; only errors fail validation."""
    code, output = _validate(str(CORPUS / "yaml11-boolean-for-bool.yaml"))
    assert code == 0
    assert "valid — 1 project, 1 agent (1 warning)" in output


def test_an_unknown_output_format_is_a_usage_error() -> None:
    """Exit 2, as for any bad flag."""
    code, output = _validate("-o", "xml")
    assert code == 2
    assert "must be text, json or github" in output
