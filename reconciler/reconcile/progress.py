"""What a person sees while ``apply`` acts: a live display on a terminal, plain lines elsewhere.

``ApplyDisplay`` is the ``ApplyProgress`` the CLI hands to apply. On a terminal (colour allowed,
not CI) it keeps one rich ``Live`` region up to date: a counter of done, failed, running and
pending changes with the time elapsed, one line per action (delete, create, ...) that moves from
pending to running to done with its duration, and the slowest changes in flight, Terraform's
"Still creating... [10s elapsed]". Anywhere else it writes one plain line when a change starts
and one when it ends (with its duration and how far the apply is), and a "still running" line
every ten seconds of a slow change, so that CI logs show progress too.

It only watches: the counts and lines come from what apply reports, and ``unfinished`` gives the
changes an interrupted apply did not get to. Durations are wall-clock and shown, never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Final, TextIO, cast

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from reconciler import logs
from reconciler.apply.report import Outcome, StepResult
from reconciler.plan import Action, Change

STILL_RUNNING_EVERY: Final = 10.0
"""Seconds between two "still running" lines of one slow change, in the plain view."""
_REFRESH_SECONDS: Final = 0.25
_SLOWEST_SHOWN: Final = 5


class DisplayMode(StrEnum):
    LIVE = "live"
    PLAIN = "plain"


def display_mode(stream: TextIO, *, environ: Mapping[str, str]) -> DisplayMode:
    """Live only on a terminal that may be redrawn: not under ``NO_COLOR`` (``--no-color``), not
    in CI (whose log viewers keep every redraw) and not on a dumb terminal."""
    dumb = environ.get("TERM") == "dumb"
    if stream.isatty() and not environ.get("NO_COLOR") and not environ.get("CI") and not dumb:
        return DisplayMode.LIVE
    return DisplayMode.PLAIN


def configure_apply_logging(
    *, level: str | None, log_file: Path | None, environ: Mapping[str, str]
) -> None:
    """Where ``apply``'s log events go: to ``log_file`` as JSON lines when given; under the
    live display, only errors (``level`` unless given), printed above it; else to stderr, at info.

    Raises ValueError for an unknown level and OSError for a log file that cannot be opened.
    """
    if log_file is not None:
        stream = log_file.open("a", encoding="utf-8")  # open until the command exits
        logs.configure_logging(json=True, level=level or "info", file=stream)
    elif display_mode(sys.stdout, environ=environ) is DisplayMode.LIVE:
        logs.configure_logging(level=level or "error", file=cast(TextIO, CurrentStderr()))
    else:
        logs.configure_logging(level=level or "info")


class CurrentStderr(io.TextIOBase):
    """Whatever ``sys.stderr`` is when written to: while the live display runs, rich stands in
    for it and prints log lines above the display instead of through it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


class ApplyDisplay:
    """Watches one apply and shows it; see the module docstring."""

    def __init__(
        self,
        *,
        mode: DisplayMode,
        stdout: TextIO,
        stderr: TextIO,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mode = mode
        self._stdout = stdout
        self._stderr = stderr
        self._now = now
        self._changes: list[Change] = []
        self._began = now()
        self._started: dict[str, float] = {}
        self._ended: dict[str, StepResult] = {}
        self._ended_at: dict[str, float] = {}
        self._told: dict[str, int] = {}
        self._live: Live | None = None
        self._ticker: asyncio.Task[None] | None = None

    # -- what apply reports -------------------------------------------------------------------

    def planned(self, changes: Sequence[Change]) -> None:
        self._changes = list(changes)
        self._began = self._now()
        if self._mode is DisplayMode.LIVE:
            console = Console(file=self._stdout, highlight=False)
            self._live = Live(get_renderable=self._render, console=console, auto_refresh=False)
            self._live.start()
        with contextlib.suppress(RuntimeError):  # no loop: nothing to refresh (unit tests)
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def started(self, change: Change) -> None:
        self._started[change.key] = self._now()
        self._plain(f"{_name(change)}: started")

    def finished(self, change: Change, result: StepResult) -> None:
        began = self._started.get(change.key)
        took = self._now() - began if began is not None else 0.0
        self._ended[change.key] = result
        self._ended_at[change.key] = self._now()
        said = result.outcome.value + (f" in {_seconds(took)}" if began is not None else "")
        if result.outcome is not Outcome.DONE:
            said = result.detail if began is None else f"{said}: {result.detail}"
        self._plain(f"{_name(change)}: {said}  [{len(self._ended)}/{len(self._changes)}]")

    # -- what the command asks ----------------------------------------------------------------

    def notice(self, text: str) -> None:
        """Say something now: above the live display, or as a line on stderr."""
        if self._live is not None:
            self._live.console.print(Text(text, style="bold yellow"))
        else:
            print(text, file=self._stderr, flush=True)

    def in_flight(self) -> list[Change]:
        """Changes started and not ended, the longest-running first."""
        running = [c for c in self._changes if c.key in self._started and c.key not in self._ended]
        return sorted(running, key=lambda c: self._started[c.key])

    def not_started(self) -> list[Change]:
        """Changes that made no call: never reached, or skipped because the apply was stopping."""
        return [
            c
            for c in self._changes
            if c.key not in self._started
            and (c.key not in self._ended or self._ended[c.key].reason == "stopping")
        ]

    async def close(self) -> None:
        """Stop refreshing and leave the display's last frame on screen."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
            self._live.stop()
            self._live = None

    # -- drawing ------------------------------------------------------------------------------

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_REFRESH_SECONDS if self._live is not None else 1.0)
            if self._live is not None:
                self._live.refresh()
                continue
            for change in self.in_flight():
                elapsed = self._now() - self._started[change.key]
                tens = int(elapsed // STILL_RUNNING_EVERY)
                if tens > self._told.get(change.key, 0):
                    self._told[change.key] = tens
                    self._plain(f"{_name(change)}: still running [{_seconds(elapsed)} elapsed]")

    def _plain(self, line: str) -> None:
        if self._mode is DisplayMode.PLAIN:
            print(line, file=self._stdout, flush=True)

    def _render(self) -> Group:
        now = self._now()
        outcomes = [result.outcome for result in self._ended.values()]
        running = len(self.in_flight())
        pending = len(self._changes) - len(self._ended) - running
        counter = Text.assemble(
            ("Applying " if running or pending else "Applied ", "bold"),
            (f"{len(self._changes)} changes: ", "bold"),
            (f"{outcomes.count(Outcome.DONE)} done", "green"),
            ", ",
            (f"{outcomes.count(Outcome.FAILED)} failed", "red"),
            f", {outcomes.count(Outcome.SKIPPED)} skipped, ",
            (f"{running} running", "cyan"),
            f", {pending} pending  [{_seconds(now - self._began)} elapsed]",
        )
        lines = [counter, *self._action_lines(now)]
        slowest = self.in_flight()[:_SLOWEST_SHOWN]
        if slowest:
            lines.append(Text("Still running (longest first):", style="dim"))
        for change in slowest:
            elapsed = _seconds(now - self._started[change.key])
            lines.append(Text(f"  {_name(change)}  [{elapsed} elapsed]", style="cyan"))
        return Group(*lines)

    def _action_lines(self, now: float) -> list[Text]:
        lines = []
        for action in Action:
            changes = [c for c in self._changes if c.action is action]
            if not changes:
                continue
            ended = [self._ended[c.key].outcome for c in changes if c.key in self._ended]
            began = min(
                (self._started[c.key] for c in changes if c.key in self._started), default=None
            )
            done, failed = ended.count(Outcome.DONE), ended.count(Outcome.FAILED)
            skipped = len(ended) - done - failed
            tally = f"{done}/{len(changes)} done"
            tally += (f", {failed} failed" if failed else "") + (
                f", {skipped} skipped" if skipped else ""
            )
            since = "" if began is None else _seconds(now - began)
            if not ended and began is None:
                state, style, clock = "pending", "dim", ""
            elif len(ended) < len(changes):
                state, style, clock = "running", "cyan", f"[{since}]" if since else ""
            else:
                state = "failed" if failed else "stopped" if skipped else "done"
                style = "red" if failed else "yellow" if skipped else "green"
                last = max(self._ended_at[c.key] for c in changes)
                clock = "" if began is None else f"in {_seconds(last - began)}"
            lines.append(Text(f"  {action.value:<12} {state:<8} {tally:<28} {clock}", style=style))
        return lines


def _name(change: Change) -> str:
    return f"{change.key}: {change.action.value} {change.remote_name}"


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m{int(value % 60):02d}s"
