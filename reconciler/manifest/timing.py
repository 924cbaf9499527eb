"""The field types of time in manifests: durations, cron expressions and time zones.

Rollouts, change windows and agent schedules all take them, so they are checked the same way
everywhere and the JSON schema shows the same patterns. Pure: validation only.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from typing import Annotated, Final

from pydantic import AfterValidator, Field

from reconciler.recurrence import check_cron, check_time_zone

DURATION_PATTERN: Final = r"^\d+(\.\d+)?(ms|s|m|h)$"
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@functools.lru_cache(maxsize=256)
def duration_seconds(text: str) -> float:
    """Seconds in ``500ms``, ``30s``, ``5m`` or ``1h``; ValueError for anything else.

    Cached: every agent of a fleet resolves the same few durations.
    """
    match = re.fullmatch(DURATION_PATTERN, text)
    if match is None:
        raise ValueError(f"must be a duration such as 0s, 30s, 5m or 1h, got {text!r}")
    return float(text[: match.start(2)]) * _UNIT_SECONDS[match.group(2)]


def as_timedelta(text: str) -> timedelta:
    """``text`` (a checked duration) as a timedelta."""
    return timedelta(seconds=duration_seconds(text))


def _check_duration(text: str) -> str:
    duration_seconds(text)
    return text


Duration = Annotated[
    str, AfterValidator(_check_duration), Field(json_schema_extra={"pattern": DURATION_PATTERN})
]
"""A duration such as ``30s``, ``5m`` or ``8h``, kept as written so plans can quote it."""

Cron = Annotated[
    str,
    AfterValidator(check_cron),
    Field(json_schema_extra={"examples": ["0 9 * * 1-5"]}),
]
"""A five-field cron expression, walked in its window's time zone."""

TimeZoneName = Annotated[
    str,
    AfterValidator(check_time_zone),
    Field(json_schema_extra={"examples": ["Europe/Berlin", "UTC"]}),
]
"""An IANA time zone name."""
