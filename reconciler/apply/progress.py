"""What apply tells an onlooker while it runs: which changes start and how each one ends.

``apply_plan`` reports to an ``ApplyProgress`` (the CLI's live display, or nothing): the changes
it was given, each change as it starts, and each as it ends (done, failed, or skipped without a
call). The reports are made on the event loop, between awaits, and must return at once: an
onlooker never slows, fails or steers the apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from reconciler.apply.report import StepResult
from reconciler.plan import Change


class ApplyProgress(Protocol):
    """Told of each change of one apply; see the module docstring."""

    def planned(self, changes: Sequence[Change]) -> None:
        """The changes apply is about to make, in plan order."""

    def started(self, change: Change) -> None:
        """``change`` has taken a slot and makes its first call now."""

    def finished(self, change: Change, result: StepResult) -> None:
        """``change`` ended (or was skipped without starting) with ``result``."""


class NoProgress:
    """The onlooker of an apply nobody watches (the daemon, tests)."""

    def planned(self, changes: Sequence[Change]) -> None:
        del changes

    def started(self, change: Change) -> None:
        del change

    def finished(self, change: Change, result: StepResult) -> None:
        del change, result
