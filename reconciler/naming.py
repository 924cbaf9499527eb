"""Remote agent names: ``<prefix>-<slug>-g<generation>-<digest>``, deterministic and single-use.

Agora names are single-use (a reused name is a 409), so every join gets the next generation of its
key, and a retried join reuses its own name so that a lost reply turns into a detectable conflict.
The slug keeps the manifest key readable (``/`` becomes ``--``) and falls back to a short hash when
the key holds characters a name may not, would be ambiguous, or is too long. The digest is a short
hash of the agent's spec that ``update`` cannot change (``plan.diff.spec_digest``): with the
prefix, the slug and the generation, it is all that recovery needs to own a live agent again when
the state is lost. Names made before digests existed (``<prefix>-<slug>-g<generation>``) still
parse, with no digest, so they are recognised as ours but never recovered. The digest goes last
because a legacy name always ends in ``-g<digits>`` and a new one never does, so neither form can
be read as the other (a legacy hashed slug ends in hex digits too).

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
DIGEST_LEN: Final = 8
_DIGEST_ROOM: Final = 1 + DIGEST_LEN
_DIGEST = re.compile(r"[0-9a-f]{8}")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_DIGESTED = re.compile(r"(?P<slug>.+)-g(?P<generation>[1-9][0-9]*)-(?P<digest>[0-9a-f]{8})")
_LEGACY = re.compile(r"(?P<slug>.+)-g(?P<generation>[1-9][0-9]*)")


@dataclass(frozen=True)
class ParsedName:
    """The parts of a name that carries our prefix; ``digest`` is None in a name made before
    digests existed."""

    slug: str
    generation: int
    digest: str | None = None


def slug(key: str, *, prefix: str) -> str:
    """The part of a remote name that stands for the key ``project/name``."""
    readable = key.replace("/", "--")
    budget = NAME_MAX_BYTES - len(prefix) - 1 - _DIGEST_ROOM - _GENERATION_ROOM
    ambiguous = any("--" in part for part in key.split("/")) or key.count("/") != 1
    if _NAME_CHARS.fullmatch(readable) and not ambiguous and len(readable) <= budget:
        return readable
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_LEN]
    cleaned = _UNSAFE.sub("_", readable).strip("_-")
    head = cleaned[: budget - _HASH_LEN - 1].rstrip("_-")
    return f"{head}-{digest}" if head else digest


def remote_name(*, prefix: str, key: str, generation: int, digest: str | None = None) -> str:
    """The name under which generation ``generation`` of ``key`` joins, carrying ``digest``.

    Without a digest, the form names had before digests existed, which old states still hold.
    """
    if generation < 1:
        raise ValueError(f"generation must be at least 1, got {generation}")
    if digest is None:
        return f"{prefix}-{slug(key, prefix=prefix)}-g{generation}"
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"digest must be {DIGEST_LEN} lowercase hex digits, got {digest!r}")
    return f"{prefix}-{slug(key, prefix=prefix)}-g{generation}-{digest}"


def next_generation(name: str, *, prefix: str, key: str, generation: int) -> str:
    """``name`` (of ``key``) with its generation set to ``generation``, keeping its digest."""
    parsed = parse(name, prefix=prefix)
    digest = parsed.digest if parsed is not None else None
    return remote_name(prefix=prefix, key=key, generation=generation, digest=digest)


def parse(name: str, *, prefix: str) -> ParsedName | None:
    """Split a name made by ``remote_name`` with this prefix; None for anyone else's name."""
    head = f"{prefix}-"
    if not name.startswith(head):
        return None
    rest = name[len(head) :]
    match = _DIGESTED.fullmatch(rest)
    digest = match["digest"] if match is not None else None
    match = match or _LEGACY.fullmatch(rest)
    if match is None or not _NAME_CHARS.fullmatch(match["slug"]):
        return None
    return ParsedName(slug=match["slug"], generation=int(match["generation"]), digest=digest)
