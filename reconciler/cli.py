"""Typer wiring only: parse flags, call one stage function, turn its outcome into an exit code.

No logic lives here. A ``ReconcilerError`` becomes one clear line on stderr and exit 1; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
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


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8080,
    app_id: Annotated[str | None, typer.Option(help="App ID the emulator serves.")] = None,
    customer_id: Annotated[str | None, typer.Option(help="Customer ID for Basic auth.")] = None,
    customer_secret: Annotated[
        str | None, typer.Option(help="Customer secret for Basic auth.")
    ] = None,
    app_certificate: Annotated[
        str | None, typer.Option(help="App certificate that signs `agora token=` tokens.")
    ] = None,
    quota: Annotated[int, typer.Option(help="Concurrent agents allowed per App ID.")] = 20,
    strict_names: Annotated[
        bool, typer.Option(help="Never free an agent name, even after the agent stopped.")
    ] = False,
) -> None:
    """Run a local emulator of the Agora ConvoAI REST API (demo credentials by default)."""
    from reconciler.emulator import EmulatorConfig, serve

    defaults = EmulatorConfig()
    config = EmulatorConfig(
        app_id=app_id or defaults.app_id,
        customer_id=customer_id or defaults.customer_id,
        customer_secret=customer_secret or defaults.customer_secret,
        app_certificate=app_certificate or defaults.app_certificate,
        quota=quota,
        strict_names=strict_names,
    )
    serve(config, host=host, port=port)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ReconcilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
