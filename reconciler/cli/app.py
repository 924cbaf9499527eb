"""The typer application every command registers on, and the console-script entry point.

A ``ReconcilerError`` becomes one clear line on stderr and exit 1; anything else is a bug and
keeps its traceback. Commands live in the modules beside this one, one per command group.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from reconciler.errors import ReconcilerError

app = typer.Typer(
    name="reconciler",
    help="Declarative, GitOps-style controller for fleets of Agora ConvoAI voice agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    secrets_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--secrets-dir",
            help="Also allow ${file:} references into this directory (repeatable; also "
            "RECONCILER_SECRETS_DIRS). The fleet directory, /run/secrets, /var/run/secrets and "
            "$CREDENTIALS_DIRECTORY always are.",
        ),
    ] = None,
) -> None:
    """Declarative, GitOps-style controller for fleets of Agora ConvoAI voice agents."""
    if secrets_dir:
        from reconciler.manifest.secrets import SECRETS_DIRS_ENV

        named = [os.environ.get(SECRETS_DIRS_ENV, ""), *(str(d) for d in secrets_dir)]
        os.environ[SECRETS_DIRS_ENV] = os.pathsep.join(d for d in named if d)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ReconcilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
