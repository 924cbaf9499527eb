"""The one exception tree of reconciler.

Every error a user can see is a ``ReconcilerError``; its message is built from structured fields
so that the CLI can print one clear line and tests can assert on fields rather than on text.
Nothing here may hold a secret: callers pass reasons and details that have already been masked.

```
ReconcilerError
├─ ManifestError(path, line, field, message)
├─ ApiError(status, reason, detail)
│  ├─ AuthError, NotFoundError, ConflictError, QuotaExceededError, RateLimitedError(retry_after),
│  │  InvalidRequestError
│  ├─ ServerError
│  ├─ ObservationError (a list that never ends, or far above the quota)
│  └─ TransportError(may_have_reached_server)
├─ StateError (locked, stale, corrupt)
├─ UnsafePlanError
├─ SettingError (a flag or environment variable that cannot work)
├─ PassDeadlineError (an apply pass ran past RECONCILER_PASS_DEADLINE)
└─ ApplyError(report)
```
"""

from __future__ import annotations

from typing import Any


class ReconcilerError(Exception):
    """Root of every error reconciler raises on purpose."""


class ManifestError(ReconcilerError):
    """A manifest problem that names where it is, so a person can go and fix it."""

    def __init__(
        self,
        *,
        path: str,
        line: int | None,
        field: str | None,
        message: str,
        column: int | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.message = message
        where = path if line is None else f"{path}:{line}"
        where += f":{column}" if line is not None and column is not None else ""
        super().__init__(f"{where} {field}: {message}" if field else f"{where}: {message}")


class ApiError(ReconcilerError):
    """An answer (or the lack of one) from the Agora API, with the API's own reason and detail."""

    status: int | None
    reason: str | None
    detail: str | None

    def __init__(
        self,
        *,
        status: int | None,
        reason: str | None = None,
        detail: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.detail = detail
        self.endpoint = endpoint
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = []
        if self.endpoint:
            parts.append(self.endpoint)
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.reason:
            parts.append(self.reason)
        head = " ".join(parts) or "API error"
        return f"{head}: {self.detail}" if self.detail else head

    @property
    def is_retryable(self) -> bool:
        """Whether sending the same request again may succeed."""
        return False

    @property
    def may_have_reached_server(self) -> bool:
        """Whether the request may have taken effect although no success came back.

        An answer with a status means the server handled it and said no; only a transport failure
        after the request was sent, or a gateway timeout, leaves the outcome unknown.
        """
        return self.status in (502, 504)


class AuthError(ApiError):
    """401 or 403: the credentials are wrong or the service is not enabled; retrying cannot help."""


class NotFoundError(ApiError):
    """404: the agent never existed or has already stopped."""


class ConflictError(ApiError):
    """409: the name is taken, or a conflicting agent (same uid in the channel) is running."""

    def __init__(self, *, existing_agent_id: str | None = None, **kwargs: Any) -> None:
        self.existing_agent_id = existing_agent_id
        super().__init__(**kwargs)


class QuotaExceededError(ApiError):
    """422: the project is at its concurrent-agent quota."""


class RateLimitedError(ApiError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if it gave one."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)

    @property
    def is_retryable(self) -> bool:
        return True


class InvalidRequestError(ApiError):
    """400, a 422 that is not the quota, or another 4xx we do not know: the request itself is
    wrong and must be fixed; resending it cannot help."""


class ServerError(ApiError):
    """5xx: the server failed; the same request may succeed later."""

    @property
    def is_retryable(self) -> bool:
        return True


class ObservationError(ApiError):
    """A list that never ends, or that holds far more agents than the project's quota allows.

    Such an answer cannot be a true picture of the live fleet, so nothing is planned from it
    (least of all a delete); resending the same request would only repeat it.
    """


class TransportError(ApiError):
    """No HTTP answer: connect failure, timeout or a dropped connection."""

    def __init__(self, *, may_have_reached_server: bool, **kwargs: Any) -> None:
        self._reached = may_have_reached_server
        super().__init__(status=None, **kwargs)

    @property
    def is_retryable(self) -> bool:
        return True

    @property
    def may_have_reached_server(self) -> bool:
        return self._reached


class StateError(ReconcilerError):
    """The state record cannot be used: locked by someone else, stale or corrupt."""


class StateLockedError(StateError):
    """Another reconciler holds the state; says who, so the user can decide what to do."""

    def __init__(self, *, pid: int, host: str, since: str) -> None:
        self.pid = pid
        self.host = host
        self.since = since
        super().__init__(f"state is locked by pid {pid} on host {host} since {since}")


class StateLeaseLostError(StateError):
    """Another reconciler took over the lease this one held, so this one must stop acting.

    Every write to a shared state is conditional on the lease epoch its writer holds; a holder
    that was paused or cut off past the lease's TTL finds a higher epoch and is refused.
    """

    def __init__(self, *, state: str, epoch: int, current: int | None) -> None:
        self.epoch = epoch
        self.current = current
        now = "it was released" if current is None else f"epoch {current} holds it now"
        super().__init__(
            f"lost the lease on state {state}: this reconciler held epoch {epoch} and {now}; "
            "it stops acting rather than write over the new holder"
        )


class SettingError(ReconcilerError):
    """A command-line flag or environment variable whose value cannot work: it is refused before
    anything is read or sent, naming the setting (never echoing its value, which may hold a
    credential)."""


class UnsafePlanError(ReconcilerError):
    """A plan a safety rule refuses: mass delete, a protected agent, deletes after load errors."""


class PassDeadlineError(ReconcilerError):
    """A pass ran past its deadline and was stopped; what finished is in the state."""


class ApplyError(ReconcilerError):
    """Some actions of an apply failed; ``report`` says which and why."""

    def __init__(self, message: str, *, report: Any = None) -> None:
        self.report = report
        super().__init__(message)
