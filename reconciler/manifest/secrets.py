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
import os
import queue
import re
import stat
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from reconciler.errors import ManifestError
from reconciler.identity_memo import KeptBy
from reconciler.manifest.diagnostics import Loc, SourceLocation, field_path
from reconciler.secret_fields import holds_secret as holds_secret
from reconciler.secret_fields import is_secret_name as is_secret_name
from reconciler.secret_fields import is_secret_path as is_secret_path

MAX_FILE_BYTES: Final = 64 * 1024
# A secret file on a hung network or FUSE file system must not hold a load (or CI) forever.
FILE_READ_SECONDS: Final = 5.0
# Where container runtimes and systemd put secrets; the fleet's own directory is allowed too.
SYSTEM_SECRET_DIRS: Final = ("/run/secrets", "/var/run/secrets")
CREDENTIALS_ENV: Final = "CREDENTIALS_DIRECTORY"
SECRETS_DIRS_ENV: Final = "RECONCILER_SECRETS_DIRS"
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
    yield from ReferenceTexts().of(value)


class ReferenceTexts:
    """``strings_with_references`` for many values that share parts, walking each shared part once.

    The agents of one AgentSet share their template's mappings and lists, so a fleet of 10,000
    agents holds a few distinct ``llm`` mappings, not 10,000. A part is remembered by identity
    (``identity_memo``): use one finder for one pass over values that do not change meanwhile.
    """

    def __init__(self) -> None:
        self._seen: KeptBy[tuple[str, ...]] = KeptBy()

    def of(self, value: Any) -> tuple[str, ...]:
        """The strings inside ``value`` that hold a reference, in the order a walk meets them."""
        if isinstance(value, str):
            return (value,) if "${" in value and _REFERENCE.search(value) else ()
        if not isinstance(value, Mapping | list | tuple):
            return ()
        items = value.values() if isinstance(value, Mapping) else value
        return self._seen.get(
            value, None, lambda: tuple(text for item in items for text in self.of(item))
        )


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
    """A reference that cannot be resolved: names the variable or file and where it is used
    (with ``exact``, the column of the reference itself, not the start of a definition)."""

    def __init__(
        self,
        *,
        ref: SecretRef,
        message: str,
        where: SourceLocation | None,
        field: str | None,
        exact: bool = False,
    ) -> None:
        self.ref = ref
        super().__init__(
            path=where.file if where else "(manifest)",
            line=where.line if where else None,
            field=field,
            message=message,
            column=where.column if where and exact else None,
        )

    def at(self, site: SourceLocation, field: str) -> SecretUnavailableError:
        """The same error, pointing at the reference as written (``reference_sites``)."""
        return SecretUnavailableError(
            ref=self.ref, message=self.message, where=site, field=field, exact=True
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
        text = _read_in_time(file)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        message = f"secret file {file} cannot be read: {reason}"
        raise SecretUnavailableError(ref=ref, message=message, where=where, field=field) from None
    except _Refused as exc:
        message = f"secret file {file} {exc}"
        raise SecretUnavailableError(ref=ref, message=message, where=where, field=field) from None
    return text.removesuffix("\n").removesuffix("\r")


class _Refused(Exception):
    """A secret file that is not one: a device, FIFO, socket or directory, or too big."""


def _kind_problem(mode: int, size: int) -> str | None:
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, FIFO, socket or directory is never read)"
    if size > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES // 1024} KiB, the most a secret file may hold"
    return None


def _read_in_time(file: Path) -> str:
    """``_read_small_file`` bounded in time: a read that has not finished is given up on.

    The read runs in a daemon thread, the one way to stop waiting on a ``stat`` or ``read`` that
    the kernel does not return from; the thread is left to finish (or not) on its own and never
    keeps the process from exiting.
    """
    seconds = FILE_READ_SECONDS
    box: queue.Queue[tuple[str | None, BaseException | None]] = queue.Queue(maxsize=1)

    def read() -> None:
        try:
            box.put((_read_small_file(file), None))
        except BaseException as exc:  # handed to the waiting thread, which raises it
            box.put((None, exc))

    threading.Thread(target=read, name="secret-file-read", daemon=True).start()
    try:
        text, error = box.get(timeout=seconds)
    except queue.Empty:
        raise _Refused(
            f"did not answer within {seconds:g} s (a hung network or FUSE file system?)"
        ) from None
    if error is not None:
        raise error
    assert text is not None
    return text


def _read_small_file(file: Path) -> str:
    """A regular file's text, at most ``MAX_FILE_BYTES``; anything else is refused unread.

    Checked before opening (a FIFO would block ``open``, a device may act on it) and again on
    the open file (it may have been swapped in between); non-blocking, and never more read
    than the limit, so ``/dev/zero`` or a growing file cannot exhaust memory.
    """
    before = os.stat(file)
    problem = _kind_problem(before.st_mode, before.st_size)
    if problem:
        raise _Refused(problem)
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        problem = _kind_problem(opened.st_mode, opened.st_size)
        if problem:
            raise _Refused(problem)
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _Refused(_kind_problem(stat.S_IFREG, len(data)) or "is too large")
    return data.decode("utf-8")


def allowed_roots(fleet_root: Path, *, environ: Mapping[str, str]) -> tuple[Path, ...]:
    """The directories a ``${file:}`` reference may point into, symlinks resolved.

    The fleet's own directory, ``/run/secrets`` and ``/var/run/secrets`` (Docker, Kubernetes),
    ``$CREDENTIALS_DIRECTORY`` (systemd), and every directory in ``RECONCILER_SECRETS_DIRS``
    (``--secrets-dir``), separated by ``os.pathsep``. A pull request's manifests are read by
    CI: without this, ``${file:/home/runner/.ssh/id_rsa}`` would be one review away.
    """
    root = fleet_root if fleet_root.is_dir() else fleet_root.parent
    named = [str(root), *SYSTEM_SECRET_DIRS, environ.get(CREDENTIALS_ENV, "")]
    named.extend(environ.get(SECRETS_DIRS_ENV, "").split(os.pathsep))
    return tuple(dict.fromkeys(Path(d).expanduser().resolve() for d in named if d.strip()))


def file_problem(ref: SecretRef, *, base_dir: Path, roots: tuple[Path, ...]) -> str | None:
    """Why the loader refuses a ``${file:}`` reference, without reading it; None if it may stay.

    Its target (symlinks resolved) must be inside an allowed root; when it exists already it
    must be a regular file within the size limit. A file that does not exist yet is fine here:
    it may be mounted only where the fleet is applied.
    """
    if ref.kind != "file" or ref.problem() is not None:
        return None
    target = (base_dir / Path(ref.target).expanduser()).resolve()
    if not any(target == root or root in target.parents for root in roots):
        where = ", ".join(str(r) for r in roots)
        return (
            f"{ref} points outside the directories secret files may be read from ({where}); "
            f"add its directory with --secrets-dir"
        )
    try:
        found = os.stat(target)
    except OSError:
        return None
    problem = _kind_problem(found.st_mode, found.st_size)
    return None if problem is None else f"{ref} {problem}"


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
