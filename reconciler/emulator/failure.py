"""The one way the emulator says no: an ``ApiFailure`` that app.py turns into an error body.

This is not part of reconciler's exception tree (``reconciler.errors`` is what callers of the API
see); it is the server side of the same conversation, the emulator's equivalent of moto's
``JsonRESTError``. It carries exactly what the real API puts on the wire: status, ``reason`` and
``detail``, plus the odd extra field. It must not know about routes or responses.
"""

from __future__ import annotations

from typing import Any, Final

from reconciler.agora.wire import Reason

# The reason the emulator gives for a status when nothing more specific applies (injected faults,
# rate limits). The docs publish no reason-to-status table (§5.4), so this is our pick.
REASON_BY_STATUS: Final[dict[int, Reason]] = {
    400: Reason.INVALID_FIELD_VALUE,
    401: Reason.INVALID_PERMISSION,
    403: Reason.SERVICE_NOT_ENABLED,
    404: Reason.TASK_NOT_FOUND,
    409: Reason.TASK_CONFLICT,
    422: Reason.RESOURCE_QUOTA_LIMIT_EXCEEDED,
    429: Reason.CONCURRENCY_LIMIT_EXCEEDED,
    500: Reason.INTERNAL_ERROR,
    501: Reason.NOT_IMPLEMENTED,
    502: Reason.INTERNAL_ERROR,
    503: Reason.SERVICE_UNAVAILABLE,
    504: Reason.TASK_OPERATION_TIMEOUT,
}


def reason_for(status: int) -> str:
    """The reason that goes with a status, ``InternalError`` for one we have no mapping for."""
    return REASON_BY_STATUS.get(status, Reason.INTERNAL_ERROR).value


class ApiFailure(Exception):
    """An error answer of the emulated API: ``{"detail", "reason"}`` with an HTTP status."""

    def __init__(
        self,
        *,
        status: int,
        reason: str,
        detail: str,
        retry_after: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after
        self.extra = extra or {}
        super().__init__(f"HTTP {status} {reason}: {detail}")


def not_found(agent_id: str) -> ApiFailure:
    """404 ``TaskNotFound``: the agent never existed here, or is gone for this endpoint."""
    return ApiFailure(
        status=404,
        reason=Reason.TASK_NOT_FOUND,
        detail=f"agent {agent_id} not found or has exited",
    )


def invalid(field: str, problem: str) -> ApiFailure:
    """400 ``InvalidFieldValue`` naming the field, as the API's pydantic-style messages do."""
    return ApiFailure(status=400, reason=Reason.INVALID_FIELD_VALUE, detail=f"{field}: {problem}")
