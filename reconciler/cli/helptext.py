"""``--help`` a person can read: real metavars, examples for every command, prose that wraps at
the terminal's width rather than where the docstring's lines happen to end.

``command()`` builds the click command from the typer app and finishes its help in one place,
so that a command added later gets the same treatment: every option that takes a value shows a
metavar (its choices, or what kind of value: PATH, URL, DURATION...), a flag shows none, each
command's epilog lists the examples below, and each paragraph of a command's help is one line
that rich wraps to the terminal (an indented line, like an example, keeps its line). The entry
point and ``scripts/gen_cli_docs.py`` both use it, so the pages in docs/cli/ say what ``--help``
says. Nothing here changes what a command does.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import typer
from typer._click.core import Context

from reconciler.cli.app import app

# By option name, then by (command path, option name) where one name means different things.
_METAVARS: Final[Mapping[str, str]] = {
    "--api-url": "URL",
    "--state": "PATH|URL",
    "--webhook-url": "URL",
    "--git": "URL",
    "--notify": "TARGET",
    "--interval": "DURATION",
    "--git-interval": "DURATION",
    "--lease-ttl": "DURATION",
    "--stop-grace": "DURATION",
    "--listen": "HOST:PORT",
    "--host": "ADDRESS",
    "--port": "PORT",
    "--out": "FILE",
    "--log-file": "FILE",
    "--log-level": "debug|info|warning|error",
    "--priority": "INTERRUPT|APPEND|IGNORE",
    "--git-ref": "REF",
    "--git-revision": "SHA",
    "--git-path": "DIR",
    "--git-token-file": "FILE",
    "--git-ssh-key-file": "FILE",
    "--git-known-hosts": "FILE",
    "--secrets-dir": "DIR",
    "--fleet": "PATH",
    "--manifests": "PATH",
    "--app-id": "ID",
    "--customer-id": "ID",
    "--customer-secret": "SECRET",
    "--app-certificate": "CERT",
    "--webhook-secret": "SECRET",
    "--quota": "N",
    "--concurrency": "N",
    "--rate-limit": "CALLS/S",
    "--max-delete-fraction": "FRACTION",
    "--to": "PATH|URL",
    "--git-dir": "DIR",
}
_OUTPUTS: Final[Mapping[str, str]] = {
    "validate": "text|json|github",
    "plan": "text|json|markdown",
    "status": "text|wide|json",
}
_ARGUMENTS: Final[Mapping[str, str]] = {
    "path": "PATH",
    "target": "PATH|PLANFILE",
    "name": "AGENT",
    "key": "KEY",
    "text": "TEXT",
    "agent_id": "AGENT_ID",
}
_BY_TYPE: Final[Mapping[type, str]] = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}

EXAMPLES: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "emulator": (
        ("Serve the emulator on port 8080 with the demo credentials", "reconciler emulator"),
        ("Any free port, 5 agents per App ID", "reconciler emulator --port 0 --quota 5"),
    ),
    "validate": (
        ("Check the manifests under fleet/", "reconciler validate fleet"),
        (
            "In CI: typos fail, annotations on the pull request",
            "reconciler validate fleet --strict -o github",
        ),
        (
            "Also resolve every ${env:} and ${file:} reference",
            "reconciler validate fleet --resolve-secrets",
        ),
    ),
    "schema": (("Save the schema for your editor", "reconciler schema > fleet.schema.json"),),
    "plan": (
        ("See what apply would change", "reconciler plan fleet"),
        ("In CI: exit 2 when there are changes", "reconciler plan fleet --detailed-exitcode"),
        ("Save the plan, then apply exactly it", "reconciler plan fleet --out plan.json"),
        ("A pull-request comment", "reconciler plan fleet -o markdown"),
    ),
    "apply": (
        ("Show the plan, ask, then apply", "reconciler apply fleet"),
        ("Apply a saved plan (no question asked)", "reconciler apply plan.json --manifests fleet"),
        (
            "Unattended, waiting for every agent to run",
            "reconciler apply fleet --auto-approve --wait",
        ),
        ("Keep the log events in a file", "reconciler apply fleet --log-file apply.log"),
    ),
    "run": (
        ("Keep fleet/ converged, resync every minute", "reconciler run fleet --interval 1m"),
        (
            "From a git repository",
            "reconciler run --git https://github.com/org/fleet.git --git-path fleet",
        ),
        ("Two replicas sharing one state", "reconciler run fleet --state postgresql://rec@db/rec"),
    ),
    "version": (("Print the version", "reconciler version"),),
    "status": (
        ("The fleet at a glance (fits 100 columns)", "reconciler status fleet"),
        ("Every column", "reconciler status fleet -o wide"),
        ("For scripts", "reconciler status fleet -o json"),
    ),
    "speak": (("Say something now", 'reconciler speak demo/support "We will be right back."'),),
    "interrupt": (("Stop the agent mid-sentence", "reconciler interrupt demo/support"),),
    "think": (
        ("Give the agent a prompt", 'reconciler think support "Summarise the call so far."'),
    ),
    "history": (("The conversation so far, as JSON", "reconciler history demo/support -o json"),),
    "import": (
        (
            "Adopt an agent started by hand",
            "reconciler import demo/support 1NT29X10YHxxxxxWJOXLYHNYB",
        ),
    ),
    "state": (("What the state owns", "reconciler state list"),),
    "state list": (("Every record, as JSON", "reconciler state list -o json"),),
    "state show": (("One record", "reconciler state show demo/support"),),
    "state rm": (("Forget an agent (it keeps running)", "reconciler state rm demo/support"),),
    "state recover": (
        ("Rebuild a lost state from the live agents", "reconciler state recover fleet"),
    ),
    "state migrate": (
        (
            "Move a laptop's state to a team's PostgreSQL",
            "reconciler state migrate --to postgresql://reconciler@db/fleet?schema=prod",
        ),
    ),
}


def command() -> Any:
    """The click command of the whole CLI, its help finished (see the module docstring)."""
    root = typer.main.get_command(app)
    for path, cmd in _walk(root, ()):
        name = " ".join(path)
        for param in cmd.params:
            _set_metavar(param, command=name)
        help_option = cmd.get_help_option(Context(cmd))  # made once, then cached
        if help_option is not None:
            help_option.metavar = ""
        if path:
            cmd.help = reflow(cmd.help or "")
            cmd.epilog = epilog(name)
    return root


def epilog(name: str) -> str | None:
    """The examples of command ``name`` (``state rm``), one per line, or None."""
    examples = EXAMPLES.get(name)
    if not examples:
        return None
    lines = [f"  # {what}\n  $ {line}" for what, line in examples]
    return "Examples:\n\n" + "\n\n".join(lines)


def reflow(text: str) -> str:
    """Each paragraph on one line, so that it wraps at the terminal's width; lines that start
    with a space, a dash or a backspace mark keep their breaks."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        paragraph
        if re.search(r"^[ \t\b-]", paragraph, re.MULTILINE)
        else " ".join(paragraph.split())
        for paragraph in paragraphs
    )


def _walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


def _set_metavar(param: Any, *, command: str) -> None:
    if param.metavar is not None:
        return
    annotation = param.type_descriptor.annotation
    if getattr(param, "is_flag", False) or annotation is bool:
        param.metavar = ""
        return
    if param.param_type_name == "argument":
        param.metavar = _ARGUMENTS.get(param.name, param.name.upper())
        param.display_type_rich = lambda ctx: None  # the metavar says it; no "<path>" beside it
        if param.required:  # usage as click and kubectl write it: KEY, not {KEY}
            param._usage_display_name = lambda: param.metavar
        return
    long = next((opt for opt in param.opts if opt.startswith("--")), "")
    if long == "--output":
        param.metavar = _OUTPUTS.get(command, "text|json")
    elif long in _METAVARS:
        param.metavar = _METAVARS[long]
    else:
        element = getattr(annotation, "__args__", (annotation,))[0]
        param.metavar = _BY_TYPE.get(element, "VALUE")
