"""Ctrl-C during ``apply``, in two steps, as Terraform does it.

Once apply has started changing the fleet, the first SIGINT asks it to start no further change:
the changes in flight finish and their outcomes are recorded, then the command says what it did
not get to and exits 130. A second SIGINT stops at once: the pass is cancelled, the writes
already handed to the state are let finish, and the intents of the changes in flight stay in the
state, where the next plan or apply resolves them by name (as after a crash). Before apply starts
acting (while planning or at the prompt), Ctrl-C keeps its usual meaning: nothing was changed.

This module only turns signals into those two requests and words what was left; it never
decides what to change nor touches the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from typing import Final

from reconciler.plan import Change

EXIT_INTERRUPTED: Final = 130
_LISTED: Final = 20

FIRST_PRESS: Final = (
    "Interrupt received: finishing the changes in flight and starting no more. "
    "Press Ctrl-C again to stop at once."
)
SECOND_PRESS: Final = (
    "Stopping at once: the changes in flight are abandoned; the state keeps their intents and "
    "the next plan or apply resolves them."
)


class TwoStepInterrupt:
    """SIGINT while armed: the first press sets ``requested``, the second cancels the task."""

    def __init__(self, *, announce: Callable[[str], None]) -> None:
        self._announce = announce
        self._task: asyncio.Task[object] | None = None
        self._previous: object = None
        self.requested = False
        self.aborted = False

    def stopping(self) -> bool:
        """Apply's question before each change: has the first Ctrl-C come?"""
        return self.requested

    def arm(self) -> None:
        """From now on SIGINT means this module's two steps, for the task running now."""
        if self._task is not None:
            return
        self._task = asyncio.current_task()
        self._previous = signal.getsignal(signal.SIGINT)
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here: Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._pressed)

    def disarm(self) -> None:
        """Give SIGINT back its previous meaning."""
        if self._task is None:
            return
        self._task = None
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
            if callable(self._previous) or isinstance(self._previous, int):
                signal.signal(signal.SIGINT, self._previous)

    def _pressed(self) -> None:
        if not self.requested:
            self.requested = True
            self._announce(FIRST_PRESS)
        elif not self.aborted and self._task is not None:
            self.aborted = True
            self._announce(SECOND_PRESS)
            self._task.cancel()


def stopped_message(not_started: Sequence[Change]) -> str:
    """After the first Ctrl-C: what apply did not get to, and how to go on."""
    if not not_started:
        return "Interrupted after the last change had started; every change was made."
    return (
        f"Interrupted: {len(not_started)} changes were not started "
        f"({_names(not_started)}). Run `reconciler apply` again to make them."
    )


def aborted_message(in_flight: Sequence[Change], not_started: Sequence[Change]) -> str:
    """After the second Ctrl-C: what was abandoned in flight and what never started."""
    lines = ["Aborted."]
    if in_flight:
        lines.append(
            f"{len(in_flight)} changes were in flight ({_names(in_flight)}): the state keeps "
            "their intents, and the next plan or apply finds out how they ended."
        )
    if not_started:
        lines.append(f"{len(not_started)} changes were not started ({_names(not_started)}).")
    lines.append("Run `reconciler plan` to see what is left, then `reconciler apply`.")
    return "\n".join(lines)


def _names(changes: Sequence[Change]) -> str:
    named = ", ".join(f"{c.action.value} {c.key}" for c in changes[:_LISTED])
    more = len(changes) - _LISTED
    return named + (f" and {more} more" if more > 0 else "")
