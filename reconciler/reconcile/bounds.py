"""How long and how far one pass may go: the limits that keep a hostile or broken API from
holding a pass (and the daemon) forever or driving it through endless calls.

- ``api_deadline``: every API call, all its attempts included, ends within it
  (``RECONCILER_API_DEADLINE``, default 30 s); past it the call is a transient error.
- ``pass_deadline``: observing all projects ends within it, and a daemon pass as a whole
  (``RECONCILER_PASS_DEADLINE``, default 5 min).
- ``observe_factor``: a project's list may hold at most this many times its
  ``maxConcurrentAgents`` agents, which bounds the pages listed and the ids queried
  (``RECONCILER_OBSERVE_FACTOR``, default 10). A live fleet far above its quota is a broken
  answer, not a fleet to plan deletes from.
- ``max_response_bytes``: one answer's body may be at most this big
  (``RECONCILER_MAX_RESPONSE_BYTES``, default 8 MiB); a bigger one is refused while it streams
  in, naming the project and the URL.

Read from the environment, like ``AGORA_API_URL``, so that every command and the daemon share
them without a flag each. It only parses; it must not call the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from reconciler.agora.capped import DEFAULT_MAX_RESPONSE_BYTES
from reconciler.agora.client import DEFAULT_DEADLINE, MAX_RESPONSE_ENV
from reconciler.clock import parse_duration
from reconciler.errors import ReconcilerError

API_DEADLINE_ENV: Final = "RECONCILER_API_DEADLINE"
PASS_DEADLINE_ENV: Final = "RECONCILER_PASS_DEADLINE"
OBSERVE_FACTOR_ENV: Final = "RECONCILER_OBSERVE_FACTOR"
DEFAULT_PASS_DEADLINE: Final = 300.0
DEFAULT_OBSERVE_FACTOR: Final = 10


@dataclass(frozen=True)
class Bounds:
    """The deadlines (seconds) and the observation cap one pass runs under."""

    api_deadline: float = DEFAULT_DEADLINE
    pass_deadline: float = DEFAULT_PASS_DEADLINE
    observe_factor: int = DEFAULT_OBSERVE_FACTOR
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Bounds:
        """The bounds the environment sets, the defaults for the rest; a bad value is an error."""
        return cls(
            api_deadline=_duration(environ, API_DEADLINE_ENV, DEFAULT_DEADLINE),
            pass_deadline=_duration(environ, PASS_DEADLINE_ENV, DEFAULT_PASS_DEADLINE),
            observe_factor=_whole(environ, OBSERVE_FACTOR_ENV, DEFAULT_OBSERVE_FACTOR, least=1),
            max_response_bytes=_whole(
                environ, MAX_RESPONSE_ENV, DEFAULT_MAX_RESPONSE_BYTES, least=1024
            ),
        )

    def max_listed(self, quota: int) -> int:
        """The most agents a project with this ``maxConcurrentAgents`` may list or query."""
        return max(1, quota) * self.observe_factor


def _duration(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if not text:
        return default
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ReconcilerError(f"{name}: {exc}") from None


def _whole(environ: Mapping[str, str], name: str, default: int, *, least: int) -> int:
    text = environ.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise ReconcilerError(f"{name}: expected a whole number of at least {least}, got {text!r}")
    return value
