"""The typer application every command registers on, and the console-script entry point.

Exit codes are one table (README, "Exit codes"): a ``ReconcilerError`` becomes one clear line on
stderr and exit 1, and so does a usage error (a typo in a flag must not read as "changes
present", which ``--detailed-exitcode`` says with 2); Ctrl-C exits 130. Anything else is a bug
and keeps its traceback. Commands live in the modules beside this one, one per command group.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Final

import typer

from reconciler.errors import ReconcilerError

EXIT_ERROR: Final = 1
EXIT_INTERRUPTED: Final = 130

app = typer.Typer(
    name="reconciler",
    help="Declarative, GitOps-style controller for fleets of Agora ConvoAI voice agents.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        from reconciler.cli.meta import version_line

        print(version_line())
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and the build's git revision, then exit.",
        ),
    ] = False,
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
    del version
    if secrets_dir:
        from reconciler.manifest.secrets import SECRETS_DIRS_ENV

        named = [os.environ.get(SECRETS_DIRS_ENV, ""), *(str(d) for d in secrets_dir)]
        os.environ[SECRETS_DIRS_ENV] = os.pathsep.join(d for d in named if d)


def main() -> None:
    """Console-script entry point."""
    from reconciler.cli.helptext import command
    from reconciler.heap import tune_collector

    cli = command()
    tune_collector()
    try:
        code = cli.main(prog_name="reconciler", standalone_mode=False)
    except ReconcilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except typer.TyperException as exc:
        # A usage error or a bad parameter: typer shows it (with the command's usage line).
        exc.show()  # type: ignore[attr-defined]
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else 0)
