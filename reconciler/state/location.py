"""Where a state lives, as ``--state`` or ``RECONCILER_STATE`` names it: a file or a PostgreSQL URL.

A ``postgresql://`` (or ``postgres://``) URL selects the shared PostgreSQL backend; anything else
is the path of an SQLite file. The URL may carry a password, so the parsed location keeps the
connection string out of its ``repr`` and offers ``shown``, the URL with the password masked, for
every message. This module only parses: it opens nothing.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from reconciler.errors import StateError

POSTGRES_SCHEMES: Final = ("postgresql", "postgres")
DEFAULT_SCHEMA: Final = "reconciler"
_SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")

StateTarget = str | Path
"""What callers pass around: the ``--state`` text as given, or a path."""


@dataclass(frozen=True, slots=True)
class PostgresLocation:
    """A state in schema ``schema`` of the database ``conninfo`` connects to.

    ``conninfo`` is the URL without the ``schema`` parameter (libpq does not know it) and may hold
    a password; ``shown`` is safe to print.
    """

    conninfo: str = field(repr=False)
    schema: str
    shown: str

    def __str__(self) -> str:
        return self.shown


StateLocation = Path | PostgresLocation


def is_postgres(target: StateTarget) -> bool:
    """Whether ``target`` names a PostgreSQL state rather than a file."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in POSTGRES_SCHEMES


def parse_location(target: StateTarget) -> StateLocation:
    """A path for a file, a ``PostgresLocation`` for a URL; ``StateError`` for a bad URL.

    The schema comes from a ``schema=NAME`` query parameter (default ``reconciler``), so several
    fleets can keep their states in one database, each in its own schema.
    """
    if not is_postgres(target):
        return Path(target)
    assert isinstance(target, str)  # is_postgres holds only for text
    parts = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    kept = [(name, value) for name, value in query if name != "schema"]
    shown = _masked(parts, kept=kept, schemas=schemas)
    if len(schemas) > 1:
        raise StateError(f"state {shown}: give schema= at most once")
    schema = schemas[0] if schemas else DEFAULT_SCHEMA
    if not _SCHEMA_NAME.fullmatch(schema):
        raise StateError(
            f"state {shown}: schema {schema!r} must be lower-case letters, digits and _ "
            "(at most 63, not starting with a digit)"
        )
    conninfo = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(kept)))
    return PostgresLocation(conninfo=conninfo, schema=schema, shown=shown)


def _masked(
    parts: urllib.parse.SplitResult, *, kept: list[tuple[str, str]], schemas: list[str]
) -> str:
    """The URL as the user wrote it but with any password (in the netloc or the query) masked."""
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = [(name, "***" if name == "password" else value) for name, value in kept]
    query += [("schema", schema) for schema in schemas]
    return urllib.parse.urlunsplit(
        parts._replace(netloc=netloc, query=urllib.parse.urlencode(query))
    )
