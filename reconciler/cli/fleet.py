"""Fleet commands: ``emulator``, ``validate``, ``schema``, ``plan``, ``apply`` and ``run``.

Typer wiring only: parse flags, call one stage function, turn its outcome into an exit code.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli import gitflags
from reconciler.cli.app import app
from reconciler.cli.options import (
    AllowMassDeleteOption,
    ApiUrlOption,
    LogLevelOption,
    MaxDeleteFractionOption,
    NoColorOption,
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
    webhook_url: Annotated[
        str | None,
        typer.Option(help="Send signed Notification Center events (101-111) to this URL."),
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(
            envvar="EMULATOR_WEBHOOK_SECRET",
            help="The secret that signs them (the Project's notificationSecret).",
        ),
    ] = None,
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
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )
    if webhook_url is not None and not webhook_secret:
        raise typer.BadParameter("give the secret that signs them", param_hint="--webhook-secret")
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
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Fail on property names Agora does not document (typos), for CI."
        ),
    ] = False,
) -> None:
    """Check manifests offline; exit 0 when valid, 1 with diagnostics."""

    from reconciler.manifest.validate import OutputFormat, run

    try:
        fmt = OutputFormat(output)
    except ValueError:
        raise typer.BadParameter("must be text, json or github", param_hint="--output") from None
    code = run(
        path,
        output=fmt,
        resolve_secrets=resolve_secrets,
        strict=strict,
        environ=os.environ,
        stdout=sys.stdout,
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
    show_unowned: Annotated[
        bool,
        typer.Option(
            "--show-unowned", help="List every agent these manifests do not manage (text view)."
        ),
    ] = False,
    max_delete_fraction: MaxDeleteFractionOption = None,
) -> None:
    """Show what apply would change; never joins, updates or leaves an agent.

    Exit 0: no changes (or changes without --detailed-exitcode); 2: changes; 3: changes held
    back by a safety rule; 1: error. Markdown longer than one pull-request comment comes as several,
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
            max_delete_fraction=max_delete_fraction,
            environ=os.environ,
            stdout=sys.stdout,
            stderr=sys.stderr,
            show_unowned=show_unowned,
        )
    )
    raise typer.Exit(code)


# Spelled out here so that ``--help`` does not import apply; a test keeps it equal to the default.
CONCURRENCY_DEFAULT_TEXT = "16"


@app.command("apply")
def apply_(
    target: Annotated[
        Path, typer.Argument(help="Manifest directory or file, or a plan saved by `plan --out`.")
    ] = Path("fleet"),
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Apply without asking for 'yes'.")
    ] = False,
    allow_mass_delete: AllowMassDeleteOption = False,
    max_delete_fraction: MaxDeleteFractionOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            show_default=False,
            # The backslash keeps rich from reading the brackets as markup.
            help=f"Changes in flight at once.  \\[default: {CONCURRENCY_DEFAULT_TEXT}]",
        ),
    ] = None,
    rate_limit: Annotated[
        float,
        typer.Option(
            "--rate-limit",
            min=0.1,
            help="API calls per second per project; bursts of a tenth of a second's calls "
            "(at least 10).",
        ),
    ] = 10.0,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until each joined agent is RUNNING.")
    ] = False,
    api_url: ApiUrlOption = None,
    state: StateOption = None,
    manifests: Annotated[
        Path, typer.Option("--manifests", help="The manifests a saved plan was made from.")
    ] = Path("fleet"),
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            show_default=False,
            help="Log level on stderr.  \\[default: info; error under the live display]",
        ),
    ] = None,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file", help="Append the log events (JSON lines) here instead of to stderr."
        ),
    ] = None,
    no_color: NoColorOption = False,
) -> None:
    """Change the live fleet to match the manifests, after showing the plan and asking.

    On a terminal a live display shows each action's progress (plain lines elsewhere). Ctrl-C
    once: the changes in flight finish and are recorded, the rest are listed, exit 130; twice:
    stop at once (the state keeps the intents of the changes in flight for the next pass).
    Exit 0: done; 1: error or partial failure (the summary says what failed); 3: changes held
    back by a safety rule (the rest was applied), or a saved plan gone stale; 130: interrupted.
    """

    from reconciler.apply.ratelimit import RateLimit, burst_for
    from reconciler.apply.steps import DEFAULT_CONCURRENCY, ApplySettings
    from reconciler.reconcile import apply_pass, connect, progress

    if no_color:
        os.environ["NO_COLOR"] = "1"  # for every colour decision of this process, logs included
    environ = os.environ
    try:
        progress.configure_apply_logging(level=log_level, log_file=log_file, environ=environ)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None
    except OSError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-file") from None
    settings = ApplySettings(
        concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
        rate_limit=RateLimit(per_second=rate_limit, burst=burst_for(rate_limit)),
        wait=wait,
    )
    code = asyncio.run(
        apply_pass.apply_command(
            target,
            manifests=manifests,
            options=apply_pass.ApplyOptions(
                auto_approve=auto_approve,
                allow_mass_delete=allow_mass_delete,
                max_delete_fraction=max_delete_fraction,
                settings=settings,
            ),
            state_path=state,
            api_url=connect.api_url_override(api_url, environ=environ),
            environ=environ,
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
            help="HOST:PORT serving /healthz, /readyz, /metrics and /webhooks/agora/<project>.",
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
    max_delete_fraction: MaxDeleteFractionOption = None,
    log_level: LogLevelOption = "info",
    git: gitflags.GitUrlOption = None,
    git_ref: gitflags.GitRefOption = "main",
    git_path: gitflags.GitPathOption = "fleet",
    git_interval: gitflags.GitIntervalOption = "1m",
    git_revision: gitflags.GitRevisionOption = None,
    git_token_file: gitflags.GitTokenFileOption = None,
    git_ssh_key_file: gitflags.GitSshKeyFileOption = None,
    git_known_hosts: gitflags.GitKnownHostsOption = None,
    git_verify_signatures: gitflags.GitVerifySignaturesOption = None,
    git_dir: gitflags.GitDirOption = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            envvar="RECONCILER_NOTIFY",
            help="Webhook told of failures, recoveries, flapping, quota, held plans and "
            "revisions: [slack+]URL[#events=KIND,...]; repeatable (the variable: space-separated).",
        ),
    ] = None,
    stop_grace: Annotated[
        str,
        typer.Option("--stop-grace", help="After SIGTERM, how long the pass in flight may run."),
    ] = "10s",
) -> None:
    """Keep the fleet converged: a pass at start, on manifest changes, every interval.

    Stopped agents are re-created per restartPolicy, tokens renewed before they expire; an
    invalid edit leaves the last good manifests in force. SIGTERM or SIGINT finishes the
    action in flight (cancelled after --stop-grace) and exits 0, leaving agents running; SIGHUP
    asks for a pass. With --git the manifests come from the repository's commits (PATH is not
    read): only commits whose manifests load are applied, and POST /webhooks/github fetches at once.
    On a shared postgresql:// state several replicas may run: one leads, the others stand by and
    take over within --lease-ttl of its death.
    """

    from reconciler import daemon, logs
    from reconciler.daemon import health
    from reconciler.notify import parse_target
    from reconciler.plan import SafetyLimits
    from reconciler.reconcile import connect
    from reconciler.reconcile.bounds import Bounds

    try:
        seconds = daemon.parse_duration(interval)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--interval") from None
    try:
        grace = daemon.parse_duration(stop_grace)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--stop-grace") from None
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
    source = gitflags.git_settings(
        git,
        ref=git_ref,
        path=git_path,
        interval=git_interval,
        revision=git_revision,
        token_file=git_token_file,
        ssh_key_file=git_ssh_key_file,
        known_hosts=git_known_hosts,
        allowed_signers=git_verify_signatures,
    )
    targets = []
    for spec in notify or ():
        try:
            targets.append(parse_target(spec))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--notify") from None
    settings = daemon.DaemonSettings(
        manifests=path,
        interval=seconds,
        limits=SafetyLimits(
            allow_mass_delete=allow_mass_delete, max_delete_fraction=max_delete_fraction
        ),
        pass_deadline=Bounds.from_environ(os.environ).pass_deadline,
        stop_grace=grace,
    )
    code = asyncio.run(
        daemon.run_daemon(
            settings,
            state_path=state,
            listen=address,
            api_url=connect.api_url_override(api_url, environ=os.environ),
            environ=os.environ,
            git=source,
            notify=targets,
            lease_ttl=ttl,
            git_root=git_dir,
        )
    )
    raise typer.Exit(code)
