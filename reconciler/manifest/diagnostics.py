"""Diagnostics: one problem in the manifests, located to file, line, column and field path.

Values only: this module neither finds problems nor prints them. A message says what is wrong and
what to do; it must never quote the value of a secret field, so whoever builds one for such a
field describes the mistake, not what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reconciler.errors import ManifestError

Severity = Literal["error", "warning"]
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a definition starts, so later stages can point a person back at the manifest."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem; ``line`` and ``column`` are 1-based, and None when a whole file is at fault."""

    path: str
    line: int | None
    column: int | None
    field: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line or 0, self.column or 0, self.field or "", self.message)

    def to_error(self) -> ManifestError:
        """The same problem as an exception, for callers that must stop at one."""
        return ManifestError(path=self.path, line=self.line, field=self.field, message=self.message)


def field_path(loc: Sequence[str | int]) -> str:
    """``("spec", "channels", 2)`` → ``spec.channels[2]``: how people write paths into YAML."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
