"""The planning core imports no HTTP, server or scheduler library: it cannot do I/O by accident."""

from __future__ import annotations

import subprocess
import sys

CORE = (
    "reconciler.naming",
    "reconciler.plan.diff",
    "reconciler.plan",
    "reconciler.render",
    "reconciler.observe",
)
FORBIDDEN = ("httpx", "fastapi", "uvicorn", "watchfiles", "apscheduler", "reconciler.agora.client")


def test_core_modules_import_no_io_library() -> None:
    """Importing the planner, the diff, the views and observation loads none of the I/O stacks."""
    probe = (
        f"import sys\nfor name in {CORE!r}: __import__(name)\n"
        f"print(','.join(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
