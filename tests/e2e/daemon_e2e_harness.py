"""``reconciler run`` as a real process against a real emulator server, and ways to watch both.

``Daemon`` starts the CLI in a temporary directory with the test credentials, reads its JSON log
lines from stderr in a thread, learns its HTTP address from the ``http_listening`` event, and
stops it with a signal. ``Emulator`` calls the control routes. Waits are bounded far above what
they take: they never assert on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from apply_e2e_harness import RECONCILER, _load, harness

# Only ends a test that has already failed: far above what a 2-core machine under load needs.
BOUND_SECONDS = 90.0
git_harness: Any = sys.modules.get("git_harness") or _load(
    "git_harness", Path(__file__).parents[1] / "unit" / "git_harness.py"
)


class Emulator:
    """The control routes of an emulator server, called synchronously."""

    def __init__(self, url: str) -> None:
        self.url = url

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/_emulator{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def live(self) -> list[dict[str, Any]]:
        """Agents that are not STOPPED or FAILED."""
        agents = self.control("GET", "/agents")["agents"]
        return [a for a in agents if a["status"] in harness.LIVE]

    def channels(self) -> list[str]:
        return sorted(a["channel"] for a in self.live())


class Daemon:
    """One ``reconciler run`` process; its log events as they arrive."""

    def __init__(
        self,
        cwd: Path,
        *,
        api_url: str,
        interval: str = "0.5s",
        listen: str = "127.0.0.1:0",
        state: str = "state.db",
        args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        env = {**os.environ, **harness.ENV, "NO_COLOR": "1", **(extra_env or {})}
        env.pop("RECONCILER_LISTEN", None)
        self.process = subprocess.Popen(
            [
                str(RECONCILER),
                *("run", "fleet", "--interval", interval, "--listen", listen),
                *("--state", state, "--api-url", api_url, "--log-level", "debug"),
                *args,
            ],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            try:
                self.events.append(json.loads(line))
            except ValueError:
                continue

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e.get("event") == event]

    def wait_for(self, event: str, *, count: int = 1) -> dict[str, Any]:
        """The ``count``-th event of that name, once it arrived."""
        wait_until(lambda: len(self.named(event)) >= count, what=f"{count} × {event}", daemon=self)
        return self.named(event)[count - 1]

    @property
    def url(self) -> str:
        return str(self.wait_for("http_listening")["url"])

    def send(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> int:
        """Send ``signum`` and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=BOUND_SECONDS)
        finally:
            self.close()

    def close(self) -> None:
        """Kill the process if it still runs, and release its pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self._reader.join(timeout=5)
        assert self.process.stderr is not None
        self.process.stderr.close()

    def log(self) -> str:
        return "".join(self.lines)


def wait_until(condition: Callable[[], bool], *, what: str, daemon: Daemon | None = None) -> None:
    """Poll ``condition`` until it holds; fail with the daemon's log if it never does."""
    deadline = time.monotonic() + BOUND_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            log = daemon.log()[-4000:] if daemon is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{log}")
        if daemon is not None and daemon.process.poll() is not None:
            raise AssertionError(f"the daemon exited while waiting for {what}\n{daemon.log()}")
        time.sleep(0.02)
