"""One pass as far as the plan: load → observe → plan → check (design §4 steps 1–3 and §5).

The edge shell around the pure planner: it reads the manifests and the state, resolves secrets
only to fingerprint them, reads the clock once, observes through read-only views of the clients,
and returns the plan with its provenance. Invalid manifests stop the pass before any call, so a
fleet with load errors never reaches the planner and can never produce a delete.

It never writes the state (a missing state file is read as empty and not created) and never
calls join, update or leave. ``plan_pass`` returns values; ``plan_command`` is what ``reconciler
plan`` runs, and writes only to the streams it is handed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

import structlog

from reconciler import observe, plan, render
from reconciler.agora.client import Transport
from reconciler.apply import payloads
from reconciler.errors import TransportError
from reconciler.manifest import load, secrets
from reconciler.manifest.desired import DesiredFleet
from reconciler.manifest.diagnostics import Diagnostic
from reconciler.reconcile import connect, shrink
from reconciler.reconcile.bounds import Bounds
from reconciler.reconcile.planfile import PlanFile, observed_fingerprint, write_planfile
from reconciler.state import StateSnapshot, StateTarget, read_state

PLAN_FORMATS: Final = ("text", "json", "markdown")
EXIT_CHANGES: Final = 2
EXIT_REFUSED: Final = 3
# Between Markdown comments when a plan is too long for one pull-request comment.
COMMENT_BREAK: Final = "<!-- reconciler: next comment -->\n"


@dataclass(frozen=True)
class LoadFailed:
    """The manifests did not load; nothing was observed or planned."""

    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Planned:
    """A plan (its held-back changes apart), why they are held (empty when none is), and what
    it was made from."""

    planfile: PlanFile
    refusals: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]
    # Per project that loses agents: how the fleet shrinks, and which files went (``shrink``).
    notes: tuple[str, ...] = ()

    @property
    def plan(self) -> plan.Plan:
        return self.planfile.plan


async def observe_all(
    fleet: DesiredFleet,
    *,
    readers: Mapping[str, observe.AgentReader],
    state: StateSnapshot,
    now: float,
    bounds: Bounds | None = None,
) -> observe.ObservedFleet:
    """Observe every project through its read-only reader, under the project's name prefix,
    within the pass deadline and listing at most ``observe_factor`` × its quota of agents."""
    bounds = bounds or Bounds()
    targets = [
        observe.Target(
            project=name,
            reader=reader,
            prefix=fleet.projects[name].name_prefix,
            max_listed=bounds.max_listed(fleet.projects[name].max_concurrent_agents),
        )
        for name, reader in sorted(readers.items())
    ]
    try:
        async with asyncio.timeout(bounds.pass_deadline):
            return await observe.observe_fleet(targets, state=state, now=now)
    except TimeoutError:
        raise TransportError(
            may_have_reached_server=False,
            detail=f"observing the live agents took longer than {bounds.pass_deadline:g} s",
        ) from None


async def observe_and_plan(
    fleet: DesiredFleet,
    *,
    state: StateSnapshot,
    readers: Mapping[str, observe.AgentReader],
    fingerprints: Mapping[str, str],
    now: float,
    bounds: Bounds | None = None,
) -> tuple[plan.Plan, observe.ObservedFleet]:
    """Observe every project through its read-only reader, then plan against ``state``."""
    observed = await observe_all(fleet, readers=readers, state=state, now=now, bounds=bounds)
    computed = plan.make_plan(
        fleet,
        observed,
        state,
        now=now,
        policy=plan.PlanPolicy(),
        fingerprints=fingerprints,
    )
    return computed, observed


async def plan_pass(
    path: Path,
    *,
    state_path: StateTarget | None,
    api_url: str | None,
    environ: Mapping[str, str],
    limits: plan.SafetyLimits,
    transport: Transport | None = None,
    clock: Callable[[], float] = time.time,
) -> LoadFailed | Planned:
    """Load, observe and plan once; the state is read without its lock and never written, so a
    plan works while a daemon or an apply holds it (a saved plan pins the serial it saw)."""
    log = structlog.get_logger(__name__)
    loaded = load.load_fleet(path)
    if loaded.fleet is None:
        return LoadFailed(diagnostics=loaded.diagnostics)
    fleet = loaded.fleet
    state, secret_key = read_state(state_path)
    fingerprints = fingerprint_secrets(fleet, environ=environ, key=secret_key)
    now = clock()
    async with connect.open_readers(
        fleet.projects, environ=environ, api_url=api_url, transport=transport
    ) as readers:
        computed, observed = await observe_and_plan(
            fleet,
            state=state,
            readers=readers,
            fingerprints=fingerprints,
            now=now,
            bounds=Bounds.from_environ(environ),
        )
    computed = plan.hold_back(computed, limits=plan.for_fleet(limits, fleet))
    refusals = computed.refusals
    log.info(
        "plan_computed",
        changes=len(computed.changes),
        reports=len(computed.reports),
        held=len(computed.held),
        **{str(action): count for action, count in computed.counts().items() if count},
    )
    return Planned(
        planfile=PlanFile(
            plan=computed,
            lineage=state.lineage or None,
            serial=state.serial,
            observed_fingerprint=observed_fingerprint(observed),
            manifests_digest=loaded.digest,
        ),
        refusals=refusals,
        warnings=loaded.warnings,
        notes=shrink.notes(
            computed, fleet=fleet, state=state, deleted_files=shrink.git_deleted_files(path)
        ),
    )


async def plan_command(
    path: Path,
    *,
    output: str,
    out: Path | None,
    detailed_exitcode: bool,
    api_url: str | None,
    state_path: StateTarget | None,
    allow_mass_delete: bool,
    environ: Mapping[str, str],
    stdout: TextIO,
    stderr: TextIO,
    show_unowned: bool = False,
    max_delete_fraction: float | None = None,
) -> int:
    """``reconciler plan``: the plan on ``stdout``, diagnostics on ``stderr``, and the exit code.

    0 no changes (or changes without ``detailed_exitcode``), 2 changes, 3 changes held back by
    a safety rule (the plan is saved all the same: applying it applies the rest, and what it
    holds stays held), 1 invalid manifests.
    """
    outcome = await plan_pass(
        path,
        state_path=state_path,
        api_url=connect.api_url_override(api_url, environ=environ),
        environ=environ,
        limits=plan.SafetyLimits(
            allow_mass_delete=allow_mass_delete, max_delete_fraction=max_delete_fraction
        ),
    )
    if isinstance(outcome, LoadFailed):
        for diagnostic in outcome.diagnostics:
            print(diagnostic, file=stderr)
        print(f"error: the manifests under {path} are invalid; nothing was planned", file=stderr)
        return 1
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=stderr)
    for note in outcome.notes:
        print(f"note: {note}", file=stderr)
    refusals = outcome.refusals
    if output == "json":
        stdout.write(render.render_json(outcome.plan, refusals=refusals))
    elif output == "markdown":
        stdout.write(COMMENT_BREAK.join(render.render_markdown(outcome.plan, refusals=refusals)))
    else:
        color = color_wanted(stdout, environ=environ)
        stdout.write(
            render.render_text(
                outcome.plan, refusals=refusals, color=color, show_unowned=show_unowned
            )
        )
    if out is not None:
        write_planfile(out, outcome.planfile)
    if refusals:
        print(held_back_message(refusals), file=stderr)
        return EXIT_REFUSED
    if outcome.plan.waiting:
        # Like a hold: not all of the manifests would run (the plan is saved all the same).
        print(waiting_message(outcome.plan.waiting), file=stderr)
        return EXIT_REFUSED
    return EXIT_CHANGES if detailed_exitcode and not outcome.plan.is_empty else 0


def held_back_message(refusals: tuple[str, ...]) -> str:
    """The one stderr line that says what is held back and why."""
    return f"error: changes are held back by a safety rule: {'; '.join(refusals)}"


def waiting_message(waiting: tuple[plan.Waiting, ...]) -> str:
    """The one stderr line that says which agents wait for quota; the rest of the plan runs."""
    projects = sorted({w.project for w in waiting})
    keys = ", ".join(w.key for w in waiting)
    return (
        f"error: {len(waiting)} agent(s) wait for quota (maxConcurrentAgents of "
        f"{', '.join(projects)}); the higher priorities run: {keys}"
    )


def color_wanted(stream: TextIO, *, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set to anything (no-color.org)."""
    return stream.isatty() and not environ.get("NO_COLOR")


def fingerprint_secrets(
    fleet: DesiredFleet,
    *,
    environ: Mapping[str, str],
    key: bytes,
    values: payloads.SecretValues | None = None,
) -> dict[str, str]:
    """The keyed fingerprint of every string holding a secret reference in the desired agents.

    Values are resolved (each reference once, and registered for log masking) only to be hashed.
    A pass that goes on to apply hands in its own ``values``, resolved from ``environ``, so that
    its requests reuse them rather than resolve every reference a second time.
    """
    if values is None:
        values = payloads.SecretValues(environ, references=fleet.references)
    fingerprints: dict[str, str] = {}
    finder = secrets.ReferenceTexts()
    for agent in fleet.agents.values():
        texts = list(finder.of(agent.properties))
        if agent.token is not None:
            texts.append(agent.token)
        for text in texts:
            if text not in fingerprints:
                value = values.text(text, where=agent.source, at=None)
                fingerprints[text] = secrets.fingerprint(value, key=key)
    return fingerprints
