"""Run the replaces of a plan wave after wave, scope by scope (the plan numbered the waves).

Each rollout scope (``plan.waves``) runs its waves in turn, scopes side by side: a wave's new
agents must be RUNNING within the scope's ``progressDeadline`` before the next wave starts, after
its ``pauseBetweenWaves``; a wave that falls short stops that scope's rollout, and its later
waves are skipped for the next pass to take up. The last wave has no wave to hold back, so it
waits for RUNNING only when ``--wait`` asks. With ``deferWhileTalking``, each replace of a wave
first waits while its agent talks (``deferral``), the others of the wave meanwhile going ahead.
How one replace runs is the engine's; this module only orders them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from reconciler.apply.readiness import Polling
from reconciler.apply.report import Outcome, StepResult
from reconciler.clock import Clock
from reconciler.errors import StateError
from reconciler.manifest.desired import DesiredFleet
from reconciler.plan import Change, waves

T = TypeVar("T")
Start = Callable[[Change, Polling | None], Coroutine[Any, Any, StepResult]]
Skip = Callable[[Change, str], StepResult]
Quiet = Callable[[Change], Awaitable[None]]


async def run_replaces(
    batch: Sequence[tuple[int, Change]],
    *,
    desired: DesiredFleet,
    start: Start,
    skip: Skip,
    quiet: Quiet,
    clock: Clock,
    polling: Polling,
) -> dict[int, StepResult]:
    """Every replace of ``batch`` (index in the plan, change), by index; ``start`` runs one,
    waiting with the given polling until it is RUNNING (None: not at all), ``skip`` reports
    one not started, ``quiet`` returns once a replace may start (``deferral``), and
    ``polling`` paces the waits (its timeout becomes each deadline)."""
    scopes: dict[str, list[tuple[int, Change]]] = {}
    for index, change in batch:
        scopes.setdefault(waves.scope_of(desired.agents[change.key]), []).append((index, change))
    results: dict[int, StepResult] = {}
    for done in await together(
        [
            _waves(
                scope,
                items,
                desired=desired,
                start=start,
                skip=skip,
                quiet=quiet,
                clock=clock,
                polling=polling,
            )
            for scope, items in scopes.items()
        ]
    ):
        results.update(done)
    return results


async def together(steps: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run ``steps`` concurrently and give their results in order; a ``StateError`` in any
    stops them all and is raised alone, since nothing may go on without the state."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(step) for step in steps]
    except* StateError as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def _waves(
    scope: str,
    items: list[tuple[int, Change]],
    *,
    desired: DesiredFleet,
    start: Start,
    skip: Skip,
    quiet: Quiet,
    clock: Clock,
    polling: Polling,
) -> dict[int, StepResult]:
    spec = desired.agents[items[0][1].key].rollout

    async def when_quiet(change: Change, polling: Polling | None) -> StepResult:
        await quiet(change)
        return await start(change, polling)

    must_run = dataclasses.replace(polling, timeout=spec.deadline_seconds)
    numbers = sorted({change.wave for _, change in items})
    results: dict[int, StepResult] = {}
    stopped: str | None = None
    for position, wave in enumerate(numbers):
        members = [(index, change) for index, change in items if change.wave == wave]
        if stopped is not None:
            results.update({index: skip(change, stopped) for index, change in members})
            continue
        if position and spec.pause_seconds:
            await clock.sleep(spec.pause_seconds)
        last = position == len(numbers) - 1
        done = await together(
            [when_quiet(change, None if last else must_run) for _, change in members]
        )
        results.update({index: result for (index, _), result in zip(members, done, strict=True)})
        if any(result.outcome is not Outcome.DONE for result in done):
            stopped = (
                f"not started: the rollout of {scope} stopped after wave {wave}, which did not "
                "all reach RUNNING; the next pass goes on"
            )
    return results
