"""Fleet commands: ``emulator``, ``validate``, ``schema``, ``plan``, ``apply`` and ``run``.

Typer wiring only: parse flags, call one stage function, turn its outcome into an exit code.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.options import (
    AllowMassDeleteOption,
    ApiUrlOption,
    LogLevelOption,
    PathArgument,
    StateOption,
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


@app.command()
def validate(
    path: PathArgument = Path("fleet"),
    output: Annotated[
        str, typer.Option("--output", "-o", help="Report format: text, json or github.")
    ] = "text",
    resolve_secrets: Annotated[
        bool, typer.Option(help="Also check that every ${env:} and ${file:} reference resolves.")
    ] = False,
) -> None:
    """Check manifests offline; exit 0 when valid, 1 with diagnostics."""

    from reconciler.manifest.validate import OutputFormat, run

    try:
        fmt = OutputFormat(output)
    except ValueError:
        raise typer.BadParameter("must be text, json or github", param_hint="--output") from None
    code = run(
        path, output=fmt, resolve_secrets=resolve_secrets, environ=os.environ, stdout=sys.stdout
    )
    raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of manifests (for editors: see the fleet files' modeline)."""
    from reconciler.manifest.schema import render_schema

    sys.stdout.write(render_schema())


@app.command()
def plan(
    path: PathArgument = Path("fleet"),
    output: Annotated[
        str, typer.Option("--output", "-o", help="text, json, or markdown (for a pull request).")
    ] = "text",
    out: Annotated[
        Path | None, typer.Option("--out", help="Save the plan to this file for `apply`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes.")
    ] = False,
    api_url: ApiUrlOption = None,
    state: StateOption = None,
    allow_mass_delete: AllowMassDeleteOption = False,
) -> None:
    """Show what apply would change; never joins, updates or leaves an agent.

    Exit 0: no changes (or changes without --detailed-exitcode); 2: changes; 3: refused by a
    safety rule; 1: error. Markdown longer than one pull-request comment comes as several,
    separated by a `<!-- reconciler: next comment -->` line.
    """

    from reconciler import logs, reconcile

    if output not in reconcile.PLAN_FORMATS:
        raise typer.BadParameter("must be text, json or markdown", param_hint="--output")
    logs.configure_logging(level="warning")
    code = asyncio.run(
        reconcile.plan_command(
            path,
            output=output,
            out=out,
            detailed_exitcode=detailed_exitcode,
            api_url=api_url,
            state_path=state,
            allow_mass_delete=allow_mass_delete,
            environ=os.environ,
            stdout=sys.stdout,
            stderr=sys.stderr,
        )
    )
    raise typer.Exit(code)


@app.command("apply")
def apply_(
    target: Annotated[
        Path, typer.Argument(help="Manifest directory or file, or a plan saved by `plan --out`.")
    ] = Path("fleet"),
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Apply without asking for 'yes'.")
    ] = False,
    allow_mass_delete: AllowMassDeleteOption = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Changes in flight at once.")
    ] = 4,
    rate_limit: Annotated[
        float, typer.Option("--rate-limit", min=0.1, help="API calls per second per project.")
    ] = 10.0,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until each joined agent is RUNNING.")
    ] = False,
    api_url: ApiUrlOption = None,
    state: StateOption = None,
    manifests: Annotated[
        Path, typer.Option("--manifests", help="The manifests a saved plan was made from.")
    ] = Path("fleet"),
    log_level: LogLevelOption = "info",
) -> None:
    """Change the live fleet to match the manifests, after showing the plan and asking.

    Exit 0: done; 1: error or partial failure (the summary says what failed); 3: refused by a
    safety rule, or a saved plan gone stale.
    """

    from reconciler import logs
    from reconciler.apply.ratelimit import RateLimit
    from reconciler.apply.steps import ApplySettings
    from reconciler.reconcile import apply_pass, connect

    try:
        logs.configure_logging(level=log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None
    settings = ApplySettings(
        concurrency=concurrency,
        rate_limit=RateLimit(per_second=rate_limit, burst=max(1, math.ceil(rate_limit))),
        wait=wait,
    )
    code = asyncio.run(
        apply_pass.apply_command(
            target,
            manifests=manifests,
            options=apply_pass.ApplyOptions(
                auto_approve=auto_approve, allow_mass_delete=allow_mass_delete, settings=settings
            ),
            state_path=state,
            api_url=connect.api_url_override(api_url, environ=os.environ),
            environ=os.environ,
            streams=apply_pass.Streams(stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr),
        )
    )
    raise typer.Exit(code)


@app.command()
def run(
    path: PathArgument = Path("fleet"),
    interval: Annotated[
        str, typer.Option("--interval", help="Resync period, e.g. 30s, 2m or 1h.")
    ] = "30s",
    listen: Annotated[
        str,
        typer.Option(
            "--listen",
            envvar="RECONCILER_LISTEN",
            help="HOST:PORT serving /healthz, /readyz and /metrics.",
        ),
    ] = "127.0.0.1:9090",
    api_url: ApiUrlOption = None,
    state: StateOption = None,
    lease_ttl: Annotated[
        str,
        typer.Option(
            "--lease-ttl",
            envvar="RECONCILER_LEASE_TTL",
            help="On a shared postgresql:// state: how long a dead leader's lease blocks the "
            "standby replicas, e.g. 15s.",
        ),
    ] = "15s",
    allow_mass_delete: AllowMassDeleteOption = False,
    log_level: LogLevelOption = "info",
) -> None:
    """Keep the fleet converged: a pass at start, on manifest changes, every interval.

    Stopped agents are re-created per restartPolicy, tokens renewed before they expire; an
    invalid edit leaves the last good manifests in force. SIGTERM or SIGINT finishes the
    action in flight and exits 0, leaving agents running; SIGHUP asks for a pass. On a shared
    PostgreSQL state several replicas may run: one leads, the others stand by and take over
    within --lease-ttl of its death.
    """

    from reconciler import daemon, logs
    from reconciler.daemon import health
    from reconciler.plan import SafetyLimits
    from reconciler.reconcile import connect

    try:
        seconds = daemon.parse_duration(interval)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--interval") from None
    try:
        ttl = daemon.parse_duration(lease_ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lease-ttl") from None
    try:
        address = health.Address.parse(listen)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--listen") from None
    try:
        logs.configure_logging(level=log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None
    settings = daemon.DaemonSettings(
        manifests=path,
        interval=seconds,
        limits=SafetyLimits(allow_mass_delete=allow_mass_delete),
    )
    code = asyncio.run(
        daemon.run_daemon(
            settings,
            state_path=state,
            listen=address,
            api_url=connect.api_url_override(api_url, environ=os.environ),
            environ=os.environ,
            lease_ttl=ttl,
        )
    )
    raise typer.Exit(code)
