"""State commands like ``terraform state``: ``state list|show|rm|recover|migrate``, ``import``.

Typer wiring only: each calls ``reconcile.state_commands`` and prints through ``render.state``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.options import (
    ApiUrlOption,
    FleetOption,
    OutputOption,
    PathArgument,
    StateOption,
)

if TYPE_CHECKING:
    from reconciler.reconcile import state_commands
    from reconciler.state import StateTarget

KeyArgument = Annotated[str, typer.Argument(help="The manifest key project/name.")]

state_app = typer.Typer(
    help="Read and change the state by hand, like `terraform state`.", no_args_is_help=True
)
app.add_typer(state_app, name="state")


@state_app.command("list")
def list_records(state: StateOption = None, output: OutputOption = "text") -> None:
    """List the keys the state owns (JSON: every record); reads without the lock."""
    from reconciler.reconcile import state_commands
    from reconciler.render import state as views

    found = state_commands.snapshot(state)
    write = views.render_list_json if _json(output) else views.render_list_text
    sys.stdout.write(write(found))


@state_app.command()
def show(key: KeyArgument, state: StateOption = None, output: OutputOption = "text") -> None:
    """Show what the state holds for KEY; reads without the lock."""
    from reconciler.reconcile import state_commands
    from reconciler.render import state as views

    found = state_commands.record(state, key)
    write = views.render_record_json if _json(output) else views.render_record_text
    sys.stdout.write(write(found))


@state_app.command()
def rm(key: KeyArgument, state: StateOption = None) -> None:
    """Forget KEY without making its agent leave (it keeps running, unmanaged).

    While KEY is still in the manifests, the next plan finds its agent by name and adopts it
    again; remove the entry from the manifests to let the agent go.
    """
    from reconciler.reconcile import state_commands

    gone = state_commands.forget(state, key)
    agent = gone.agent_id or "no agent"
    print(f"Removed {key} from the state; {gone.remote_name} ({agent}) keeps running.")


@state_app.command()
def recover(
    path: PathArgument = Path("fleet"), api_url: ApiUrlOption = None, state: StateOption = None
) -> None:
    """Adopt the live agents that carry this fleet's names and digests but no record owns."""
    from reconciler.reconcile import state_commands

    done = asyncio.run(state_commands.recover(_where(path, api_url=api_url, state=state)))
    sys.stdout.write(state_commands.describe(done.report, left=done.left_to_replace))
    raise typer.Exit(0 if done.report.ok else 1)


@state_app.command()
def migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Where the copy goes: a postgresql://user@host/db[?schema=NAME] URL or a file.",
        ),
    ],
    state: StateOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace whatever the target state holds.")
    ] = False,
) -> None:
    """Copy the whole state (records, intents, generations, lineage, key) to another backend.

    Both states are held while copying, as apply holds one; the source is left as it was.
    """
    from reconciler.reconcile import state_migrate

    sys.stdout.write(state_migrate.migrate(state, to, force=force).describe())


@app.command("import")
def import_agent(
    key: KeyArgument,
    agent_id: Annotated[str, typer.Argument(help="The id of the running agent to adopt.")],
    fleet: FleetOption = Path("fleet"),
    api_url: ApiUrlOption = None,
    state: StateOption = None,
) -> None:
    """Make a running agent started by hand the agent of manifest entry KEY.

    Agora does not tell what an agent was given, so KEY's fixed spec (everything update cannot
    change) is taken on trust; its prompt, LLM parameters and token are sent at once.
    """
    from reconciler.reconcile import state_commands

    where = _where(fleet, api_url=api_url, state=state)
    report = asyncio.run(state_commands.import_agent(where, key, agent_id))
    sys.stdout.write(state_commands.describe(report))
    raise typer.Exit(0 if report.ok else 1)


def _where(fleet: Path, *, api_url: str | None, state: StateTarget | None) -> state_commands.Where:
    from reconciler import logs
    from reconciler.reconcile import connect, state_commands

    logs.configure_logging(level="warning")
    return state_commands.Where(
        fleet=fleet,
        state=state,
        api_url=connect.api_url_override(api_url, environ=os.environ),
        environ=os.environ,
    )


def _json(output: str) -> bool:
    if output not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--output")
    return output == "json"
