"""The flags and arguments several commands share, declared once so their help never drifts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

PathArgument = Annotated[Path, typer.Argument(help="Manifest directory or file.")]
FleetOption = Annotated[
    Path, typer.Option("--fleet", help="Manifest directory or file that names the agent.")
]
ApiUrlOption = Annotated[
    str | None, typer.Option("--api-url", help="Base URL for every project (else AGORA_API_URL).")
]
StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        envvar="RECONCILER_STATE",
        help="State file (default .reconciler/state.db), or a shared postgresql://user@host/db"
        "[?schema=NAME] URL.",
        show_envvar=True,
    ),
]
AgentName = Annotated[
    str, typer.Argument(help="The agent's manifest key project/name, or name when unambiguous.")
]
OutputOption = Annotated[str, typer.Option("--output", "-o", help="text or json.")]
AllowMassDeleteOption = Annotated[
    bool, typer.Option("--allow-mass-delete", help="Accept deleting most or all owned agents.")
]
MaxDeleteFractionOption = Annotated[
    float | None,
    typer.Option(
        "--max-delete-fraction",
        min=0.0,
        max=1.0,
        help="Share of a project's owned agents one plan may delete (default: the Project's "
        "maxDeleteFraction, 0.5); deleting all of them always needs --allow-mass-delete.",
    ),
]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="Log level on stderr.")]
NoColorOption = Annotated[
    bool,
    typer.Option(
        "--no-color",
        help="No colours and no live display, as with NO_COLOR set (CI is treated the same way).",
    ),
]
