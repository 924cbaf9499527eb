"""``reconciler apply``: one pass that acts — load, lock, resolve, observe, plan, confirm, apply.

The edge shell around ``engine.apply_plan``. It holds the state's lock from before the first read
to after the last write, so that no other reconciler acts in between; resolves the intents a
killed pass left before it observes, so that the plan sees their outcome; and, given a saved plan,
refuses it when the state, the live agents or the manifests moved since (``planfile.staleness``),
resolving those intents only once the plan has been found current.
It asks for ``yes`` on a terminal unless told not to, and refuses to act unasked without one.
While it acts, ``progress`` shows each change, and Ctrl-C works in two steps (``interrupts``).
The pass runs under ``RECONCILER_PASS_DEADLINE``, its clock stopped while it asks (``deadline``).
``run_pass`` is the pass itself, shared with the daemon, which chooses its plan differently.

It writes only to the streams it is handed and returns the exit code: 0 done, 1 error or partial
failure, 3 a stale plan, changes held back by a safety rule or agents waiting for quota (the
rest was applied), 130 interrupted. It must
not decide what to change (that is the planner's) nor how to change it (that is apply's).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from reconciler import observe, plan, reconcile, render
from reconciler.agora.client import AgoraClient, Transport
from reconciler.apply import engine, payloads
from reconciler.apply.intents import Ledger
from reconciler.apply.leftovers import resolve_leftovers
from reconciler.apply.progress import ApplyProgress
from reconciler.apply.report import ApplyReport, Outcome, StepResult, render_report
from reconciler.apply.steps import ApplySettings
from reconciler.clock import Clock, SystemClock
from reconciler.manifest import load
from reconciler.manifest.desired import DesiredFleet
from reconciler.reconcile import connect, interrupts, planfile, progress
from reconciler.reconcile.bounds import Bounds
from reconciler.reconcile.deadline import PassDeadline
from reconciler.source.local import head_revision
from reconciler.state import AgentRecord, StateStore, StateTarget, open_state

EXIT_FAILED: Final = 1
EXIT_REFUSED: Final = 3
PROMPT: Final = (
    "\nDo you want to perform these actions?\n"
    "  Reconciler will perform the actions described above.\n"
    "  Only 'yes' will be accepted to approve.\n\n"
    "  Enter a value: "
)


@dataclass(frozen=True)
class ApplyOptions:
    """The flags of ``reconciler apply`` that are not about where to read and write."""

    auto_approve: bool = False
    allow_mass_delete: bool = False
    max_delete_fraction: float | None = None
    settings: ApplySettings = dataclasses.field(default_factory=ApplySettings)


@dataclass(frozen=True)
class Streams:
    """Where the command reads its answer and writes its output."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO


def is_planfile(target: Path) -> bool:
    """A saved plan is a file that is not a manifest; ``plan --out`` writes JSON."""
    return target.is_file() and target.suffix.lower() not in load.SUFFIXES


async def apply_command(
    target: Path,
    *,
    manifests: Path,
    options: ApplyOptions,
    state_path: StateTarget | None,
    api_url: str | None,
    environ: Mapping[str, str],
    streams: Streams,
    transport: Transport | None = None,
    clock: Clock | None = None,
) -> int:
    """Run ``reconciler apply`` on manifests, or on a saved plan (made from ``manifests``)."""
    saved = planfile.load_planfile(target) if is_planfile(target) else None
    source = manifests if saved is not None else target
    loaded = _load(source, streams=streams)
    if loaded is None:
        return EXIT_FAILED
    assert loaded.fleet is not None  # _load returns only a usable fleet
    fleet = loaded.fleet
    clock = clock or SystemClock()
    settings = dataclasses.replace(options.settings, git_revision=head_revision(source))
    refused: list[int] = []
    held: list[plan.Held] = []
    display = progress.ApplyDisplay(
        mode=progress.display_mode(streams.stdout, environ=environ),
        stdout=streams.stdout,
        stderr=streams.stderr,
    )
    interrupt = interrupts.TwoStepInterrupt(announce=display.notice)
    waiting: list[plan.Waiting] = []

    def choose(made: Made) -> plan.Plan | None:
        """The plan to apply (its held-back changes apart) after showing it and asking; None
        (and the exit code) if nothing is to be applied."""
        if saved is not None and _stale(saved, made, store=store, loaded=loaded, streams=streams):
            refused.append(EXIT_REFUSED)
            return None
        # A saved plan was held back when it was made: it runs as it says, under no new limits.
        chosen = saved.plan if saved is not None else _held_back(made.plan, fleet, options)
        _show(chosen, environ=environ, streams=streams)
        held.extend(chosen.held)
        waiting.extend(chosen.waiting)
        if not chosen.is_empty and saved is None and not _approved(options, streams):
            refused.append(EXIT_FAILED)
        if refused or chosen.is_empty:
            return None
        interrupt.arm()  # from here on, Ctrl-C stops apply in two steps
        return chosen

    deadline = PassDeadline(Bounds.from_environ(environ).pass_deadline)
    try:
        with open_state(state_path) as store:
            async with (
                connect.open_clients(
                    fleet.projects,
                    environ=environ,
                    api_url=api_url,
                    transport=transport,
                    clock=clock,
                ) as apis,
                deadline.running(),
            ):
                done = await run_pass(
                    fleet,
                    store=store,
                    apis=apis,
                    environ=environ,
                    clock=clock,
                    settings=settings,
                    choose=deadline.paused(choose),
                    # A saved plan was made before any resolution: resolving before its
                    # staleness check would make it stale.
                    resolve_first=saved is None,
                    stopping=interrupt.stopping,
                    progress=display,
                )
    except asyncio.CancelledError:
        if not interrupt.aborted:
            raise
        _uncancel()
        await display.close()
        print(
            interrupts.aborted_message(display.in_flight(), display.not_started()),
            file=streams.stderr,
        )
        return interrupts.EXIT_INTERRUPTED
    finally:
        interrupt.disarm()
        await display.close()
    if refused:
        return refused[0]
    code = _finish(done.report, streams=streams)
    if interrupt.requested:
        print(interrupts.stopped_message(display.not_started()), file=streams.stderr)
        return interrupts.EXIT_INTERRUPTED
    # A failure says more than a hold: it needs looking at before the held changes matter.
    return EXIT_REFUSED if code == 0 and (held or waiting) else code


@dataclass(frozen=True)
class Made:
    """A plan as made, with what it was made from, for ``choose`` to judge."""

    plan: plan.Plan
    observed: observe.ObservedFleet

    @property
    def observed_fingerprint(self) -> str:
        """Asked only of a saved plan's pass (a daemon's passes never are): ~5 ms at 10k."""
        return planfile.observed_fingerprint(self.observed)


@dataclass(frozen=True)
class Done:
    """One pass: the plan as made, what it observed, the report of what was applied, the
    state's records as the pass left them (so the daemon need not read the state again), and
    the fleet as the pass left it.

    ``report`` holds the leftover intents resolved; its results are empty when ``choose``
    applied nothing. ``settled`` is the plan as made when nothing was applied; after an apply
    that changed anything, and when the caller asked for it, a fresh observation and the plan
    made from it, so that what the pass reports (the daemon's gauges) is the fleet after it.
    """

    plan: plan.Plan
    observed: observe.ObservedFleet
    report: ApplyReport
    records: Mapping[str, AgentRecord]
    settled: Made


async def run_pass(
    fleet: DesiredFleet,
    *,
    store: StateStore,
    apis: Mapping[str, AgoraClient],
    environ: Mapping[str, str],
    clock: Clock,
    settings: ApplySettings,
    choose: Callable[[Made], plan.Plan | None],
    resolve_first: bool = True,
    stopping: Callable[[], bool] | None = None,
    settle: bool = False,
    expiring: Collection[str] = (),
    progress: ApplyProgress | None = None,
) -> Done:
    """The one pass ``apply`` and the daemon share: resolve, observe, plan, choose, apply.

    ``choose`` sees the plan as made and returns the plan to apply (it shows, checks, asks or
    filters), or None to apply nothing; once ``stopping`` turns true, apply starts no further
    change; ``progress`` hears of each change. If the pass is cancelled while it applies, the
    state writes already under way finish before the cancellation goes on. Leftover intents
    are resolved once: before observing, or (``resolve_first`` False, for a saved plan) only
    once ``choose`` has let a plan through. One ``Ledger`` (the state as this pass changes it)
    and one ``SecretValues`` serve the whole pass: resolving and applying share the ledger, and
    each secret is resolved once, for fingerprints and requests alike. With ``settle``, a pass
    that changed anything observes once more (list calls only, for a fleet in sync) and plans
    again, read-only, to describe the fleet it leaves behind. ``expiring`` are agents whose
    tokens Agora warned are about to expire: the plan renews them. The caller holds ``store``
    (and its lock or lease, checked before anything acts) and the clients.
    """
    ledger = Ledger(store)
    values = payloads.SecretValues(environ, references=fleet.references)
    # Joins carry the state's lineage, so two fleets on one App ID can be told apart.
    settings = dataclasses.replace(settings, fleet_id=store.snapshot().lineage or None)

    async def resolve() -> tuple[StepResult, ...]:
        return await resolve_leftovers(ledger, apis, clock=clock, polling=settings.leave_polling)

    store.check_held()
    leftovers = await resolve() if resolve_first else ()
    fingerprints = reconcile.fingerprint_secrets(
        fleet, environ=environ, key=store.secret_key(), values=values
    )
    bounds = Bounds.from_environ(environ)

    async def plan_now(warned: Collection[str] = ()) -> Made:
        return await _plan(
            fleet,
            store=store,
            clients=apis,
            fingerprints=fingerprints,
            now=clock.now(),
            bounds=bounds,
            expiring=warned,
        )

    made = await plan_now(expiring)
    chosen = choose(made)
    report = ApplyReport()
    if chosen is not None and not chosen.is_empty:
        store.check_held()
        if not resolve_first:
            leftovers = await resolve()
        try:
            report = await engine.apply_plan(
                chosen,
                desired=fleet,
                apis=apis,
                ledger=ledger,
                fingerprints=fingerprints,
                values=values,
                settings=settings,
                clock=clock,
                stopping=stopping,
                progress=progress,
            )
        except asyncio.CancelledError:
            await ledger.drain()
            raise
    changed = any(r.outcome is Outcome.DONE for r in (*leftovers, *report.results))
    settled = made
    if settle and changed:
        settled = await plan_now()
    return Done(
        plan=made.plan,
        observed=made.observed,
        report=dataclasses.replace(report, leftovers=leftovers),
        records=ledger.records(),
        settled=settled,
    )


def _finish(report: ApplyReport, *, streams: Streams) -> int:
    """Print the summary (none for a pass that had nothing to do) and give the exit code."""
    if report.leftovers or report.results:
        streams.stdout.write("\n" + render_report(report) + "\n")
    return 0 if report.ok else EXIT_FAILED


def _load(source: Path, *, streams: Streams) -> load.LoadResult | None:
    """The manifests, or None after printing why they cannot be used."""
    loaded = load.load_fleet(source)
    if loaded.fleet is None:
        for diagnostic in loaded.diagnostics:
            print(diagnostic, file=streams.stderr)
        print(
            f"error: the manifests under {source} are invalid; nothing was applied",
            file=streams.stderr,
        )
        return None
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=streams.stderr)
    return loaded


def _stale(
    saved: planfile.PlanFile,
    made: Made,
    *,
    store: StateStore,
    loaded: load.LoadResult,
    streams: Streams,
) -> bool:
    """Whether the saved plan no longer holds, after saying what moved."""
    snapshot = store.snapshot()
    moved = planfile.staleness(
        saved,
        lineage=snapshot.lineage,
        serial=snapshot.serial,
        observed_fp=made.observed_fingerprint,
        digest=loaded.digest,
    )
    if moved:
        print(
            f"error: the saved plan is stale: {'; '.join(moved)}; plan again", file=streams.stderr
        )
    return bool(moved)


def _held_back(made: plan.Plan, fleet: DesiredFleet, options: ApplyOptions) -> plan.Plan:
    """``made`` with what the safety rules hold back under the flags and the manifests moved to
    its ``held``."""
    limits = plan.SafetyLimits(
        allow_mass_delete=options.allow_mass_delete,
        max_delete_fraction=options.max_delete_fraction,
    )
    return plan.hold_back(made, limits=plan.for_fleet(limits, fleet))


def _show(chosen: plan.Plan, *, environ: Mapping[str, str], streams: Streams) -> None:
    """Show the plan to apply, and say what it holds back and why."""
    color = reconcile.color_wanted(streams.stdout, environ=environ)
    streams.stdout.write(render.render_text(chosen, refusals=chosen.refusals, color=color))
    if chosen.held:
        print(reconcile.held_back_message(chosen.refusals), file=streams.stderr)
    if chosen.waiting:
        print(reconcile.waiting_message(chosen.waiting), file=streams.stderr)


async def _plan(
    fleet: DesiredFleet,
    *,
    store: StateStore,
    clients: Mapping[str, AgoraClient],
    fingerprints: Mapping[str, str],
    now: float,
    bounds: Bounds,
    expiring: Collection[str] = (),
) -> Made:
    """Observe through read-only views and plan against the state as it is now (the tokens of
    ``expiring`` taken as due for renewal)."""
    made, observed = await reconcile.observe_and_plan(
        fleet,
        state=plan.warned_of_expiry(store.snapshot(), expiring),
        readers={name: connect.ReadOnlyAgents(client) for name, client in clients.items()},
        fingerprints=fingerprints,
        now=now,
        bounds=bounds,
    )
    return Made(plan=made, observed=observed)


def _approved(options: ApplyOptions, streams: Streams) -> bool:
    if options.auto_approve:
        return True
    if not streams.stdin.isatty():
        print(
            "error: apply asks for confirmation, but stdin is not a terminal; "
            "pass --auto-approve to apply without asking",
            file=streams.stderr,
        )
        return False
    streams.stdout.write(PROMPT)
    streams.stdout.flush()
    if streams.stdin.readline().strip() == "yes":
        return True
    print("Apply cancelled.", file=streams.stderr)
    return False


def _uncancel() -> None:
    """An abort the command has handled ends the command, not the event loop's task."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
