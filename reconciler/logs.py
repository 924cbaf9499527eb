"""Structured logging for the entrypoints, and the secret masking every log line passes through.

``configure_logging`` is called once, by an entrypoint; library code only asks structlog for a
logger. ``mask_secrets`` is the last line of defence, not the first: code must still never put a
secret into an event. This module must not decide what gets logged, and must never store a
secret anywhere but the in-memory set that masking needs.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from reconciler import secret_fields

MASK: Final = "***"

# Credentials recognisable by shape wherever they appear in text.
_CREDENTIAL_PATTERNS: Final = (
    re.compile(r"(?i)\b(agora\s+token=)\S+"),
    # A Basic or Bearer credential has a digit or a symbol, which tells it from a plain word.
    re.compile(r"\b(Basic\s+)(?=[A-Za-z]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}"),
    re.compile(r"\b(Bearer\s+)(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/-]{8,}=*"),
    re.compile(r"()\b007eJ[A-Za-z0-9+/]{16,}={0,2}"),
)

# Shorter values are not credentials, and masking them would garble every line.
_MIN_REGISTERED_LENGTH: Final = 4
_registered: set[str] = set()
# The registered values, longest first (so a value holding another is masked whole), sorted once
# per registration rather than once per masked string: every field of every event is masked.
_longest_first: list[str] = []
# Each pattern runs only on text holding its (case-sensitive) anchor: every event field is
# masked, and most hold no "=" (which the first pattern needs, in any case), so it rarely runs.
_ANCHORS: Final = ("=", "Basic", "Bearer", "007eJ")


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it appears in any later log line (e.g. a resolved ``${env:}``)."""
    if len(value) >= _MIN_REGISTERED_LENGTH and value not in _registered:
        _registered.add(value)
        _longest_first[:] = sorted(_registered, key=len, reverse=True)


def secret_values(data: Any) -> set[str]:
    """Every string held under a secret key anywhere in ``data`` (dicts and lists, any depth)."""
    found: set[str] = set()
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(key, str) and secret_fields.is_secret_name(key):
                found.update(_strings(value))
            else:
                found.update(secret_values(value))
    elif isinstance(data, list | tuple):
        for item in data:
            found.update(secret_values(item))
    return found


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with registered secrets, the ``extra`` values and credential-shaped words masked."""
    extra = tuple(extra)
    values = (
        sorted(
            {v for v in (*_registered, *extra) if len(v) >= _MIN_REGISTERED_LENGTH},
            key=len,
            reverse=True,
        )
        if extra
        else _longest_first
    )
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, anchor in zip(_CREDENTIAL_PATTERNS, _ANCHORS, strict=True):
        if anchor in text:
            text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


# Top-level event fields of our own vocabulary whose names only look secret: ``key`` is an agent's
# manifest key (``project/name``). Nested mappings still mask a ``key`` (a TTS vendor's key).
_EVENT_FIELDS: Final = frozenset({"key"})


def mask_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secret-keyed values and secret text at any depth."""
    return {
        name: _mask(value) if name in _EVENT_FIELDS else _mask_field(name, value)
        for name, value in event_dict.items()
    }


def configure_logging(
    *, json: bool | None = None, level: str = "info", file: TextIO | None = None
) -> None:
    """Send structured logs to stderr (or ``file``, say ``apply --log-file``): readable on a
    terminal, one JSON object a line otherwise.

    ``NO_COLOR`` turns the terminal colours off.
    """
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        raise ValueError(f"unknown log level {level!r}")
    threshold = levels[level.upper()]
    target = file or sys.stderr
    as_json = not target.isatty() if json is None else json
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(
            colors=target.isatty() and not os.environ.get("NO_COLOR")
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(file=target),
        # Caching would pin loggers to this configuration and defeat capture_logs in tests.
        cache_logger_on_first_use=False,
    )
    # httpx logs every request URL at INFO through stdlib logging; our own event replaces it.
    logging.basicConfig(stream=sys.stderr, level=max(threshold, logging.WARNING), force=True)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return _mask_mapping(value)
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_mask(item) for item in value)
    return value


def _mask_mapping(value: Mapping[Any, Any]) -> dict[Any, Any]:
    return {key: _mask_field(key, item) for key, item in value.items()}


def _mask_field(key: Any, value: Any) -> Any:
    if isinstance(key, str) and secret_fields.holds_secret(key, value) and value not in (None, ""):
        return MASK
    return _mask(value)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
