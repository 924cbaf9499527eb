"""The typer application every command registers on, and the console-script entry point.

A ``ReconcilerError`` becomes one clear line on stderr and exit 1; anything else is a bug and
keeps its traceback. Commands live in the modules beside this one, one per command group.
"""

from __future__ import annotations

import sys

import typer

from reconciler.errors import ReconcilerError

app = typer.Typer(
    name="reconciler",
    help="Declarative, GitOps-style controller for fleets of Agora ConvoAI voice agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ReconcilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
