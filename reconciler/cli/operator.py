"""Operator commands: ``status`` of the fleet, and speak, interrupt, think, history on one agent.

Typer wiring only: each reads the workspace, calls ``operate`` and prints what it returns.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli import gitflags
from reconciler.cli.app import app
from reconciler.cli.options import (
    AgentName,
    ApiUrlOption,
    FleetOption,
    OutputOption,
    PathArgument,
    StateOption,
)

if TYPE_CHECKING:
    from reconciler import operate


@app.command()
def status(
    path: PathArgument = Path("fleet"),
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", help="text (fits 100 columns), wide (every column) or json."
        ),
    ] = "text",
    api_url: ApiUrlOption = None,
    state: StateOption = None,
    daemon: Annotated[
        str | None,
        typer.Option(
            "--daemon",
            envvar="RECONCILER_DAEMON_URL",
            show_envvar=True,
            metavar="URL",
            help="A running daemon's --listen address (http://host:port): also show the last "
            "error Agora reported for each agent (event 110), which only the daemon hears.",
        ),
    ] = None,
    git_dir: gitflags.GitDirOption = None,
) -> None:
    """Show each agent: what runs, its token, its drift from the manifests; never changes one."""

    from reconciler import operate, reconcile
    from reconciler.plan.status import with_errors
    from reconciler.render.status import render_status_json, render_status_text

    if output not in ("text", "wide", "json"):
        raise typer.BadParameter("must be text, wide or json", param_hint="--output")
    workspace = dataclasses.replace(
        _workspace(path, api_url=api_url, state=state), git_root=git_dir
    )
    found = asyncio.run(operate.fleet_status(workspace))
    if daemon is not None:
        from reconciler.daemon.last_errors import fetch

        found = with_errors(found, fetch(daemon))
    if output == "json":
        sys.stdout.write(render_status_json(found))
    else:
        color = reconcile.color_wanted(sys.stdout, environ=os.environ)
        sys.stdout.write(render_status_text(found, color=color, wide=output == "wide"))


@app.command()
def speak(
    name: AgentName,
    text: Annotated[str, typer.Argument(help="What to say, at most 512 bytes of UTF-8.")],
    priority: Annotated[
        str | None,
        typer.Option(help="INTERRUPT what it says now (default), APPEND after it, IGNORE if busy."),
    ] = None,
    no_interruptable: Annotated[
        bool, typer.Option("--no-interruptable", help="The user cannot talk over it.")
    ] = False,
    fleet: FleetOption = Path("fleet"),
    api_url: ApiUrlOption = None,
    state: StateOption = None,
) -> None:
    """Have a running agent say TEXT in its channel (not for mllm agents)."""

    from reconciler import operate
    from reconciler.agora.wire import SpeakPriority

    try:
        chosen = None if priority is None else SpeakPriority(priority.upper())
    except ValueError:
        raise typer.BadParameter(
            "must be INTERRUPT, APPEND or IGNORE", param_hint="--priority"
        ) from None
    workspace = _workspace(fleet, api_url=api_url, state=state)
    done = asyncio.run(
        operate.speak(
            workspace,
            name,
            text,
            priority=chosen,
            interruptable=False if no_interruptable else None,
        )
    )
    print(done.describe())


@app.command()
def interrupt(
    name: AgentName,
    fleet: FleetOption = Path("fleet"),
    api_url: ApiUrlOption = None,
    state: StateOption = None,
) -> None:
    """Make a running agent stop speaking or thinking now."""

    from reconciler import operate

    workspace = _workspace(fleet, api_url=api_url, state=state)
    print(asyncio.run(operate.interrupt(workspace, name)).describe())


@app.command()
def think(
    name: AgentName,
    text: Annotated[str, typer.Argument(help="Taken by the agent as if the user had said it.")],
    fleet: FleetOption = Path("fleet"),
    api_url: ApiUrlOption = None,
    state: StateOption = None,
) -> None:
    """Hand a running agent TEXT to think about and answer."""

    from reconciler import operate

    workspace = _workspace(fleet, api_url=api_url, state=state)
    print(asyncio.run(operate.think(workspace, name, text)).describe())


@app.command()
def history(
    name: AgentName,
    output: OutputOption = "text",
    fleet: FleetOption = Path("fleet"),
    api_url: ApiUrlOption = None,
    state: StateOption = None,
) -> None:
    """Print a running agent's short-term history (Agora keeps it only while the agent runs)."""

    from reconciler import operate
    from reconciler.render.history import render_history_json, render_history_text

    fmt = _text_or_json(output)
    workspace = _workspace(fleet, api_url=api_url, state=state)
    found = asyncio.run(operate.history(workspace, name))
    render = render_history_json if fmt == "json" else render_history_text
    sys.stdout.write(render(found.key, found.response))


def _workspace(fleet: Path, *, api_url: str | None, state: str | None) -> operate.Workspace:
    """What every read or operator command starts from; their logs only say what went wrong."""

    from reconciler import logs, operate

    logs.configure_logging(level="warning")
    return operate.Workspace.from_flags(fleet, api_url=api_url, state=state, environ=os.environ)


def _text_or_json(output: str) -> str:
    if output not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--output")
    return output
