"""What the Agora API's answers mean: a non-2xx status as a ``reconciler.errors`` exception, a
2xx body as its typed ``wire`` model.

It keeps the API's reason and detail, masks the secrets it is given before cutting a detail
short, and names the fields of a body off the contract without showing their values. It must not
send, resend or decide what a failure means for the fleet: that is the client's and its callers'.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from reconciler import errors, logs
from reconciler.agora import wire

_DETAIL_MAX: Final = 300

M = TypeVar("M", bound=BaseModel)


# The 422s Agora documents are its quota ("Access limit exceeded"); one with another reason is a
# validation failure, which no resend or later pass can fix.
_QUOTA_REASONS: Final = (
    wire.Reason.RESOURCE_QUOTA_LIMIT_EXCEEDED.value,
    wire.Reason.CONCURRENCY_LIMIT_EXCEEDED.value,
)


def error_from(
    response: httpx.Response,
    *,
    endpoint: wire.Endpoint,
    hidden: set[str],
    retry_after: float | None,
) -> errors.ApiError:
    """The exception for a non-2xx answer, keeping the API's reason and (masked) detail."""
    status = response.status_code
    reason, detail, extra = read_error_body(response)
    if detail is not None:
        # Masked before it is cut short: a secret across the cut would otherwise leak its start.
        detail = truncate(logs.redact(detail, hidden))
    common: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "detail": detail,
        "endpoint": endpoint.value,
    }
    if status in (401, 403):
        return errors.AuthError(**common)
    if status == 404:
        return errors.NotFoundError(**common)
    if status == 409:
        holder = extra.get("agent_id") or extra.get("taskId")
        return errors.ConflictError(
            existing_agent_id=holder if isinstance(holder, str) and holder else None, **common
        )
    if status == 422 and reason in (None, *_QUOTA_REASONS):
        return errors.QuotaExceededError(**common)
    if status == 429:
        return errors.RateLimitedError(retry_after=retry_after, **common)
    if status >= 500:
        return errors.ServerError(**common)
    return errors.InvalidRequestError(**common)


def read_error_body(response: httpx.Response) -> tuple[str | None, str | None, dict[str, Any]]:
    """``(reason, detail, other fields)`` from the current or legacy error shape, or raw text.

    The detail comes back whole and unmasked: the caller masks it, then cuts it short.
    """
    try:
        body = wire.ErrorBody.model_validate_json(response.content)
    except ValidationError:
        text = response.text.strip()
        return None, text or None, {}
    extra = dict(body.model_extra or {})
    reason = body.reason or _str_or_none(extra.get("statusCode"))
    detail = body.detail or _str_or_none(extra.get("message"))
    return reason, detail, extra


def decode(model: type[M], response: httpx.Response, endpoint: wire.Endpoint) -> M:
    """The typed body of a 2xx answer; a body off the contract is an error that names the fields."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        # Not chained: the validation error would carry the body's values into tracebacks.
        raise errors.ApiError(
            status=response.status_code,
            detail=truncate(f"response does not match the API contract: {problems}"),
            endpoint=endpoint.value,
        ) from None


def truncate(text: str) -> str:
    """A detail cut to a length fit for a log line or an exception message."""
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
