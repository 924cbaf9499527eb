"""Remote agent names: ``<prefix>-<slug>-g<generation>``, deterministic and single-use.

Agora names are single-use (a reused name is a 409), so every join gets the next generation of its
key, and a retried join reuses its own name so that a lost reply turns into a detectable conflict.
The slug keeps the manifest key readable (``/`` becomes ``--``) and falls back to a short hash when
the key holds characters a name may not, would be ambiguous, or is too long.

Pure string functions: no state, no API, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

NAME_MAX_BYTES: Final = 64
# Room kept for "-g" and six digits, so that a key's slug does not change as generations grow.
_GENERATION_ROOM: Final = len("-g999999")
_HASH_LEN: Final = 8
_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_GENERATION = re.compile(r"(?P<slug>.+)-g(?P<generation>[1-9][0-9]*)")


@dataclass(frozen=True)
class ParsedName:
    """The parts of a name that carries our prefix."""

    slug: str
    generation: int


def slug(key: str, *, prefix: str) -> str:
    """The part of a remote name that stands for the key ``project/name``."""
    readable = key.replace("/", "--")
    budget = NAME_MAX_BYTES - len(prefix) - 1 - _GENERATION_ROOM
    ambiguous = any("--" in part for part in key.split("/")) or key.count("/") != 1
    if _NAME_CHARS.fullmatch(readable) and not ambiguous and len(readable) <= budget:
        return readable
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_LEN]
    cleaned = _UNSAFE.sub("_", readable).strip("_-")
    head = cleaned[: budget - _HASH_LEN - 1].rstrip("_-")
    return f"{head}-{digest}" if head else digest


def remote_name(*, prefix: str, key: str, generation: int) -> str:
    """The name under which generation ``generation`` of ``key`` joins."""
    if generation < 1:
        raise ValueError(f"generation must be at least 1, got {generation}")
    return f"{prefix}-{slug(key, prefix=prefix)}-g{generation}"


def parse(name: str, *, prefix: str) -> ParsedName | None:
    """Split a name made by ``remote_name`` with this prefix; None for anyone else's name."""
    head = f"{prefix}-"
    if not name.startswith(head):
        return None
    match = _GENERATION.fullmatch(name[len(head) :])
    if match is None or not _NAME_CHARS.fullmatch(match["slug"]):
        return None
    return ParsedName(slug=match["slug"], generation=int(match["generation"]))
