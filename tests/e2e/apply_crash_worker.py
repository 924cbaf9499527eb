"""A fork server of ``reconciler apply`` processes for the kill -9 test (not a test itself).

Python needs a second or two to import reconciler; forking a process that already has is what
makes dozens of kills affordable. Each ``run`` line on stdin forks a child that runs exactly what
``reconciler apply --auto-approve --allow-mass-delete`` runs, on the real clock, against the
emulator at URL. The worker prints ``pid N`` as soon as the child exists, then ``exit S`` when it
is gone (S is negative for a signal). The test kills children with SIGKILL in between.

Usage: apply_crash_worker.py FLEET_DIR STATE_PATH URL
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

from reconciler.apply.ratelimit import RateLimit
from reconciler.apply.steps import ApplySettings
from reconciler.reconcile import apply_pass


def _apply(fleet: Path, state: Path, url: str) -> int:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    settings = ApplySettings(concurrency=4, rate_limit=RateLimit(per_second=200.0, burst=50))
    return asyncio.run(
        apply_pass.apply_command(
            fleet,
            manifests=fleet,
            options=apply_pass.ApplyOptions(
                auto_approve=True, allow_mass_delete=True, settings=settings
            ),
            state_path=state,
            api_url=url,
            environ=os.environ,
            streams=apply_pass.Streams(
                stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO()
            ),
        )
    )


def main() -> None:
    fleet, state, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            continue
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _apply(fleet, state, url)
            finally:
                os._exit(code)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
