"""Secrets by reference (``${env:NAME}``, ``${file:PATH}``), secret fields, and fingerprints.

Manifests live in git, so a secret is never written in one: a secret field holds a reference that
is resolved only when a value is really needed (an apply, or ``validate --resolve-secrets``).
This module parses and resolves references, knows which field names carry secrets (the loader's
literal-secret check and the log masking both ask it), and fingerprints values with a keyed
hash so a rotated secret shows up as a change without being stored. It must never put a secret
value into a message, a repr or a log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from reconciler.errors import ManifestError
from reconciler.manifest.diagnostics import Loc, SourceLocation, field_path
from reconciler.secret_fields import holds_secret as holds_secret
from reconciler.secret_fields import is_secret_name as is_secret_name
from reconciler.secret_fields import is_secret_path as is_secret_path

REFERENCE_PATTERN: Final = r"\$\{(env|file):([^}]*)\}"
_REFERENCE: Final = re.compile(REFERENCE_PATTERN)
_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FINGERPRINT_HEX_CHARS: Final = 16


@dataclass(frozen=True, slots=True)
class SecretRef:
    """One reference; ``str()`` gives it back as written, which is safe to show anywhere."""

    kind: Literal["env", "file"]
    target: str

    def __str__(self) -> str:
        return f"${{{self.kind}:{self.target}}}"

    def problem(self) -> str | None:
        """Why this reference can never resolve, or None when it is well formed."""
        if self.kind == "env" and not _ENV_NAME.fullmatch(self.target):
            return f"{self} is not a valid environment variable name (letters, digits and _)"
        if self.kind == "file" and not self.target.strip():
            return f"{self} names no file"
        return None


def _ref(match: re.Match[str]) -> SecretRef:
    kind: Literal["env", "file"] = "env" if match.group(1) == "env" else "file"
    return SecretRef(kind, match.group(2))


def find_references(text: str) -> tuple[SecretRef, ...]:
    """Every reference inside ``text``; a value such as ``Bearer ${env:TOKEN}`` holds one."""
    return tuple(_ref(match) for match in _REFERENCE.finditer(text))


def is_reference(value: object) -> bool:
    """Whether a value keeps its secret out of the manifest: it holds at least one reference."""
    return isinstance(value, str) and _REFERENCE.search(value) is not None


def strings_with_references(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value that holds a reference: the ones to fingerprint."""
    for _, text in scan(value).references:
        yield text


@dataclass(frozen=True, slots=True)
class Scan:
    """Where a JSON-like value holds secret fields, and which of its strings hold references.

    A secret field's value is not searched for more secret fields (a literal ``credentials``
    mapping is one mistake, not one per key), but it is searched for references.
    """

    secret_fields: tuple[tuple[Loc, Any], ...]
    references: tuple[tuple[Loc, str], ...]


def scan(value: Any, loc: Loc = ()) -> Scan:
    """One walk over ``value`` that finds both, so a big fleet is walked once per document."""
    fields: list[tuple[Loc, Any]] = []
    references: list[tuple[Loc, str]] = []
    _scan(value, loc, fields, references)
    return Scan(tuple(fields), tuple(references))


def _scan(
    value: Any,
    loc: Loc,
    fields: list[tuple[Loc, Any]] | None,
    references: list[tuple[Loc, str]],
) -> None:
    if isinstance(value, str):
        if "${" in value and _REFERENCE.search(value):
            references.append((loc, value))
    elif isinstance(value, Mapping):
        for name, item in value.items():
            here = (*loc, name)
            if fields is not None and isinstance(name, str) and holds_secret(name, item):
                fields.append((here, item))
                _scan(item, here, None, references)
            else:
                _scan(item, here, fields, references)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _scan(item, (*loc, index), fields, references)


def secret_locations(value: Any, loc: Loc = ()) -> Iterator[tuple[Loc, Any]]:
    """Path tuple and value of every secret field inside a JSON-like value (not looking deeper)."""
    yield from scan(value, loc).secret_fields


def walk_secret_fields(properties: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Dotted path and value of every secret field: ``("tts.params.key", "${env:TTS_KEY}")``."""
    for loc, value in secret_locations(properties):
        yield field_path(loc), value


class SecretUnavailableError(ManifestError):
    """A reference that cannot be resolved: names the variable or file and where it is used."""

    def __init__(
        self,
        *,
        ref: SecretRef,
        message: str,
        where: SourceLocation | None,
        field: str | None,
    ) -> None:
        self.ref = ref
        super().__init__(
            path=where.file if where else "(manifest)",
            line=where.line if where else None,
            field=field,
            message=message,
        )


def resolve(
    ref: SecretRef,
    *,
    environ: Mapping[str, str],
    base_dir: Path,
    where: SourceLocation | None = None,
    field: str | None = None,
) -> str:
    """The value a reference stands for.

    A relative ``file:`` path is taken from ``base_dir``, the directory of the manifest that holds
    the reference; one trailing newline is dropped, as editors and ``echo`` add it. ``where`` and
    ``field`` only make the error say where the reference is used.
    """
    problem = ref.problem()
    if problem:
        raise SecretUnavailableError(ref=ref, message=problem, where=where, field=field)
    if ref.kind == "env":
        if ref.target not in environ:
            message = f"environment variable {ref.target} is not set"
            raise SecretUnavailableError(ref=ref, message=message, where=where, field=field)
        return environ[ref.target]
    file = (base_dir / Path(ref.target).expanduser()).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        message = f"secret file {file} cannot be read: {reason}"
        raise SecretUnavailableError(ref=ref, message=message, where=where, field=field) from None
    return text.removesuffix("\n").removesuffix("\r")


def resolve_text(
    text: str,
    *,
    environ: Mapping[str, str],
    base_dir: Path,
    where: SourceLocation | None = None,
    field: str | None = None,
) -> str:
    """``text`` with every reference in it replaced by its value (``Bearer ${env:T}`` works)."""

    def substitute(match: re.Match[str]) -> str:
        return resolve(_ref(match), environ=environ, base_dir=base_dir, where=where, field=field)

    return _REFERENCE.sub(substitute, text)


def fingerprint(value: str, *, key: bytes) -> str:
    """A short keyed hash: equal for equal values under one key, useless to guess a value from."""
    digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_HEX_CHARS]
