"""Which failed Agora API calls are sent again.

429, 5xx, timeouts and connection errors are retried with exponential backoff and jitter,
honouring ``Retry-After``; other 4xx never are. Requests that are not idempotent (join, speak,
think) are resent only when they surely did not take effect, and always unchanged:

- resent: connect errors and connect/pool timeouts (nothing was sent); 429 (refused before any
  work); 500 and 503 (503 is Agora's "agent startup failure", so no agent exists; a 500 is an
  answer too, and since names are single-use a resend can at worst turn into a 409 that the
  apply layer resolves by name like any other);
- raised at once with ``may_have_reached_server`` True: read/write timeouts, dropped
  connections, 502 and 504. A join then may have created its agent; the apply layer resolves it
  by name rather than by a blind resend.

It only judges a failure; it must not send, wait or count attempts (``retry`` paces the attempts,
the client makes them).
"""

from __future__ import annotations

from typing import Final

import httpx

from reconciler import errors
from reconciler.agora import wire

AT_MOST_ONCE: Final = frozenset({wire.Endpoint.JOIN, wire.Endpoint.SPEAK, wire.Endpoint.THINK})
# Failures after which the request surely never reached the server.
NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def worth_resending(endpoint: wire.Endpoint, error: errors.ApiError) -> bool:
    """Whether a failed call may be sent again, unchanged (see the module docstring)."""
    if not error.is_retryable:
        return False
    return not (endpoint in AT_MOST_ONCE and error.may_have_reached_server)
